"""Every change appends its row to the activity log, in its own transaction."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from club.access import Principal
from club.enums import Role
from club.ids import parse_id
from db.models import ActivityLogEntry
from schema.ids import encode_id
from tests.factories import add, country_ids, organization

NOW = datetime(2026, 6, 6, 6, 0, tzinfo=UTC)
REGISTER = """
mutation($i: RegisterOrganizationInput!) {
  registerOrganization(input: $i) { organization { id } errors { code } }
}
"""
UPDATE = """
mutation($id: ID!) {
  updateOrganization(id: $id, input: {website: "https://host.example.org"}) {
    organization { id } errors { code }
  }
}
"""
SCHEDULE = """
mutation($h: ID!) {
  scheduleEvent(input: {title: "Call", kind: ONLINE_MEETING, hostId: $h,
                        startsAt: "2026-06-01T10:00:00Z", endsAt: "2026-06-01T11:00:00Z"}) {
    event { id } errors { code }
  }
}
"""
ATTEND = """
mutation($e: ID!, $o: ID!) {
  recordAttendance(input: {eventId: $e, organizationId: $o, role: GUEST}) {
    attendance { id } errors { code }
  }
}
"""
COMPLETE = "mutation($e: ID!) { completeEvent(id: $e) { event { id } errors { code } } }"
CREATE_GROUP = """
mutation {
  createWorkingGroup(input: {name: "Data", focusArea: DATA_AND_EVIDENCE}) {
    workingGroup { id } errors { code }
  }
}
"""
ADD_ITEM = """
mutation($g: ID!) {
  addActionItem(workingGroupId: $g, input: {title: "Survey"}) { actionItem { id } errors { code } }
}
"""
INVITE = """
mutation($o: ID!) {
  inviteOrganization(input: {inviteeId: $o}) { invitation { id } errors { code } }
}
"""


async def test_each_mutation_logs_what_it_changed(session_factory: Any, run: Any) -> None:
    md = (await country_ids(session_factory, "MD"))["MD"]
    host = organization(md, member=True, slug="host")
    await add(session_factory, host)
    host_id = encode_id("Organization", host.id)
    admin = Principal(Role.ADMIN)
    member = Principal(Role.ORGANIZATION, organization_id=host.id, organization_is_member=True)

    async def do(
        query: str, variables: dict[str, Any], principal: Principal = admin
    ) -> dict[str, Any]:
        response = await run(query, variables, principal=principal, now=NOW)
        assert "errors" not in response, response
        payload: dict[str, Any]
        (payload,) = response["data"].values()
        assert payload["errors"] == [], payload
        return payload

    guest = await do(
        REGISTER,
        {"i": {"name": "New Guest", "countryCode": "MD", "kind": "NGO"}},
    )
    await do(
        UPDATE,
        {"id": host_id},
        member,
    )
    event = await do(
        SCHEDULE,
        {"h": host_id},
    )
    event_id = event["event"]["id"]
    await do(
        ATTEND,
        {"e": event_id, "o": guest["organization"]["id"]},
    )
    await do(
        COMPLETE,
        {"e": event_id},
    )
    group = await do(
        CREATE_GROUP,
        {},
        member,
    )
    await do(
        ADD_ITEM,
        {"g": group["workingGroup"]["id"]},
        member,
    )
    await do(
        INVITE,
        {"o": guest["organization"]["id"]},
        member,
    )
    async with session_factory() as session:
        entries = (
            await session.scalars(select(ActivityLogEntry).order_by(ActivityLogEntry.id))
        ).all()
    assert [entry.kind for entry in entries] == [
        "ORGANIZATION_REGISTERED",
        "ORGANIZATION_UPDATED",
        "EVENT_SCHEDULED",
        "ATTENDANCE_RECORDED",
        "EVENT_COMPLETED",
        "WORKING_GROUP_CREATED",
        "ACTION_ITEM_ADDED",
        "INVITATION_SENT",
    ]
    assert all(entry.occurred_at == NOW for entry in entries)
    assert entries[1].payload == {"changed": ["website"]}
    assert [entry.subject_type for entry in entries] == [
        "Organization",
        "Organization",
        "Event",
        "Event",
        "Event",
        "WorkingGroup",
        "WorkingGroup",
        "Invitation",
    ]
    assert entries[1].subject_id == host.id
    # The event is the subject; its host (the attendee, for an attendance) rides along.
    assert (entries[4].subject_id, entries[4].payload) == (
        parse_id("Event", event_id),
        {"organization_id": host.id},
    )
    assert entries[3].payload == {
        "organization_id": parse_id("Organization", guest["organization"]["id"]),
        "role": "GUEST",
    }
