"""Rules that hold whatever happens later (docs/security.md, "Rules that hold whatever
happens later"): for each rule whose facts a later mutation can change, that change is
refused, or the rule asks again when it is used. One test per rule and change."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from club.access import Principal
from club.enums import AttendanceRole, Role
from db.models import Attendance, Event
from schema.ids import encode_id
from tests.factories import add, country_ids, event, organization
from tests.snapshots import snapshot

NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
SCHEDULE = """
mutation($input: ScheduleEventInput!) {
  scheduleEvent(input: $input) { event { id } errors { code } }
}
"""
RECORD = """
mutation($input: RecordAttendanceInput!) {
  recordAttendance(input: $input) { attendance { role } errors { code field } }
}
"""
UPDATE = """
mutation($id: ID!, $input: UpdateEventInput!) {
  updateEvent(id: $id, input: $input) { event { title startsAt } errors { code message field } }
}
"""
CANCEL = "mutation($id: ID!) { cancelEvent(id: $id) { event { status } errors { code } } }"
INVITE = """
mutation($input: InviteOrganizationInput!) {
  inviteOrganization(input: $input) { invitation { id status } errors { code message field } }
}
"""
ACCEPT = """
mutation($id: ID!) {
  acceptInvitation(id: $id) {
    invitation { status invitee { status } } errors { code message field }
  }
}
"""


@dataclass
class Club:
    host: Principal
    guest: Principal
    guest_id: str


@pytest.fixture
async def club(session_factory: Any) -> Club:
    md = (await country_ids(session_factory, "MD"))["MD"]
    host = organization(md, member=True, slug="host")
    guest = organization(md, slug="guest", name="Guest Org")
    await add(session_factory, host, guest)
    return Club(
        Principal(Role.ORGANIZATION, organization_id=host.id, organization_is_member=True),
        Principal(Role.ORGANIZATION, organization_id=guest.id, organization_is_member=False),
        encode_id("Organization", guest.id),
    )


async def payload_of(run: Any, query: str, variables: dict[str, Any], **context: Any) -> Any:
    response = await run(query, variables, **context)
    assert "errors" not in response, response
    (payload,) = response["data"].values()
    return payload


async def attended_meeting(run: Any, club: Club) -> str:
    """The attack's first half: the host schedules its meeting a minute ahead, and records
    the guest's attendance once it has started."""
    meeting = {
        "title": "Soon",
        "kind": "ONLINE_MEETING",
        "startsAt": "2026-09-01T09:01:00Z",
        "endsAt": "2026-09-01T10:00:00Z",
    }
    scheduled = await payload_of(run, SCHEDULE, {"input": meeting}, principal=club.host, now=NOW)
    event_id: str = scheduled["event"]["id"]
    attend = {"eventId": event_id, "organizationId": club.guest_id, "role": "GUEST"}
    recorded = await payload_of(
        run, RECORD, {"input": attend}, principal=club.host, now=NOW + timedelta(minutes=2)
    )
    assert recorded == {"attendance": {"role": "GUEST"}, "errors": []}
    return event_id


async def test_an_event_with_attendance_is_not_moved_into_the_future(
    session_factory: Any, club: Club, run: Any
) -> None:
    """recordAttendance / updateEvent: refused. Moved years ahead, the guest's attendance
    would be of a meeting that has not happened, and still qualify it for an invitation."""
    event_id = await attended_meeting(run, club)
    later = NOW + timedelta(minutes=3)
    before = await snapshot(session_factory)
    moved = await payload_of(
        run,
        UPDATE,
        {
            "id": event_id,
            "input": {"startsAt": "2030-01-01T09:00:00Z", "endsAt": "2030-01-01T10:00:00Z"},
        },
        principal=club.host,
        now=later,
    )
    assert moved == {
        "event": None,
        "errors": [
            {
                "code": "EVENT_HAS_ATTENDANCE",
                "message": "Attendance of this event is recorded: it cannot start in the future.",
                "field": "startsAt",
            }
        ],
    }
    assert await snapshot(session_factory) == before
    # Whatever else changes may change; a start still in the past too (the secretariat's).
    retitled = await payload_of(
        run, UPDATE, {"id": event_id, "input": {"title": "Held"}}, principal=club.host, now=later
    )
    assert retitled == {
        "event": {"title": "Held", "startsAt": "2026-09-01T09:01:00+00:00"},
        "errors": [],
    }
    backdated = await payload_of(
        run,
        UPDATE,
        {"id": event_id, "input": {"startsAt": "2026-09-01T09:00:00Z"}},
        principal=Principal(Role.ADMIN),
        now=later,
    )
    assert backdated["errors"] == []


