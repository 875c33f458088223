"""Event and Attendance: club meetings and who took part, in which role; the calendar; the
host's mutations. (An event's working group: schema/working_groups.py adds it.)"""

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Self

import strawberry

from club.access import Audience
from club.cursors import activity_cursor
from club.enums import MEETING_UPDATES
from club.ids import decode_id
from db import models
from db.notifier import LiveEvent
from resolvers import events
from resolvers.context import Info
from schema.domain import Domain, updates_as
from schema.enums import AttendanceRole, EventKind, EventStatus, MeetingUpdateKind
from schema.fields import contributes_to, field, relation
from schema.ids import encode_id
from schema.inputs import given
from schema.organizations import Organization
from schema.pagination import Connection
from schema.payloads import Payload, UserError


@strawberry.federation.type(keys=["id"], description="A club meeting: online, in person or both.")
class Event:
    id: strawberry.ID
    title: str
    description: str | None
    kind: EventKind
    status: EventStatus
    starts_at: datetime
    ends_at: datetime
    meeting_url: str | None = field(
        description="Visible to admins, member organizations and the host.",
        audience=Audience.CLUB,
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

    host: Organization = relation(
        "organization",
        key="host_id",
        to=Organization.from_row,
        description="The organization that hosts it.",
    )
    attendances: list["Attendance"] = relation(
        "attendances_of_event",
        key="pk",
        to=lambda row: Attendance.from_row(row),
        many=True,
        list_size=50,
    )

    @field(
        description="Organizations that attended as guests.",
        list_size=50,
        observed_by=events.GUESTS_OF_EVENT,
    )
    async def guests(self, info: Info) -> list[Organization]:
        rows = await info.context.loaders.attendances_of_event.load(self.pk)
        guest_ids = [row.organization_id for row in rows if row.role is AttendanceRole.GUEST]
        organizations = await info.context.loaders.organization.load_many(guest_ids)
        return [Organization.from_row(row) for row in organizations if row]

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

    event: Event = relation("event", key="event_id", to=Event.from_row)
    organization: Organization = relation(
        "organization", key="organization_id", to=Organization.from_row
    )


@contributes_to(Organization)
class OrganizationEvents(Organization):
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
    errors: list[UserError] = field(list_size=5)


@strawberry.type
class AttendancePayload(Payload):
    attendance: Attendance | None
    errors: list[UserError] = field(list_size=5)


@strawberry.type
class EventQueries:
    @field(description="The calendar, by start time.")
    async def events(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: EventFilter | None = None,
    ) -> Connection[Event]:
        page = await events.events(info, first=first, after=after, **given(filter))
        return Connection.of(page, Event.from_row)

    @field
    async def event(self, info: Info, id: strawberry.ID) -> Event | None:
        row = await events.event(info, id=id)
        return Event.from_row(row) if row else None


@strawberry.type
class EventMutations:
    @strawberry.mutation(description="Schedule a club meeting hosted by a member.")
    async def schedule_event(self, info: Info, input: ScheduleEventInput) -> EventPayload:
        return await EventPayload.of(events.schedule_event(info, **given(input)), Event.from_row)

    @strawberry.mutation(description="Change a scheduled event (its host or the secretariat).")
    async def update_event(
        self, info: Info, id: strawberry.ID, input: UpdateEventInput
    ) -> EventPayload:
        return await EventPayload.of(
            events.update_event(info, id=id, given=given(input)), Event.from_row
        )

    @strawberry.mutation(description="Cancel a scheduled event (its host or the secretariat).")
    async def cancel_event(
        self, info: Info, id: strawberry.ID, reason: str | None = None
    ) -> EventPayload:
        return await EventPayload.of(
            events.cancel_event(info, id=id, reason=reason), Event.from_row
        )

    @strawberry.mutation(
        description="Mark a started event completed (its host or the secretariat)."
    )
    async def complete_event(self, info: Info, id: strawberry.ID) -> EventPayload:
        return await EventPayload.of(events.complete_event(info, id=id), Event.from_row)

    @strawberry.mutation(
        description="Record who took part in an event, and as what (its host or the secretariat)."
    )
    async def record_attendance(
        self, info: Info, input: RecordAttendanceInput
    ) -> AttendancePayload:
        return await AttendancePayload.of(
            events.record_attendance(info, **given(input)), Attendance.from_row
        )


@strawberry.type(description="A meeting was scheduled, changed, cancelled, completed or attended.")
class MeetingUpdate:
    cursor: str
    kind: MeetingUpdateKind
    event: Event
    occurred_at: datetime

    @classmethod
    def from_live(cls, live: LiveEvent) -> Self:
        event = live.subject_as(models.Event)
        assert event is not None, "meeting rows name the event"
        return cls(
            cursor=activity_cursor(live.id),
            kind=MEETING_UPDATES[live.kind],
            event=Event.from_row(event),
            occurred_at=live.entry.occurred_at,
        )


@strawberry.type
class EventSubscriptions:
    @strawberry.subscription(
        description="Changes to meetings (of one event or working group, if given). With "
        "`after`, first every one since that cursor."
    )
    async def meeting_updates(
        self,
        info: Info,
        event_id: strawberry.ID | None = None,
        working_group_id: strawberry.ID | None = None,
        after: str | None = None,
    ) -> AsyncGenerator[MeetingUpdate, None]:
        followed = await events.meeting_updates(
            info, event_id=event_id, working_group_id=working_group_id, after=after
        )
        return updates_as(followed, MeetingUpdate.from_live)


DOMAIN = Domain(query=EventQueries, mutation=EventMutations, subscription=EventSubscriptions)
