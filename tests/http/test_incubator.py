"""The incubator over HTTP: a proposal retried under its Idempotency-Key is made once, a
refusal is a payload error with status 200, and the lists read by GET."""

from typing import Any

import httpx
from sqlalchemy import func, select

from club.enums import Role
from db import models
from schema.ids import encode_id
from tests.factories import add, country_ids, organization, program
from tests.http.conftest import MakeToken, bearer

PROPOSE = """
mutation($title: String!, $program: ID) {
  proposeInitiative(input: {
    title: $title, summary: "Paralegals answer calls.", problem: "Evictions.",
    focusArea: SOCIAL_PROBLEMS, countryCodes: ["MK"], programId: $program
  }) { initiative { id title stage } errors { code field } }
}
"""
MOVE = """
mutation($id: ID!) {
  moveInitiativeStage(id: $id, stage: PILOTING) { initiative { stage } errors { code } }
}
"""


async def counts(session_factory: Any) -> tuple[int, int, int]:
    async with session_factory() as session:
        return (
            int(await session.scalar(select(func.count(models.Initiative.id))) or 0),
            int(await session.scalar(select(func.count(models.InitiativeStageChange.id))) or 0),
            int(await session.scalar(select(func.count(models.ActivityLogEntry.id))) or 0),
        )


async def test_a_proposal_retried_under_its_key_is_made_once(
    client: httpx.AsyncClient, session_factory: Any, make_token: MakeToken
) -> None:
    codes = await country_ids(session_factory, "MK", "UA")
    proposer = organization(codes["MK"], member=True)
    hub = organization(codes["UA"], member=True)
    await add(session_factory, proposer, hub)
    kyivlepp = program(hub.id, slug="kyivlepp")
    await add(session_factory, kyivlepp)
    token = await make_token(Role.ORGANIZATION, proposer.id)
    variables = {"title": "Eviction hotline", "program": encode_id("IncubatorProgram", kyivlepp.id)}
    headers = bearer(token) | {"Idempotency-Key": "hotline-1"}

    first = await client.post(
        "/graphql", json={"query": PROPOSE, "variables": variables}, headers=headers
    )
    body = first.json()
    made = body["data"]["proposeInitiative"]
    assert (first.status_code, made["errors"], made["initiative"]["stage"]) == (200, [], "IDEA")
    assert await counts(session_factory) == (1, 1, 1)
    for _ in range(2):
        again = await client.post(
            "/graphql", json={"query": PROPOSE, "variables": variables}, headers=headers
        )
        assert (again.status_code, again.json()) == (200, body)
    assert await counts(session_factory) == (1, 1, 1)

    # A refusal: the proposer does not run the program.
    refused = await client.post(
        "/graphql",
        json={"query": MOVE, "variables": {"id": made["initiative"]["id"]}},
        headers=bearer(token) | {"Idempotency-Key": "move-1"},
    )
    assert (refused.status_code, refused.json()) == (
        200,
        {
            "data": {
                "moveInitiativeStage": {
                    "initiative": None,
                    "errors": [{"code": "NOT_PROGRAM_ORGANIZER"}],
                }
            }
        },
    )
    assert await counts(session_factory) == (1, 1, 1)

    listed = await client.get(
        "/graphql",
        params={
            "query": "{ initiatives { totalCount edges { node { title program { slug } } } } }"
        },
        headers=bearer(await make_token(Role.PARTNER)),
    )
    assert listed.json() == {
        "data": {
            "initiatives": {
                "totalCount": 1,
                "edges": [{"node": {"title": "Eviction hotline", "program": {"slug": "kyivlepp"}}}],
            }
        }
    }
