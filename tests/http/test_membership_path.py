"""Over HTTP with real tokens: a guest registers, attends, is invited and joins; tokens and
roles are enforced at the door."""

from typing import Any

import httpx
import pytest

from club.enums import Role
from club.ids import parse_id
from db.tokens import authenticate, revoke_token
from tests.factories import add, country_ids, organization
from tests.http.conftest import PREFLIGHT, MakeToken, bearer


async def graphql(
    client: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


REGISTER = """
mutation {
  registerOrganization(input: {name: "Tbilisi Legal Aid Lab", countryCode: "GE", kind: NGO}) {
    organization { id status } errors { code }
  }
}
"""
SCHEDULE = """
mutation($host: ID!) {
  scheduleEvent(input: {title: "Monthly club call", kind: ONLINE_MEETING, hostId: $host,
                        startsAt: "2026-01-15T12:00:00Z", endsAt: "2026-01-15T13:00:00Z"}) {
    event { id } errors { code }
  }
}
"""
RECORD = """
mutation($event: ID!, $guest: ID!) {
  recordAttendance(input: {eventId: $event, organizationId: $guest, role: GUEST}) {
    attendance { role } errors { code }
  }
}
"""
INVITE = """
mutation($guest: ID!) {
  inviteOrganization(input: {inviteeId: $guest, message: "Join us"}) {
    invitation { id status } errors { code }
  }
}
"""
ACCEPT = """
mutation($id: ID!) {
  acceptInvitation(id: $id) { invitation { status } errors { code } }
}
"""
VIEWER = "{ viewer { role organization { name status sponsor { slug } } } }"


async def test_guest_to_member_over_http(
    client: httpx.AsyncClient, session_factory: Any, make_token: MakeToken
) -> None:
    md = (await country_ids(session_factory, "MD"))["MD"]
    member = organization(md, member=True, slug="sponsor")
    await add(session_factory, member)
    admin = await make_token(Role.ADMIN)
    member_token = await make_token(Role.ORGANIZATION, organization_id=member.id)
    member_id = (await graphql(client, admin, '{ organization(slug: "sponsor") { id } }'))[
        "organization"
    ]["id"]

    registered = (await graphql(client, admin, REGISTER))["registerOrganization"]
    assert registered["organization"]["status"] == "GUEST"
    guest_id = registered["organization"]["id"]
    guest_token = await make_token(
        Role.ORGANIZATION, organization_id=parse_id("Organization", guest_id)
    )

    # A meeting that took place: the secretariat records it for its host, which records
    # who came.
    event_id = (await graphql(client, admin, SCHEDULE, {"host": member_id}))["scheduleEvent"][
        "event"
    ]["id"]
    recorded = await graphql(client, member_token, RECORD, {"event": event_id, "guest": guest_id})
    assert recorded == {"recordAttendance": {"attendance": {"role": "GUEST"}, "errors": []}}
    invited = (await graphql(client, member_token, INVITE, {"guest": guest_id}))[
        "inviteOrganization"
    ]
    assert invited["invitation"]["status"] == "PENDING"
    accepted = await graphql(client, guest_token, ACCEPT, {"id": invited["invitation"]["id"]})
    assert accepted == {"acceptInvitation": {"invitation": {"status": "ACCEPTED"}, "errors": []}}
    assert await graphql(client, guest_token, VIEWER) == {
        "viewer": {
            "role": "ORGANIZATION",
            "organization": {
                "name": "Tbilisi Legal Aid Lab",
                "status": "MEMBER",
                "sponsor": {"slug": "sponsor"},
            },
        }
    }


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Send `Authorization: Bearer <token>`."),
        ({"authorization": "Basic dXNlcjpwYXNz"}, "Send `Authorization: Bearer <token>`."),
        ({"authorization": "Bearer cj_not-a-real-token"}, "The token is unknown or revoked."),
    ],
)
async def test_no_valid_token_is_401_unauthenticated(
    client: httpx.AsyncClient, headers: dict[str, str], message: str
) -> None:
    for request in (
        client.post("/graphql", json={"query": "{ viewer { role } }"}, headers=headers),
        client.get(
            "/graphql", params={"query": "{ viewer { role } }"}, headers=headers | PREFLIGHT
        ),
    ):
        response = await request
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer realm="clubjustice"'
        assert response.json() == {
            "data": None,
            "errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}],
        }


async def test_a_revoked_token_stops_working(
    client: httpx.AsyncClient, session_factory: Any, make_token: MakeToken
) -> None:
    token = await make_token(Role.PARTNER)
    assert await graphql(client, token, "{ viewer { role } }") == {"viewer": {"role": "PARTNER"}}
    async with session_factory() as session, session.begin():
        owner = await authenticate(session, token)
        assert owner is not None
        assert await revoke_token(session, owner.token_id)
    response = await client.post(
        "/graphql", json={"query": "{ viewer { role } }"}, headers=bearer(token)
    )
    assert response.status_code == 401


async def test_partners_read_but_may_not_mutate(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    partner = await make_token(Role.PARTNER)
    response = await client.post("/graphql", json={"query": REGISTER}, headers=bearer(partner))
    assert response.status_code == 200
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": "The PARTNER role may not do this (it needs ADMIN, ORGANIZATION).",
                "locations": [{"line": 3, "column": 3}],
                "path": ["registerOrganization"],
                "extensions": {"code": "FORBIDDEN"},
            }
        ],
    }


async def test_mutations_are_refused_over_get(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    admin = await make_token(Role.ADMIN)
    response = await client.get(
        "/graphql", params={"query": REGISTER}, headers=bearer(admin) | PREFLIGHT
    )
    assert (response.status_code, response.headers["allow"]) == (405, "POST")
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": "mutations are not allowed when using GET",
                "extensions": {"code": "METHOD_NOT_ALLOWED"},
            }
        ],
    }
