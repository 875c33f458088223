"""Events: scheduling, changing, cancelling, completing, and recording attendance."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from club.access import Principal
from club.enums import Role
from schema.ids import encode_id
from tests.factories import add, country_ids, organization
from tests.snapshots import snapshot

NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
SCHEDULE = """
mutation($input: ScheduleEventInput!) {
  scheduleEvent(input: $input) {
    event { id title kind status startsAt endsAt meetingUrl host { slug } }
    errors { code message field }
  }
}
"""
UPDATE = """
mutation($id: ID!, $input: UpdateEventInput!) {
  updateEvent(id: $id, input: $input) { event { title startsAt endsAt } errors { code field } }
}
"""
CANCEL = """
mutation($id: ID!) {
  cancelEvent(id: $id, reason: "Speaker unwell") {
    event { status cancellationReason } errors { code field }
  }
}
"""
COMPLETE = (
    "mutation($id: ID!) { completeEvent(id: $id) { event { status } errors { code field } } }"
)
RECORD = """
mutation($input: RecordAttendanceInput!) {
  recordAttendance(input: $input) {
    attendance { role recordedAt organization { slug } event { title } }
    errors { code message field }
  }
}
"""
MEETING = {
    "title": "Paralegals in the field",
    "kind": "ONLINE_MEETING",
    "startsAt": "2026-10-01T12:00:00+03:00",
    "endsAt": "2026-10-01T14:00:00+03:00",
    "meetingUrl": "https://meet.example.org/field",
}


@dataclass
class Club:
    host: Principal
    member: Principal
    guest: Principal

    @staticmethod
    def id(principal: Principal) -> str:
        return encode_id("Organization", principal.organization_id or 0)


@pytest.fixture
async def club(session_factory: Any) -> Club:
    md = (await country_ids(session_factory, "MD"))["MD"]
    host = organization(md, member=True, slug="host")
    member = organization(md, member=True, slug="member")
    guest = organization(md, slug="guest")
    await add(session_factory, host, member, guest)

    def as_(row: Any, is_member: bool) -> Principal:
        return Principal(
            Role.ORGANIZATION, organization_id=row.id, organization_is_member=is_member
        )

    return Club(as_(host, True), as_(member, True), as_(guest, False))


async def schedule(run: Any, principal: Principal, **change: Any) -> dict[str, Any]:
    response = await run(SCHEDULE, {"input": {**MEETING, **change}}, principal=principal, now=NOW)
    payload: dict[str, Any] = response["data"]["scheduleEvent"]
    return payload


async def test_a_member_hosts_a_meeting_from_schedule_to_completion(club: Club, run: Any) -> None:
    scheduled = await schedule(run, club.host)
    event_id = scheduled["event"]["id"]
    assert scheduled == {
        "event": {
            "id": event_id,
            "title": "Paralegals in the field",
            "kind": "ONLINE_MEETING",
            "status": "SCHEDULED",
            "startsAt": "2026-10-01T09:00:00+00:00",
            "endsAt": "2026-10-01T11:00:00+00:00",
            "meetingUrl": "https://meet.example.org/field",
            "host": {"slug": "host"},
        },
        "errors": [],
    }
    moved = await run(
        UPDATE,
        {"id": event_id, "input": {"startsAt": "2026-10-01T08:00:00Z"}},
        principal=club.host,
        now=NOW,
    )
    assert moved["data"]["updateEvent"] == {
        "event": {
            "title": "Paralegals in the field",
            "startsAt": "2026-10-01T08:00:00+00:00",
            "endsAt": "2026-10-01T11:00:00+00:00",
        },
        "errors": [],
    }
    attend = {"eventId": event_id, "organizationId": club.id(club.guest), "role": "GUEST"}
    early = await run(RECORD, {"input": attend}, principal=club.host, now=NOW)
    assert early["data"]["recordAttendance"]["errors"] == [
        {
            "code": "EVENT_NOT_STARTED",
            "message": "Attendance is recorded once the event has started.",
            "field": "eventId",
        }
    ]
    during = datetime(2026, 10, 1, 8, 30, tzinfo=UTC)
    recorded = await run(RECORD, {"input": attend}, principal=club.host, now=during)
    assert recorded["data"]["recordAttendance"] == {
        "attendance": {
            "role": "GUEST",
            "recordedAt": "2026-10-01T08:30:00+00:00",
            "organization": {"slug": "guest"},
            "event": {"title": "Paralegals in the field"},
        },
        "errors": [],
    }
    too_early = await run(COMPLETE, {"id": event_id}, principal=club.host, now=NOW)
    assert too_early["data"]["completeEvent"]["errors"] == [
        {"code": "EVENT_NOT_STARTED", "field": None}
    ]
    after = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
    done = await run(COMPLETE, {"id": event_id}, principal=club.host, now=after)
    assert done["data"]["completeEvent"] == {"event": {"status": "COMPLETED"}, "errors": []}
    closed = await run(CANCEL, {"id": event_id}, principal=club.host, now=after)
    assert closed["data"]["cancelEvent"]["errors"] == [
        {"code": "EVENT_NOT_SCHEDULED", "field": None}
    ]


@pytest.mark.parametrize(
    ("who", "change", "code", "field"),
    [
        ("guest", {}, "MEMBERSHIP_REQUIRED", "hostId"),
        ("host", {"endsAt": "2026-10-01T12:00:00+03:00"}, "INVALID_INPUT", "endsAt"),
        ("host", {"startsAt": "2026-10-01T12:00:00"}, "INVALID_INPUT", "startsAt"),
        ("host", {"startsAt": "0001-01-01T00:30:00+01:00"}, "INVALID_INPUT", "startsAt"),
        (
            "host",
            {"startsAt": "2026-08-01T12:00:00Z", "endsAt": "2026-08-01T13:00:00Z"},
            "INVALID_INPUT",
            "startsAt",
        ),
        ("host", {"meetingUrl": "meet me at the café"}, "INVALID_INPUT", "meetingUrl"),
        ("host", {"title": "x"}, "INVALID_INPUT", "title"),
        ("host", {"workingGroupId": encode_id("WorkingGroup", 999)}, "NOT_FOUND", "workingGroupId"),
        ("host", {"hostId": "member"}, "FORBIDDEN", "hostId"),
        ("admin", {}, "INVALID_INPUT", "hostId"),
    ],
)
async def test_scheduling_refusals_change_nothing(
    session_factory: Any,
    club: Club,
    run: Any,
    who: str,
    change: dict[str, Any],
    code: str,
    field: str,
) -> None:
    principal = {"guest": club.guest, "host": club.host, "admin": Principal(Role.ADMIN)}[who]
    if change.get("hostId") == "member":
        change["hostId"] = club.id(club.member)
    before = await snapshot(session_factory)
    payload = await schedule(run, principal, **change)
    assert payload["event"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]
    assert await snapshot(session_factory) == before


async def test_only_the_host_or_the_secretariat_changes_an_event(
    session_factory: Any, club: Club, run: Any
) -> None:
    event_id = (await schedule(run, club.host))["event"]["id"]
    before = await snapshot(session_factory)
    for mutation, variables in [
        (UPDATE, {"id": event_id, "input": {"title": "Mine now"}}),
        (CANCEL, {"id": event_id}),
        (COMPLETE, {"id": event_id}),
        (
            RECORD,
            {
                "input": {
                    "eventId": event_id,
                    "organizationId": club.id(club.member),
                    "role": "MEMBER",
                }
            },
        ),
    ]:
        response = await run(mutation, variables, principal=club.member, now=NOW)
        (payload,) = response["data"].values()
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("FORBIDDEN", "id")]
    assert await snapshot(session_factory) == before
    cancelled = await run(CANCEL, {"id": event_id}, principal=Principal(Role.ADMIN), now=NOW)
    assert cancelled["data"]["cancelEvent"] == {
        "event": {"status": "CANCELLED", "cancellationReason": "Speaker unwell"},
        "errors": [],
    }


async def test_the_secretariat_records_past_meetings(club: Club, run: Any) -> None:
    past = {"startsAt": "2026-08-01T12:00:00Z", "endsAt": "2026-08-01T13:00:00Z"}
    admin = Principal(Role.ADMIN)
    recorded = await schedule(run, admin, hostId=club.id(club.host), **past)
    assert (recorded["event"]["startsAt"], recorded["errors"]) == ("2026-08-01T12:00:00+00:00", [])


async def test_attendance_rules(session_factory: Any, club: Club, run: Any) -> None:
    event_id = (await schedule(run, club.host))["event"]["id"]
    started = datetime(2026, 10, 1, 9, 30, tzinfo=UTC)

    async def record(organization: Principal, role: str) -> list[tuple[str, str | None]]:
        response = await run(
            RECORD,
            {"input": {"eventId": event_id, "organizationId": club.id(organization), "role": role}},
            principal=club.host,
            now=started,
        )
        return [(e["code"], e["field"]) for e in response["data"]["recordAttendance"]["errors"]]

    before = await snapshot(session_factory)
    assert await record(club.member, "GUEST") == [("ATTENDANCE_ROLE_MISMATCH", "role")]
    assert await record(club.guest, "MEMBER") == [("ATTENDANCE_ROLE_MISMATCH", "role")]
    assert await record(club.member, "HOST") == [("ATTENDANCE_ROLE_MISMATCH", "role")]
    assert await snapshot(session_factory) == before
    assert await record(club.host, "HOST") == []
    assert await record(club.host, "SPEAKER") == [("ATTENDANCE_ALREADY_RECORDED", "organizationId")]
    await run(CANCEL, {"id": event_id}, principal=club.host, now=started)
    assert await record(club.guest, "GUEST") == [("EVENT_NOT_SCHEDULED", "eventId")]
