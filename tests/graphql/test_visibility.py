"""Restricted fields through the schema, for every role: null outside their audience."""

from datetime import timedelta
from typing import Any

import pytest

from club.access import Principal
from club.enums import AttendanceRole, Role
from db.models import Attendance
from schema.ids import encode_id
from tests.factories import T0, add, country_ids, event, invitation, organization

QUERY = """
query($id: ID!, $event: ID!, $invitation: ID!) {
  organization(id: $id) {
    contactEmail
    invitationsSent { id }
    invitationsReceived { id }
    invitationQuota(year: 2024) { used }
  }
  event(id: $event) { meetingUrl }
  invitation(id: $invitation) { id }
  _entities(representations: [{__typename: "Invitation", id: $invitation}]) {
    ... on Invitation { id }
  }
}
"""


@pytest.fixture
async def club(session_factory: Any) -> dict[str, int]:
    md = (await country_ids(session_factory, "MD"))["MD"]
    owner = organization(md, member=True, contact_email="owner@example.org")
    member = organization(md, member=True, contact_email="member@example.org")
    guest = organization(md)
    await add(session_factory, owner, member, guest)
    meeting = event(owner.id, meeting_url="https://meet.example.org/secret")
    sent = invitation(owner.id, guest.id, created_at=T0 + timedelta(days=1))
    await add(session_factory, meeting, sent)
    await add(
        session_factory,
        Attendance(
            event_id=meeting.id,
            organization_id=member.id,
            role=AttendanceRole.MEMBER,
            recorded_at=T0,
        ),
    )
    return {
        "owner": owner.id,
        "member": member.id,
        "guest": guest.id,
        "event": meeting.id,
        "invitation": sent.id,
    }


def principal(kind: str, club: dict[str, int]) -> Principal:
    return {
        "partner": Principal(Role.PARTNER),
        "admin": Principal(Role.ADMIN),
        "owner": Principal(
            role=Role.ORGANIZATION, organization_id=club["owner"], organization_is_member=True
        ),
        "member": Principal(
            role=Role.ORGANIZATION, organization_id=club["member"], organization_is_member=True
        ),
        "guest": Principal(
            role=Role.ORGANIZATION, organization_id=club["guest"], organization_is_member=False
        ),
    }[kind]


@pytest.mark.parametrize(
    ("who", "sees_club_fields", "sees_owner_fields", "sees_invitation"),
    [
        ("partner", False, False, False),
        ("guest", False, False, True),  # the invitee sees its invitation, not the inviter's lists
        ("member", True, False, False),
        ("owner", True, True, True),
        ("admin", True, True, True),
    ],
)
async def test_restricted_fields_by_role(
    club: dict[str, int],
    run: Any,
    who: str,
    sees_club_fields: bool,
    sees_owner_fields: bool,
    sees_invitation: bool,
) -> None:
    invitation_id = encode_id("Invitation", club["invitation"])
    response = await run(
        QUERY,
        {
            "id": encode_id("Organization", club["owner"]),
            "event": encode_id("Event", club["event"]),
            "invitation": invitation_id,
        },
        principal=principal(who, club),
    )
    assert response == {
        "data": {
            "organization": {
                "contactEmail": "owner@example.org" if sees_club_fields else None,
                "invitationsSent": [{"id": invitation_id}] if sees_owner_fields else None,
                "invitationsReceived": [] if sees_owner_fields else None,
                "invitationQuota": {"used": 1} if sees_owner_fields else None,
            },
            "event": {
                "meetingUrl": "https://meet.example.org/secret" if sees_club_fields else None
            },
            "invitation": {"id": invitation_id} if sees_invitation else None,
            "_entities": [{"id": invitation_id} if sees_invitation else None],
        }
    }


NESTED = """
query($invitation: ID!) {
  invitation(id: $invitation) { inviter { contactEmail invitationsSent { id } } }
  events(first: 5) {
    edges {
      node { meetingUrl host { contactEmail } attendances { organization { contactEmail } } }
    }
  }
  entities: _entities(representations: [
    {__typename: "Organization", id: $owner}, {__typename: "Event", id: $event}
  ]) {
    ... on Organization { contactEmail invitationQuota(year: 2024) { used } }
    ... on Event { meetingUrl }
  }
}
"""


@pytest.mark.parametrize("who", ["partner", "guest", "member"])
async def test_restricted_fields_stay_hidden_through_relations_and_entities(
    club: dict[str, int], run: Any, schema: Any, who: str
) -> None:
    query = NESTED.replace(
        "query($invitation: ID!)", "query($invitation: ID!, $owner: ID!, $event: ID!)"
    )
    response = await run(
        query,
        {
            "invitation": encode_id("Invitation", club["invitation"]),
            "owner": encode_id("Organization", club["owner"]),
            "event": encode_id("Event", club["event"]),
        },
        principal=principal(who, club),
    )
    club_fields = "owner@example.org" if who == "member" else None
    meeting = "https://meet.example.org/secret" if who == "member" else None
    assert response == {
        "data": {
            # The invitee sees its invitation, but not the inviter's private fields.
            "invitation": (
                {"inviter": {"contactEmail": None, "invitationsSent": None}}
                if who == "guest"
                else None
            ),
            "events": {
                "edges": [
                    {
                        "node": {
                            "meetingUrl": meeting,
                            "host": {"contactEmail": club_fields},
                            "attendances": [
                                {
                                    "organization": {
                                        "contactEmail": "member@example.org"
                                        if who == "member"
                                        else None
                                    }
                                }
                            ],
                        }
                    }
                ]
            },
            "entities": [
                {"contactEmail": club_fields, "invitationQuota": None},
                {"meetingUrl": meeting},
            ],
        }
    }


async def test_a_pending_invitation_past_its_expiry_reads_as_expired(
    club: dict[str, int], run: Any
) -> None:
    response = await run(
        "query($id: ID!) { invitation(id: $id) { status expiresAt } }",
        {"id": encode_id("Invitation", club["invitation"])},
        principal=Principal(Role.ADMIN),
    )
    assert response == {
        "data": {"invitation": {"status": "EXPIRED", "expiresAt": "2024-02-01T12:00:00+00:00"}}
    }
