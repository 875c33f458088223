"""clubStatistics over HTTP: a partner reads it, a request without a token does not; the
response cache answers the second request, `asOf` and all, until a change commits; the whole
query costs the token check and one statement per group of figures."""

from typing import Any

import httpx

from club.enums import Role
from club.settings import Settings
from tests.conftest import wire_on
from tests.factories import build_club
from tests.graphql.test_statistics import STATISTICS, STATISTICS_STATEMENTS
from tests.http.conftest import PREFLIGHT, MakeToken, bearer
from tests.http.test_request_cost import served
from tests.http.test_response_cache import cache_counts

REGISTER = """
mutation {
  registerOrganization(input: {name: "Tbilisi Legal Aid Lab", countryCode: "GE", kind: NGO}) {
    errors { code }
  }
}
"""
GEORGIA = "{ clubStatistics { asOf organizationsByCountry { country { code } guests } } }"


async def post(client: httpx.AsyncClient, query: str, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/graphql", json={"query": query}, headers=headers)


def guests_in(body: dict[str, Any], code: str) -> int:
    rows = body["data"]["clubStatistics"]["organizationsByCountry"]
    return sum(row["guests"] for row in rows if row["country"]["code"] == code)


async def test_without_a_token_nothing_runs(client: httpx.AsyncClient) -> None:
    response = await post(client, STATISTICS, PREFLIGHT)
    assert response.status_code == 401
    assert [error["extensions"]["code"] for error in response.json()["errors"]] == [
        "UNAUTHENTICATED"
    ]
    assert "data" not in response.json() or response.json()["data"] is None


async def test_a_partner_reads_it_and_the_cache_answers_again_until_a_change(
    client: httpx.AsyncClient, session_factory: Any, make_token: MakeToken
) -> None:
    await build_club(session_factory, organizations=12, events=4, working_groups=1)
    partner = bearer(await make_token(Role.PARTNER))
    first = await post(client, GEORGIA, partner)
    assert first.status_code == 200 and set(first.json()) == {"data"}
    second = await post(client, GEORGIA, partner)
    # The stored answer, computed once: the same figures and the same asOf.
    assert second.json() == first.json()
    assert await cache_counts(client) == {"miss": 1, "hit": 1}

    admin = bearer(await make_token(Role.ADMIN))
    registered = await post(client, REGISTER, admin)
    assert registered.json() == {"data": {"registerOrganization": {"errors": []}}}
    third = (await post(client, GEORGIA, partner)).json()
    assert guests_in(third, "GE") == guests_in(first.json(), "GE") + 1
    assert third["data"]["clubStatistics"]["asOf"] > first.json()["data"]["clubStatistics"]["asOf"]
    counts = await cache_counts(client)
    assert (counts["miss"], counts["hit"]) == (2, 1)


async def test_the_whole_query_costs_the_token_check_and_a_statement_per_group(
    settings: Settings, session_factory: Any, make_token: MakeToken
) -> None:
    await build_club(session_factory, organizations=30, events=10, working_groups=2)
    partner = bearer(await make_token(Role.PARTNER))
    async with served(settings) as (client, engine):
        await post(client, "{ viewer { role } }", partner)  # warm the pool
        with wire_on(engine) as wire:
            response = await post(client, STATISTICS, partner)
        assert response.status_code == 200 and set(response.json()) == {"data"}
        # The token (with the activity log's high-water mark) in one statement, the figures.
        assert len(wire.statements) == 1 + STATISTICS_STATEMENTS
        with wire_on(engine) as wire:
            again = await post(client, STATISTICS, partner)
        assert again.json() == response.json()
        assert len(wire.statements) == 1  # a cache hit: the token check only
