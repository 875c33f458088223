"""The benchmark's strong floor (bench/strong_floor.py) answers every scenario with the very
JSON our GraphQL endpoint answers, on a tiny copy of the benchmark data: the floor cannot
drift from what it stands in for. No timing here."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.dataset import TINY, Tokens, load
from bench.scenarios import OURS, bodies
from bench.strong_floor import create_floor_app
from club.settings import Settings
from schema.ids import encode_id
from server.app import create_app

UNKNOWN_ORGANIZATION = {"__typename": "Organization", "id": encode_id("Organization", 10**6)}


@pytest.fixture
async def club(engine: AsyncEngine, session_factory: Any) -> Tokens:
    """The benchmark data set at its tiny size (session_factory has cleaned the tables)."""
    return await load(engine.url.render_as_string(hide_password=False), TINY)


async def _client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
async def ours(engine: AsyncEngine, club: Tokens) -> AsyncIterator[httpx.AsyncClient]:
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, response_cache_size=0, cost_budget_admin=10**8)
    async for client in _client(create_app(settings)):
        yield client


@pytest.fixture
async def floor(engine: AsyncEngine, club: Tokens) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(create_floor_app(engine.url.render_as_string(hide_password=False))):
        yield client


def _bodies(club: Tokens) -> dict[str, dict[str, Any]]:
    scenario_bodies = bodies(club.country_ids, club.organization_ids).ours
    s4 = scenario_bodies["S4"]["variables"]["representations"]  # type: ignore[index]
    s4.append(UNKNOWN_ORGANIZATION)  # null at its position, as ours answers
    return scenario_bodies


@pytest.mark.parametrize("scenario", list(OURS))
@pytest.mark.parametrize("route", ["token", "plain"])
async def test_the_floor_answers_what_graphql_answers(
    ours: httpx.AsyncClient, floor: httpx.AsyncClient, club: Tokens, scenario: str, route: str
) -> None:
    body = _bodies(club)[scenario]
    headers = {"authorization": f"Bearer {club.admin}"}

    expected = await ours.post("/graphql", json=body, headers=headers)
    answer = await floor.post(f"/{route}/{scenario.lower()}", json=body, headers=headers)

    assert expected.status_code == answer.status_code == 200
    assert "errors" not in expected.json()
    assert answer.json() == expected.json()


async def test_the_data_reaches_every_level_the_scenarios_walk(
    ours: httpx.AsyncClient, club: Tokens
) -> None:
    """So that equal answers above are not equal because they are empty."""
    headers = {"authorization": f"Bearer {club.admin}"}
    scenario_bodies = _bodies(club)
    s2 = (await ours.post("/graphql", json=scenario_bodies["S2"], headers=headers)).json()
    s3 = (await ours.post("/graphql", json=scenario_bodies["S3"], headers=headers)).json()
    s4 = (await ours.post("/graphql", json=scenario_bodies["S4"], headers=headers)).json()

    assert len(s2["data"]["organizations"]["edges"]) == 50
    walked = [
        attendance["event"]["host"]["name"]
        for country in s3["data"]["_entities"]
        for organization in country["organizations"]
        for attendance in organization["attendances"]
    ]
    assert len(s3["data"]["_entities"]) == 20
    assert walked
    assert len(s4["data"]["_entities"]) == 101
    assert s4["data"]["_entities"][-1] is None


async def test_the_floor_refuses_what_graphql_refuses(
    ours: httpx.AsyncClient, floor: httpx.AsyncClient, club: Tokens
) -> None:
    body = _bodies(club)["S2"]
    headers = {"authorization": "Bearer cj_not-a-token"}

    expected = await ours.post("/graphql", json=body, headers=headers)
    answer = await floor.post("/token/s2", json=body, headers=headers)

    assert expected.status_code == answer.status_code == 401
    assert answer.json() == expected.json()
