"""A query over the caller's budget on the rows it actually read (the compiled read path,
docs/security.md), as an HTTP client gets it: as the estimate's refusal (same code, status
and shape: 400 without `data` as application/graphql-response+json, 200 with `"data":
null` as application/json), answered by the compiled path."""

from typing import Any

import pytest

from club.enums import Role
from club.settings import Settings
from tests.factories import add, country_ids, organization
from tests.http.conftest import MakeToken, bearer
from tests.http.test_request_cost import served

QUERY = "{ organizations(first: 5) { edges { node { name sponsored { name } } } } }"
SPONSORED = 150
BUDGET = 100


@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
async def test_a_query_over_the_budget_on_its_rows_is_refused_with_no_data(
    settings: Settings, session_factory: Any, make_token: MakeToken, accept: str
) -> None:
    token = await make_token(Role.PARTNER)
    md = (await country_ids(session_factory, "MD"))["MD"]
    sponsor = organization(md, member=True, name="A sponsor")
    await add(session_factory, sponsor)
    settings = settings.model_copy(update={"response_cache_size": 0, "cost_budget_partner": BUDGET})
    async with served(settings) as (client, _):
        # Grown after the server observed the list sizes: the estimate lets it run.
        await add(
            session_factory,
            *(organization(md, sponsor_id=sponsor.id, name=f"Z{n:03d}") for n in range(SPONSORED)),
        )
        response = await client.post(
            "/graphql", json={"query": QUERY}, headers={**bearer(token), "accept": accept}
        )
        metrics = (await client.get("/metrics")).text
    plain = accept == "application/json"
    assert response.status_code == (200 if plain else 400)
    assert response.headers["content-type"].startswith(accept)
    # The 5 organizations' rows, then their 150 sponsored ones: past the budget before any
    # object of that level is built (the whole answer would be 161).
    assert response.json() == {
        **({"data": None} if plain else {}),
        "errors": [
            {
                "message": "The answer would hold at least 155 objects, counted on the rows it "
                "read before answering; the budget of PARTNER tokens is 100. Ask for smaller "
                "pages (`first`) or fewer nested lists.",
                "extensions": {"code": "COST_LIMIT_EXCEEDED", "limit": 100, "measured": 155},
            }
        ],
    }
    assert 'clubjustice_query_executions_total{path="compiled"} 1.0' in metrics
