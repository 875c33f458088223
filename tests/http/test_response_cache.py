"""The response cache: hits until a change commits, then the change is visible at once;
never shared between callers who see different things; bypassed where it cannot be right.
(Across replicas: tests/e2e/test_replicas.py.)"""

from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from club.enums import Role
from schema.ids import encode_id
from tests.factories import guests_of_a_member
from tests.http.conftest import MakeToken, bearer

RENAME = """
mutation($id: ID!, $name: String!) {
  updateOrganization(id: $id, input: {name: $name}) { errors { code } }
}
"""
NAME = "query Name($id: ID!) { organization(id: $id) { name } }"
SENT = "query Sent($id: ID!) { organization(id: $id) { invitationsSent { id } } }"
INVITE = """
mutation($guest: ID!) {
  inviteOrganization(input: {inviteeId: $guest}) { invitation { id } errors { code } }
}
"""


async def cache_counts(client: httpx.AsyncClient) -> dict[str, float]:
    text = (await client.get("/metrics")).text
    return {
        sample.labels["result"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "clubjustice_response_cache_total"
    }


async def post(client: httpx.AsyncClient, token: str, query: str, **variables: Any) -> Any:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=bearer(token)
    )
    return response.json()


@pytest.fixture
async def club(session_factory: Any, make_token: MakeToken) -> dict[str, Any]:
    member, guests = await guests_of_a_member(session_factory, 2)
    return {
        "member": encode_id("Organization", member.id),
        "guest": encode_id("Organization", guests[0].id),
        "member_token": await make_token(Role.ORGANIZATION, member.id),
        "other_token": await make_token(Role.ORGANIZATION, guests[1].id),
        "admin_token": await make_token(Role.ADMIN),
        "partner_token": await make_token(Role.PARTNER),
    }


async def test_a_committed_change_is_visible_to_the_next_query(
    client: httpx.AsyncClient, club: dict[str, Any]
) -> None:
    partner, admin, member = club["partner_token"], club["admin_token"], club["member"]
    first = await post(client, partner, NAME, id=member)
    assert await post(client, partner, NAME, id=member) == first
    assert await cache_counts(client) == {"miss": 1, "hit": 1}

    renamed = await post(client, admin, RENAME, id=member, name="Renamed Network")
    assert renamed == {"data": {"updateOrganization": {"errors": []}}}
    assert await post(client, partner, NAME, id=member) == {
        "data": {"organization": {"name": "Renamed Network"}}
    }
    counts = await cache_counts(client)
    assert (counts["miss"], counts["hit"]) == (2, 1)
    assert counts["bypass"] == 1  # the mutation


async def test_the_key_is_the_normalized_operation_and_its_variables(
    client: httpx.AsyncClient, club: dict[str, Any]
) -> None:
    partner = club["partner_token"]
    await post(client, partner, NAME, id=club["member"])
    # Other whitespace, a comment and commas: the same operation.
    spaced = "query   Name($id: ID!) {\n  organization(id: $id) , { name } # the name\n}"
    await post(client, partner, spaced, id=club["member"])
    await post(client, partner, NAME, id=club["guest"])  # other variables: another entry
    assert await cache_counts(client) == {"miss": 2, "hit": 1}


async def test_one_organization_never_sees_another_s_private_fields(
    client: httpx.AsyncClient, club: dict[str, Any]
) -> None:
    member = club["member"]
    invited = await post(client, club["member_token"], INVITE, guest=club["guest"])
    invitation = invited["data"]["inviteOrganization"]["invitation"]["id"]
    own = await post(client, club["member_token"], SENT, id=member)
    assert own == {"data": {"organization": {"invitationsSent": [{"id": invitation}]}}}
    for outsider in (club["other_token"], club["partner_token"]):
        assert await post(client, outsider, SENT, id=member) == {
            "data": {"organization": {"invitationsSent": None}}
        }
    assert await post(client, club["member_token"], SENT, id=member) == own
    assert await cache_counts(client) == {"bypass": 1, "miss": 3, "hit": 1}


@pytest.mark.parametrize(
    "query",
    [
        "{ __schema { queryType { name } } }",
        "{ _service { sdl } }",
        # turns EXPIRED with the clock alone: no write to invalidate it
        "query($id: ID!) { invitation(id: $id) { status } }",
        "query($id: ID!) { organization(id: $id) { invitationQuota { remaining } } }",
        "fragment S on Invitation { status } query($id: ID!) { invitation(id: $id) { ...S } }",
    ],
)
async def test_what_the_cache_cannot_keep_is_run_every_time(
    client: httpx.AsyncClient, club: dict[str, Any], query: str
) -> None:
    for _ in range(2):
        await post(client, club["admin_token"], query, id=club["member"])
    assert await cache_counts(client) == {"bypass": 2}
