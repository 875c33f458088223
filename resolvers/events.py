"""Events: the calendar, single lookups, and the host's mutations (schedule, change,
cancel, complete, record attendance)."""

from collections.abc import AsyncGenerator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from club import rules
from club.access import acting_organization, organization_acted_for
from club.enums import (
    MEETING_UPDATES,
    ActivityKind,
    AttendanceRole,
    EventKind,
    EventStatus,
    Role,
)
from club.errors import ErrorCode, PayloadRefusal, found
from club.ids import decode_id, id_of
from club.times import utc_argument, utc_time
from club.validation import (
    DESCRIPTION_LENGTH,
    MESSAGE_LENGTH,
    TITLE_LENGTH,
    optional_text,
    text,
    web_address,
)
from db import models
from db.activity import Subject, append_activity
from db.notifier import LiveEvent
from resolvers.context import Info
from resolvers.list_sizes import fan_out
from resolvers.mutations import locked, mutation, transaction
from resolvers.pagination import Page, SortOrder, page_size, paginate
from resolvers.subscriptions import follow

BY_START = SortOrder("events", (models.Event.starts_at, models.Event.id))


# `Event.guests`: the attendances of an event in the GUEST role.
GUESTS_OF_EVENT = fan_out(
    "guests_of_event", models.Attendance.event_id, models.Attendance.role == AttendanceRole.GUEST
)


async def events(
    info: Info,
    *,
    first: int | None = None,
    after: str | None = None,
    starts_after: datetime | None = None,
    starts_before: datetime | None = None,
    status: EventStatus | None = None,
    working_group_id: str | None = None,
) -> Page[models.Event]:
    statement = select(models.Event)
    if starts_after is not None:
        statement = statement.where(models.Event.starts_at >= utc_argument(starts_after))
    if starts_before is not None:
        statement = statement.where(models.Event.starts_at < utc_argument(starts_before))
    if status is not None:
        statement = statement.where(models.Event.status == status)
    if working_group_id is not None:
        working_group = decode_id("WorkingGroup", working_group_id, field="workingGroupId")
        statement = statement.where(models.Event.working_group_id == working_group)
    return await paginate(
        info.context.session_factory,
        statement,
        BY_START,
        first=page_size(first, info.context.settings),
        after=after,
    )


async def event(info: Info, *, id: str) -> models.Event | None:
    return await info.context.loaders.event.load(decode_id("Event", id))


async def _working_group_id(session: AsyncSession, given: str | None) -> int | None:
    if given is None:
        return None
    pk = id_of("WorkingGroup", given, "workingGroupId")
    found(await session.get(models.WorkingGroup, pk), "working group", "workingGroupId")
    return pk


@mutation(Role.ADMIN, Role.ORGANIZATION)
async def schedule_event(
    info: Info,
    *,
    title: str,
    kind: EventKind,
    starts_at: datetime,
    ends_at: datetime,
    host_id: str | None = None,
    working_group_id: str | None = None,
    meeting_url: str | None = None,
    description: str | None = None,
) -> models.Event:
    """A member (or the secretariat for one) schedules a meeting it hosts."""
    context = info.context
    host_pk = organization_acted_for(context.principal, host_id, "hostId")
    title = text(title, "title", min_length=3, max_length=TITLE_LENGTH)
    starts_at = utc_time(starts_at, "startsAt")
    ends_at = utc_time(ends_at, "endsAt")
    may_backdate = context.principal.role is Role.ADMIN
    refusal = rules.check_schedule(starts_at, ends_at, now=context.now, may_backdate=may_backdate)
    if refusal:
        raise refusal
    meeting_url = web_address(meeting_url, "meetingUrl")
    description = optional_text(
        description, "description", max_length=DESCRIPTION_LENGTH, multiline=True
    )
    async with transaction(info) as session:
        host = found(await session.get(models.Organization, host_pk), "organization", "hostId")
        if refusal := rules.check_host(host.facts()):
            raise refusal
        row = models.Event(
            title=title,
            description=description,
            kind=kind,
            status=EventStatus.SCHEDULED,
            starts_at=starts_at,
            ends_at=ends_at,
            meeting_url=meeting_url,
            host_id=host_pk,
            working_group_id=await _working_group_id(session, working_group_id),
            created_at=context.now,
        )
        session.add(row)
        await session.flush()
        await _log(session, ActivityKind.EVENT_SCHEDULED, row, context.now)
    return row


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
    row = await locked(session, models.Event, pk, "event")
    principal = info.context.principal
    if principal.role is not Role.ADMIN and acting_organization(principal) != row.host_id:
        raise PayloadRefusal(
            ErrorCode.FORBIDDEN, "Only the host or the secretariat may do this.", "id"
        )
    return row


async def _has_attendance(session: AsyncSession, event_id: int) -> bool:
    return bool(
        await session.scalar(select(exists().where(models.Attendance.event_id == event_id)))
    )


