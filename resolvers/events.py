"""Events: the calendar, single lookups, and the host's mutations (schedule, change,
cancel, complete, record attendance)."""

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET

from club import rules
from club.access import acting_organization, organization_acted_for
from club.enums import ActivityKind, EventStatus, Role
from club.errors import ErrorCode, PayloadRefusal, found
from club.ids import decode_id, id_of
from club.times import utc_argument, utc_time
from club.validation import optional_text, text, web_address
from db import models
from db.activity import Subject, append_activity
from resolvers.context import Info
from resolvers.mutations import mutation_with_payload, transaction
from resolvers.pagination import SortOrder, page_size, paginate
from schema.events import (
    Attendance,
    AttendancePayload,
    Event,
    EventFilter,
    EventPayload,
    RecordAttendanceInput,
    ScheduleEventInput,
    UpdateEventInput,
)
from schema.pagination import Connection

BY_START = SortOrder("events", (models.Event.starts_at, models.Event.id))


async def events(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    filter: EventFilter | None = None,
) -> Connection[Event]:
    statement = select(models.Event)
    if filter is not None:
        if filter.starts_after is not None:
            statement = statement.where(models.Event.starts_at >= utc_argument(filter.starts_after))
        if filter.starts_before is not None:
            statement = statement.where(models.Event.starts_at < utc_argument(filter.starts_before))
        if filter.status is not None:
            statement = statement.where(models.Event.status == filter.status)
        if filter.working_group_id is not None:
            working_group = decode_id(
                "WorkingGroup", filter.working_group_id, field="workingGroupId"
            )
            statement = statement.where(models.Event.working_group_id == working_group)
    page = await paginate(
        info.context.session_factory,
        statement,
        BY_START,
        first=page_size(first, info.context.settings),
        after=after,
    )
    return Connection.of(page, Event.from_row)


async def event(info: Info, id: strawberry.ID) -> Event | None:
    row = await info.context.loaders.event.load(decode_id("Event", id))
    return Event.from_row(row) if row else None


async def _working_group_id(session: AsyncSession, given: str | None) -> int | None:
    if given is None:
        return None
    pk = id_of("WorkingGroup", given, "workingGroupId")
    found(await session.get(models.WorkingGroup, pk), "working group", "workingGroupId")
    return pk


@mutation_with_payload(EventPayload, Role.ADMIN, Role.ORGANIZATION)
async def schedule_event(info: Info, input: ScheduleEventInput) -> Event:
    """A member (or the secretariat for one) schedules a meeting it hosts."""
    context = info.context
    host_id = organization_acted_for(context.principal, input.host_id, "hostId")
    title = text(input.title, "title", min_length=3, max_length=200)
    starts_at = utc_time(input.starts_at, "startsAt")
    ends_at = utc_time(input.ends_at, "endsAt")
    may_backdate = context.principal.role is Role.ADMIN
    refusal = rules.check_schedule(starts_at, ends_at, now=context.now, may_backdate=may_backdate)
    if refusal:
        raise refusal
    meeting_url = web_address(input.meeting_url, "meetingUrl")
    description = optional_text(input.description, "description", max_length=5000)
    async with transaction(info) as session:
        host = found(await session.get(models.Organization, host_id), "organization", "hostId")
        if refusal := rules.check_host(host.facts()):
            raise refusal
        row = models.Event(
            title=title,
            description=description,
            kind=input.kind,
            status=EventStatus.SCHEDULED,
            starts_at=starts_at,
            ends_at=ends_at,
            meeting_url=meeting_url,
            host_id=host_id,
            working_group_id=await _working_group_id(session, input.working_group_id),
            created_at=context.now,
        )
        session.add(row)
        await session.flush()
        await _log(session, ActivityKind.EVENT_SCHEDULED, row, context.now)
    return Event.from_row(row)


async def _log(
    session: AsyncSession, kind: ActivityKind, row: models.Event, now: datetime, **payload: Any
) -> None:
    await append_activity(
        session,
        kind,
        occurred_at=now,
        subject=Subject.of(models.Event, row.id),
        related={"organization_id": row.host_id, "working_group_id": row.working_group_id},
        payload=payload,
    )


async def _event_for_change(info: Info, session: AsyncSession, id: str) -> models.Event:
    """The event, locked, if the caller is the secretariat or its host."""
    pk = id_of("Event", id, "id")
    row = found(
        await session.scalar(
            select(models.Event).where(models.Event.id == pk).with_for_update(key_share=True)
        ),
        "event",
    )
    principal = info.context.principal
    if principal.role is not Role.ADMIN and acting_organization(principal) != row.host_id:
        raise PayloadRefusal(
            ErrorCode.FORBIDDEN, "Only the host or the secretariat may do this.", "id"
        )
    return row