async def test_an_event_without_attendance_may_still_be_postponed(club: Club, run: Any) -> None:
    """A meeting that started and that nobody attended (none recorded) may move ahead."""
    meeting = {
        "title": "Soon",
        "kind": "ONLINE_MEETING",
        "startsAt": "2026-09-01T09:01:00Z",
        "endsAt": "2026-09-01T10:00:00Z",
    }
    scheduled = await payload_of(run, SCHEDULE, {"input": meeting}, principal=club.host, now=NOW)
    moved = await payload_of(
        run,
        UPDATE,
        {
            "id": scheduled["event"]["id"],
            "input": {"startsAt": "2026-09-08T09:01:00Z", "endsAt": "2026-09-08T10:00:00Z"},
        },
        principal=club.host,
        now=NOW + timedelta(minutes=3),
    )
    assert moved == {
        "event": {"title": "Soon", "startsAt": "2026-09-08T09:01:00+00:00"},
        "errors": [],
    }


async def test_an_attendance_at_an_event_that_starts_later_does_not_qualify_a_guest(
    session_factory: Any, club: Club, run: Any
) -> None:
    """recordAttendance / updateEvent, asked again at inviteOrganization: an attendance at an
    event that now starts in the future (as rows written before the refusal above may hold)
    is not "attended a club event as a guest"."""
    await attended_meeting(run, club)
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Event).values(
                starts_at=datetime(2030, 1, 1, 9, 0, tzinfo=UTC),
                ends_at=datetime(2030, 1, 1, 10, 0, tzinfo=UTC),
            )
        )
    member = organization((await country_ids(session_factory, "MD"))["MD"], member=True)
    await add(session_factory, member)
    inviter = Principal(Role.ORGANIZATION, organization_id=member.id, organization_is_member=True)
    before = await snapshot(session_factory)
    invited = await payload_of(
        run,
        INVITE,
        {"input": {"inviteeId": club.guest_id}},
        principal=inviter,
        now=NOW + timedelta(minutes=5),
    )
    assert invited == {
        "invitation": None,
        "errors": [
            {
                "code": "GUEST_ATTENDANCE_REQUIRED",
                "message": "Guest Org has not attended a club event as a guest yet.",
                "field": "inviteeId",
            }
        ],
    }
    assert await snapshot(session_factory) == before


async def test_an_invitation_is_not_accepted_once_the_attended_event_is_cancelled(
    session_factory: Any, club: Club, run: Any
) -> None:
    """inviteOrganization's guest attendance / cancelEvent, asked again at acceptInvitation:
    the only event the guest attended was cancelled after it was invited."""
    md = (await country_ids(session_factory, "MD"))["MD"]
    member = organization(md, member=True)
    await add(session_factory, member)
    meeting = event(member.id, starts_at=NOW - timedelta(days=1))
    await add(session_factory, meeting)
    await add(
        session_factory,
        Attendance(
            event_id=meeting.id,
            organization_id=club.guest.organization_id,
            role=AttendanceRole.GUEST,
            recorded_at=NOW,
        ),
    )
    inviter = Principal(Role.ORGANIZATION, organization_id=member.id, organization_is_member=True)
    invited = await payload_of(
        run, INVITE, {"input": {"inviteeId": club.guest_id}}, principal=inviter, now=NOW
    )
    assert invited["errors"] == []
    cancelled = await payload_of(
        run,
        CANCEL,
        {"id": encode_id("Event", meeting.id)},
        principal=Principal(Role.ADMIN),
        now=NOW,
    )
    assert cancelled == {"event": {"status": "CANCELLED"}, "errors": []}
    before = await snapshot(session_factory)
    accepted = await payload_of(
        run,
        ACCEPT,
        {"id": invited["invitation"]["id"]},
        principal=club.guest,
        now=NOW + timedelta(hours=1),
    )
    assert accepted == {
        "invitation": None,
        "errors": [
            {
                "code": "GUEST_ATTENDANCE_REQUIRED",
                "message": "Guest Org no longer has a club event it attended as a guest.",
                "field": None,
            }
        ],
    }
    assert await snapshot(session_factory) == before


async def test_attendance_judges_the_start_when_it_holds_the_events_lock(
    club: Club, run: Any
) -> None:
    """A request that began a second before the start and got the event's lock a second
    after it records the attendance: the event had started when it decided."""
    meeting = {
        "title": "Soon",
        "kind": "ONLINE_MEETING",
        "startsAt": "2026-09-01T09:01:00Z",
        "endsAt": "2026-09-01T10:00:00Z",
    }
    scheduled = await payload_of(run, SCHEDULE, {"input": meeting}, principal=club.host, now=NOW)
    starts_at = datetime(2026, 9, 1, 9, 1, tzinfo=UTC)
    attend = {"eventId": scheduled["event"]["id"], "organizationId": club.guest_id, "role": "GUEST"}
    recorded = await payload_of(
        run,
        RECORD,
        {"input": attend},
        principal=club.host,
        now=starts_at - timedelta(seconds=1),
        clock=lambda: starts_at + timedelta(seconds=1),
    )
    assert recorded == {"attendance": {"role": "GUEST"}, "errors": []}
