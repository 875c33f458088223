"""Invitation and InvitationQuota: how a guest becomes a member. Visible to admins and to
the inviter and the invitee only. The `invitation` query and the mutations that invite,
accept, decline and revoke; an organization's invitations and quota."""

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Self

import strawberry

from club.access import Audience
from club.cursors import activity_cursor
from club.enums import INVITATION_UPDATES
from club.rules import effective_invitation_status
from db import models
from db.notifier import LiveEvent
from resolvers import invitations
from resolvers.context import Info
from resolvers.loaders import InviterYearKey, Loaders
from schema.domain import Domain, updates_as
from schema.enums import InvitationStatus, InvitationUpdateKind
from schema.fields import contributes_to, field, relation
from schema.ids import encode_id
from schema.inputs import given
from schema.organizations import Organization
from schema.payloads import Payload, UserError


@strawberry.federation.type(keys=["id"], description="A member's invitation to a guest.")
class Invitation:
    id: strawberry.ID
    message: str | None
    year: int = strawberry.field(description="Calendar year (UTC) whose quota it counts against.")
    created_at: datetime
    expires_at: datetime
    responded_at: datetime | None

    # Declared as an attribute, not a decorated method, so that it keeps its place in the SDL.
    def _status(self, info: Info) -> InvitationStatus:
        return effective_invitation_status(self.stored_status, self.expires_at, info.context.now)

    status: InvitationStatus = field(
        resolver=_status,
        description="EXPIRED once a pending invitation passes `expiresAt`.",
        clock=True,
    )
    stored_status: strawberry.Private[InvitationStatus]
    pk: strawberry.Private[int]
    inviter_id: strawberry.Private[int]
    invitee_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Invitation) -> Self:
        return cls(
            id=encode_id("Invitation", row.id),
            stored_status=row.status,
            message=row.message,
            year=row.year,
            created_at=row.created_at,
            expires_at=row.expires_at,
            responded_at=row.responded_at,
            pk=row.id,
            inviter_id=row.inviter_id,
            invitee_id=row.invitee_id,
        )

    def owner_ids(self) -> frozenset[int]:
        return frozenset((self.inviter_id, self.invitee_id))

    # Foreign keys: the organizations exist.
    inviter: Organization = relation("organization", key="inviter_id", to=Organization.from_row)
    invitee: Organization = relation("organization", key="invitee_id", to=Organization.from_row)

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Self | None:
        row = await invitations.invitation(info, id=id)
        return cls.from_row(row) if row else None


@strawberry.type(description="How many invitations a member may still send in a year.")
class InvitationQuota:
    year: int
    limit: int
    used: int
    remaining: int

    @classmethod
    def of(cls, *, year: int, limit: int, used: int) -> Self:
        return cls(year=year, limit=limit, used=used, remaining=max(limit - used, 0))


@strawberry.input(description="Invite a guest to join the club.")
class InviteOrganizationInput:
    invitee_id: strawberry.ID
    message: str | None = None
    inviter_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="ADMIN only: the member that invites. Organizations invite as themselves.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Any string up to 100 characters, unique per attempt: a retry with the same "
        "key in the same quota year returns the first invitation and uses no second slot of the "
        "quota.",
    )


@strawberry.type
class InvitationPayload(Payload):
    invitation: Invitation | None
    errors: list[UserError] = field(list_size=5)


@contributes_to(Organization)
class OrganizationInvitations(Organization):
    @field(
        description="Invitations it sent (in `year`, if given). Admins and itself only.",
        audience=Audience.OWNERS,
        list_size=10,
        observed_by=Loaders.invitations_sent.observed(),
    )
    async def invitations_sent(
        self, info: Info, year: int | None = None
    ) -> list[Invitation] | None:
        rows = await info.context.loaders.invitations_sent.load(InviterYearKey(self.pk, year))
        return [Invitation.from_row(row) for row in rows]

    invitations_received: list[Invitation] | None = relation(
        "invitations_received",
        key="pk",
        to=Invitation.from_row,
        many=True,
        list_size=10,
        audience=Audience.OWNERS,
        description="Invitations it received. Admins and itself only.",
    )

    @field(
        description="Invitations it may still send in `year` (default: this year, UTC). "
        "Admins and itself only.",
        audience=Audience.OWNERS,
        clock=True,
    )
    async def invitation_quota(self, info: Info, year: int | None = None) -> InvitationQuota | None:
        year = info.context.now.year if year is None else year
        sent = await info.context.loaders.invitations_sent.load(InviterYearKey(self.pk, year))
        return InvitationQuota.of(
            year=year, limit=info.context.settings.invitation_quota, used=len(sent)
        )


@strawberry.type
class InvitationQueries:
    @field(description="An invitation; null unless the caller is an admin, its inviter or invitee.")
    async def invitation(self, info: Info, id: strawberry.ID) -> Invitation | None:
        row = await invitations.invitation(info, id=id)
        return Invitation.from_row(row) if row else None


@strawberry.type
class InvitationMutations:
    @strawberry.mutation(
        description="A member invites a guest that attended a club event as a guest. "
        "Organizations invite as themselves; ADMIN names the inviter."
    )
    async def invite_organization(
        self, info: Info, input: InviteOrganizationInput
    ) -> InvitationPayload:
        return await InvitationPayload.of(
            invitations.invite_organization(info, **given(input)), Invitation.from_row
        )

    @strawberry.mutation(
        description="The invitee accepts a pending invitation and becomes a member."
    )
    async def accept_invitation(self, info: Info, id: strawberry.ID) -> InvitationPayload:
        return await InvitationPayload.of(
            invitations.accept_invitation(info, id=id), Invitation.from_row
        )

    @strawberry.mutation(description="The invitee declines a pending invitation.")
    async def decline_invitation(self, info: Info, id: strawberry.ID) -> InvitationPayload:
        return await InvitationPayload.of(
            invitations.decline_invitation(info, id=id), Invitation.from_row
        )

    @strawberry.mutation(
        description="The inviter withdraws a pending invitation; its quota slot stays used."
    )
    async def revoke_invitation(self, info: Info, id: strawberry.ID) -> InvitationPayload:
        return await InvitationPayload.of(
            invitations.revoke_invitation(info, id=id), Invitation.from_row
        )


@strawberry.type(description="An invitation to or from the caller's organization changed.")
class InvitationUpdate:
    cursor: str
    kind: InvitationUpdateKind
    invitation: Invitation
    occurred_at: datetime

    @classmethod
    def from_live(cls, live: LiveEvent) -> Self:
        invitation = live.subject_as(models.Invitation)
        assert invitation is not None, "invitation rows name the invitation"
        return cls(
            cursor=activity_cursor(live.id),
            kind=INVITATION_UPDATES[live.kind],
            invitation=Invitation.from_row(invitation),
            occurred_at=live.entry.occurred_at,
        )


@strawberry.type
class InvitationSubscriptions:
    @strawberry.subscription(
        description="Invitations the caller's organization sent or received. With `after`, "
        "first every one since that cursor."
    )
    async def invitation_updates(
        self, info: Info, after: str | None = None
    ) -> AsyncGenerator[InvitationUpdate, None]:
        followed = await invitations.invitation_updates(info, after=after)
        return updates_as(followed, InvitationUpdate.from_live)


DOMAIN = Domain(
    query=InvitationQueries, mutation=InvitationMutations, subscription=InvitationSubscriptions
)