@mutation(Role.ADMIN, Role.ORGANIZATION)
async def update_event(info: Info, *, id: str, given: Mapping[str, Any]) -> models.Event:
    """The host (or the secretariat) changes an open event. `given` holds the fields to
    change (python names); None clears one."""
    changes: dict[str, Any] = {}
    if "title" in given:
        changes["title"] = text(
            given["title"] or "", "title", min_length=3, max_length=TITLE_LENGTH
        )
    if "kind" in given:
        if given["kind"] is None:
            raise PayloadRefusal(ErrorCode.INVALID_INPUT, "`kind` cannot be cleared.", "kind")
        changes["kind"] = given["kind"]
    for field, column in (("startsAt", "starts_at"), ("endsAt", "ends_at")):
        if column in given:
            if given[column] is None:
                raise PayloadRefusal(
                    ErrorCode.INVALID_INPUT, f"`{field}` cannot be cleared.", field
                )
            changes[column] = utc_time(given[column], field)
    if "meeting_url" in given:
        changes["meeting_url"] = web_address(given["meeting_url"], "meetingUrl")
    if "description" in given:
        changes["description"] = optional_text(
            given["description"], "description", max_length=DESCRIPTION_LENGTH, multiline=True
        )
    async with transaction(info) as session:
        row = await _event_for_change(info, session, id)
        now = info.context.clock()  # when the event's lock was obtained
        if refusal := rules.check_event_open(row.status):
            raise refusal
        if "working_group_id" in given:
            changes["working_group_id"] = await _working_group_id(
                session, given["working_group_id"]
            )
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
        if "starts_at" in changes:
            # Attendance is recorded under this event's lock too, so none can appear meanwhile.
            refusal = rules.check_start_change(
                changes["starts_at"],
                now=now,
                attendance_recorded=await _has_attendance(session, row.id),
            )
            if refusal:
                raise refusal
        for column, value in changes.items():
            setattr(row, column, value)
        await session.flush()
        await _log(session, ActivityKind.EVENT_UPDATED, row, now, changed=sorted(changes))
    return row


@mutation(Role.ADMIN, Role.ORGANIZATION)
async def cancel_event(info: Info, *, id: str, reason: str | None = None) -> models.Event:
    cancellation_reason = optional_text(reason, "reason", max_length=MESSAGE_LENGTH, multiline=True)
    async with transaction(info) as session:
        row = await _event_for_change(info, session, id)
        now = info.context.clock()
        if refusal := rules.check_event_open(row.status):
            raise refusal
        row.status = EventStatus.CANCELLED
        row.cancellation_reason = cancellation_reason
        await session.flush()
        await _log(session, ActivityKind.EVENT_CANCELLED, row, now)
    return row


@mutation(Role.ADMIN, Role.ORGANIZATION)
async def complete_event(info: Info, *, id: str) -> models.Event:
    async with transaction(info) as session:
        row = await _event_for_change(info, session, id)
        now = info.context.clock()  # started or not when the lock was obtained
        if refusal := rules.check_completion(row.status, row.starts_at, now):
            raise refusal
        row.status = EventStatus.COMPLETED
        await session.flush()
        await _log(session, ActivityKind.EVENT_COMPLETED, row, now)
    return row


@mutation(Role.ADMIN, Role.ORGANIZATION)
async def record_attendance(
    info: Info, *, event_id: str, organization_id: str, role: AttendanceRole
) -> models.Attendance:
    """The host (or the secretariat) records who took part, and as what."""
    attendee_id = id_of("Organization", organization_id, "organizationId")
    async with transaction(info) as session:
        event = await _event_for_change(info, session, event_id)
        now = info.context.clock()  # started or not when the lock was obtained
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
            role=role,
            already_recorded=bool(already),
        )
        if refusal:
            raise refusal
        row = models.Attendance(
            event_id=event.id, organization_id=attendee_id, role=role, recorded_at=now
        )
        session.add(row)
        await session.flush()
        await append_activity(
            session,
            ActivityKind.ATTENDANCE_RECORDED,
            occurred_at=now,
            subject=Subject.of(models.Event, event.id),
            related={"organization_id": attendee_id, "working_group_id": event.working_group_id},
            payload={"role": role.value},
        )
    return row


async def meeting_updates(
    info: Info,
    *,
    event_id: str | None = None,
    working_group_id: str | None = None,
    after: str | None = None,
) -> AsyncGenerator[LiveEvent, None]:
    """Changes to meetings (of one event or working group, if given), from the activity log:
    await it, then iterate (closing the generator unsubscribes)."""
    event_pk = None if event_id is None else decode_id("Event", event_id, field="eventId")
    group_pk = (
        None
        if working_group_id is None
        else decode_id("WorkingGroup", working_group_id, field="workingGroupId")
    )

    def wants(live: LiveEvent) -> bool:
        event = live.subject_as(models.Event)
        return (
            live.kind in MEETING_UPDATES
            and event is not None
            and (event_pk is None or event.id == event_pk)
            and (group_pk is None or event.working_group_id == group_pk)
        )

    return follow(info, wants, after)