@mutation_with_payload(EventPayload, Role.ADMIN, Role.ORGANIZATION)
async def update_event(info: Info, id: strawberry.ID, input: UpdateEventInput) -> Event:
    now = info.context.now
    changes: dict[str, Any] = {}
    if input.title is not UNSET:
        changes["title"] = text(input.title or "", "title", min_length=3, max_length=200)
    if input.kind is not UNSET:
        if input.kind is None:
            raise PayloadRefusal(ErrorCode.INVALID_INPUT, "`kind` cannot be cleared.", "kind")
        changes["kind"] = input.kind
    for field, column in (("startsAt", "starts_at"), ("endsAt", "ends_at")):
        value = getattr(input, column)
        if value is not UNSET:
            if value is None:
                raise PayloadRefusal(
                    ErrorCode.INVALID_INPUT, f"`{field}` cannot be cleared.", field
                )
            changes[column] = utc_time(value, field)
    if input.meeting_url is not UNSET:
        changes["meeting_url"] = web_address(input.meeting_url, "meetingUrl")
    if input.description is not UNSET:
        changes["description"] = optional_text(input.description, "description", max_length=5000)
    async with transaction(info) as session:
        row = await _event_for_change(info, session, id)
        if refusal := rules.check_event_open(row.status):
            raise refusal
        if input.working_group_id is not UNSET:
            changes["working_group_id"] = await _working_group_id(session, input.working_group_id)
        refusal = rules.check_schedule(
            changes.get("starts_at", row.starts_at),
            changes.get("ends_at", row.ends_at),
            now=now,
            # Moving a meeting into the past is the secretariat's to record; an unchanged start
            # that has passed (a running meeting) may stay.
            may_backdate=info.context.principal.role is Role.ADMIN or "starts_at" not in changes,
        )
        if refusal:
            raise refusal
        for column, value in changes.items():
            setattr(row, column, value)
        await session.flush()
        await _log(session, ActivityKind.EVENT_UPDATED, row, now, changed=sorted(changes))
    return Event.from_row(row)


@mutation_with_payload(EventPayload, Role.ADMIN, Role.ORGANIZATION)
async def cancel_event(info: Info, id: strawberry.ID, reason: str | None = None) -> Event:
    now = info.context.now
    cancellation_reason = optional_text(reason, "reason", max_length=2000)
    async with transaction(info) as session:
        row = await _event_for_change(info, session, id)
        if refusal := rules.check_event_open(row.status):
            raise refusal
        row.status = EventStatus.CANCELLED
        row.cancellation_reason = cancellation_reason
        await session.flush()
        await _log(session, ActivityKind.EVENT_CANCELLED, row, now)
    return Event.from_row(row)


@mutation_with_payload(EventPayload, Role.ADMIN, Role.ORGANIZATION)
async def complete_event(info: Info, id: strawberry.ID) -> Event:
    now = info.context.now
    async with transaction(info) as session:
        row = await _event_for_change(info, session, id)
        if refusal := rules.check_completion(row.status, row.starts_at, now):
            raise refusal
        row.status = EventStatus.COMPLETED
        await session.flush()
        await _log(session, ActivityKind.EVENT_COMPLETED, row, now)
    return Event.from_row(row)


@mutation_with_payload(AttendancePayload, Role.ADMIN, Role.ORGANIZATION)
async def record_attendance(info: Info, input: RecordAttendanceInput) -> Attendance:
    """The host (or the secretariat) records who took part, and as what."""
    now = info.context.now
    attendee_id = id_of("Organization", input.organization_id, "organizationId")
    async with transaction(info) as session:
        event = await _event_for_change(info, session, input.event_id)
        attendee = found(
            await session.get(models.Organization, attendee_id), "organization", "organizationId"
        )
        already = await session.scalar(
            select(
                exists().where(
                    models.Attendance.event_id == event.id,
                    models.Attendance.organization_id == attendee_id,
                )
            )
        )
        refusal = rules.check_attendance(
            event_status=event.status,
            event_started=event.starts_at <= now,
            event_host_id=event.host_id,
            attendee=attendee.facts(),
            role=input.role,
            already_recorded=bool(already),
        )
        if refusal:
            raise refusal
        row = models.Attendance(
            event_id=event.id, organization_id=attendee_id, role=input.role, recorded_at=now
        )
        session.add(row)
        await session.flush()
        await append_activity(
            session,
            ActivityKind.ATTENDANCE_RECORDED,
            occurred_at=now,
            subject=Subject.of(models.Event, event.id),
            related={"organization_id": attendee_id, "working_group_id": event.working_group_id},
            payload={"role": input.role.value},
        )
    return Attendance.from_row(row)
