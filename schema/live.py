"""Live updates: what the subscriptions deliver. Every event carries an opaque `cursor`;
subscribe again with `after: <cursor>` to get what followed it."""

from datetime import datetime
from enum import StrEnum
from typing import Self

import strawberry

import schema.events as event_types
import schema.invitations as invitation_types
import schema.organizations as organization_types
from club.enums import ActivityKind
from club.ids import decode_id
from db import models
from db.notifier import LiveEvent
from resolvers.context import Info
from schema.ids import encode_id
from schema.refs import EventRef, InvitationRef, OrganizationRef


def activity_cursor(log_id: int) -> str:
    """The opaque cursor of a point in the activity log (0: its beginning)."""
    return encode_id("Activity", log_id)


def parse_activity_cursor(cursor: str) -> int:
    if cursor == activity_cursor(0):
        return 0
    return decode_id("Activity", cursor, field="after")


def cursor_of(live: LiveEvent) -> str:
    return activity_cursor(live.id)


@strawberry.type(description="An organization became a member.")
class MemberJoined:
    cursor: str
    organization: OrganizationRef
    joined_at: datetime
    sponsor_id: strawberry.Private[int | None]

    @classmethod
    def from_live(cls, live: LiveEvent) -> Self:
        joined = live.subject_as(models.Organization)
        assert joined is not None, "MEMBER_JOINED rows name the organization"
        return cls(
            cursor=cursor_of(live),
            organization=organization_types.Organization.from_row(joined),
            joined_at=live.entry.occurred_at,
            sponsor_id=joined.sponsor_id,
        )

    @strawberry.field(description="The member whose invitation it accepted.")
    async def sponsor(self, info: Info) -> OrganizationRef | None:
        if self.sponsor_id is None:
            return None
        row = await info.context.loaders.organization.load(self.sponsor_id)
        return organization_types.Organization.from_row(row) if row else None


@strawberry.enum(description="What happened to a meeting.")
class MeetingUpdateKind(StrEnum):
    SCHEDULED = "SCHEDULED"
    UPDATED = "UPDATED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"
    ATTENDANCE_RECORDED = "ATTENDANCE_RECORDED"


MEETING_KINDS = {
    ActivityKind.EVENT_SCHEDULED: MeetingUpdateKind.SCHEDULED,
    ActivityKind.EVENT_UPDATED: MeetingUpdateKind.UPDATED,
    ActivityKind.EVENT_CANCELLED: MeetingUpdateKind.CANCELLED,
    ActivityKind.EVENT_COMPLETED: MeetingUpdateKind.COMPLETED,
    ActivityKind.ATTENDANCE_RECORDED: MeetingUpdateKind.ATTENDANCE_RECORDED,
}


@strawberry.type(description="A meeting was scheduled, changed, cancelled, completed or attended.")
class MeetingUpdate:
    cursor: str
    kind: MeetingUpdateKind
    event: EventRef
    occurred_at: datetime

    @classmethod
    def from_live(cls, live: LiveEvent) -> Self:
        event = live.subject_as(models.Event)
        assert event is not None, "meeting rows name the event"
        return cls(
            cursor=cursor_of(live),
            kind=MEETING_KINDS[live.kind],
            event=event_types.Event.from_row(event),
            occurred_at=live.entry.occurred_at,
        )


@strawberry.enum(description="What happened to an invitation.")
class InvitationUpdateKind(StrEnum):
    SENT = "SENT"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


INVITATION_KINDS = {
    ActivityKind.INVITATION_SENT: InvitationUpdateKind.SENT,
    ActivityKind.INVITATION_ACCEPTED: InvitationUpdateKind.ACCEPTED,
    ActivityKind.INVITATION_DECLINED: InvitationUpdateKind.DECLINED,
    ActivityKind.INVITATION_REVOKED: InvitationUpdateKind.REVOKED,
    ActivityKind.INVITATION_EXPIRED: InvitationUpdateKind.EXPIRED,
}


@strawberry.type(description="An invitation to or from the caller's organization changed.")
class InvitationUpdate:
    cursor: str
    kind: InvitationUpdateKind
    invitation: InvitationRef
    occurred_at: datetime

    @classmethod
    def from_live(cls, live: LiveEvent) -> Self:
        invitation = live.subject_as(models.Invitation)
        assert invitation is not None, "invitation rows name the invitation"
        return cls(
            cursor=cursor_of(live),
            kind=INVITATION_KINDS[live.kind],
            invitation=invitation_types.Invitation.from_row(invitation),
            occurred_at=live.entry.occurred_at,
        )
