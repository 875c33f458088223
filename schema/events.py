"""Event and Attendance: club meetings and who took part, in which role."""

from datetime import datetime
from typing import Self

import strawberry

import schema.organizations as organization_types
import schema.working_groups as working_group_types
from club.access import Audience
from club.ids import decode_id
from db import models
from resolvers.context import Info
from schema.enums import AttendanceRole, EventKind, EventStatus
from schema.fields import contributes_to, relation
from schema.ids import encode_id
from schema.payloads import Payload, UserError
from schema.refs import OrganizationRef, WorkingGroupRef
from schema.visibility import restricted


@strawberry.federation.type(keys=["id"], description="A club meeting: online, in person or both.")
class Event:
    id: strawberry.ID
    title: str
    description: str | None
    kind: EventKind
    status: EventStatus
    starts_at: datetime
    ends_at: datetime
    meeting_url: str | None = strawberry.field(
        description="Visible to admins, member organizations and the host.",
        extensions=restricted(Audience.CLUB),
    )
    cancellation_reason: str | None
    pk: strawberry.Private[int]
    host_id: strawberry.Private[int]
    working_group_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.Event) -> Self:
        return cls(
            id=encode_id("Event", row.id),
            title=row.title,
            description=row.description,
            kind=row.kind,
            status=row.status,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            meeting_url=row.meeting_url,
            cancellation_reason=row.cancellation_reason,
            pk=row.id,
            host_id=row.host_id,
            working_group_id=row.working_group_id,
        )

    def owner_ids(self) -> frozenset[int]:
        return frozenset((self.host_id,))

    @strawberry.field(description="The organization that hosts it.")
    async def host(self, info: Info) -> OrganizationRef:
        row = await info.context.loaders.organization.load(self.host_id)
        assert row is not None, "events.host_id is a foreign key"
        return organization_types.Organization.from_row(row)

    @strawberry.field
    async def working_group(self, info: Info) -> WorkingGroupRef | None:
        if self.working_group_id is None:
            return None
        row = await info.context.loaders.working_group.load(self.working_group_id)
        return working_group_types.WorkingGroup.from_row(row) if row else None

    @strawberry.field
    async def attendances(self, info: Info) -> list["Attendance"]:
        rows = await info.context.loaders.attendances_of_event.load(self.pk)
        return [Attendance.from_row(row) for row in rows]

    @strawberry.field(description="Organizations that attended as guests.")
    async def guests(self, info: Info) -> list[OrganizationRef]:
        rows = await info.context.loaders.attendances_of_event.load(self.pk)
        guest_ids = [row.organization_id for row in rows if row.role is AttendanceRole.GUEST]
        organizations = await info.context.loaders.organization.load_many(guest_ids)
        return [organization_types.Organization.from_row(row) for row in organizations if row]

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Self | None:
        row = await info.context.loaders.event.load(decode_id("Event", id))
        return cls.from_row(row) if row else None


@strawberry.type(description="An organization's participation in an event.")
class Attendance:
    id: strawberry.ID
    role: AttendanceRole
    recorded_at: datetime
    event_id: strawberry.Private[int]
    organization_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Attendance) -> Self:
        return cls(
            id=encode_id("Attendance", row.id),
            role=row.role,
            recorded_at=row.recorded_at,
            event_id=row.event_id,
            organization_id=row.organization_id,
        )

    @strawberry.field
    async def event(self, info: Info) -> Event:
        row = await info.context.loaders.event.load(self.event_id)
        assert row is not None, "attendances.event_id is a foreign key"
        return Event.from_row(row)

    @strawberry.field
    async def organization(self, info: Info) -> OrganizationRef:
        row = await info.context.loaders.organization.load(self.organization_id)
        assert row is not None, "attendances.organization_id is a foreign key"
        return organization_types.Organization.from_row(row)


@strawberry.input(description="Narrows `events`; all given conditions must hold.")
class EventFilter:
    starts_after: datetime | None = strawberry.field(
        default=None, description="Events starting at or after this time."
    )
    starts_before: datetime | None = strawberry.field(
        default=None, description="Events starting before this time."
    )
    status: EventStatus | None = None
    working_group_id: strawberry.ID | None = None


@strawberry.input(description="A new club meeting.")
class ScheduleEventInput:
    title: str
    kind: EventKind
    starts_at: datetime
    ends_at: datetime
    host_id: strawberry.ID | None = strawberry.field(
        default=None, description="ADMIN: the hosting member. Organizations host as themselves."
    )
    working_group_id: strawberry.ID | None = None
    meeting_url: str | None = None
    description: str | None = None


@strawberry.input(description="Fields to change; omitted fields stay, null clears one.")
class UpdateEventInput:
    title: str | None = strawberry.UNSET
    kind: EventKind | None = strawberry.UNSET
    starts_at: datetime | None = strawberry.UNSET
    ends_at: datetime | None = strawberry.UNSET
    working_group_id: strawberry.ID | None = strawberry.UNSET
    meeting_url: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET


@strawberry.input(description="Who took part in an event, in which role.")
class RecordAttendanceInput:
    event_id: strawberry.ID
    organization_id: strawberry.ID
    role: AttendanceRole


@strawberry.type
class EventPayload(Payload):
    event: Event | None
    errors: list[UserError]


@strawberry.type
class AttendancePayload(Payload):
    attendance: Attendance | None
    errors: list[UserError]


@contributes_to(organization_types.Organization)
class OrganizationEvents(organization_types.Organization):
    attendances: list[Attendance] = relation(
        "attendances_of_organization",
        key="pk",
        to=Attendance.from_row,
        many=True,
        list_size=20,
        description="Club events it attended, in any role.",
    )
    hosted_events: list[Event] = relation(
        "events_hosted_by", key="pk", to=Event.from_row, many=True, list_size=10
    )
