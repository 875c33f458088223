"""Observed list sizes and the budget on produced objects, through the real app: the refresh
at start-up, the two ordinary questions of issue 16 as a partner and a member over HTTP, the
age of the estimates in /metrics, and a stopped operation on every transport."""

import logging
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete, select

from club.enums import Role
from club.settings import Settings
from db.engine import SessionFactory
from db.models import Organization
from db.models import WorkingGroupMember as Member
from db.seed import seed
from tests.factories import T0, add, country_ids, organization
from tests.graphql.test_list_sizes import (
    COUNTRIES_AND_ORGANIZATIONS,
    WORKING_GROUPS_AND_MEMBERS,
    grow,
    working_group,
)
from tests.http.conftest import MakeToken, bearer, open_client
from tests.http.test_refusals import TRANSPORTS, no_stack_trace
from tests.ws.conftest import run_server


async def post(client: httpx.AsyncClient, token: str, query: str) -> Any:
    response = await client.post("/graphql", json={"query": query}, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def age_of_estimates(client: httpx.AsyncClient) -> float:
    text = (await client.get("/metrics")).text
    [value] = [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "clubjustice_list_sizes_age_seconds"
    ]
    return value


async def tokens(session_factory: SessionFactory, make_token: MakeToken) -> tuple[str, str]:
    """A PARTNER token and a member's ORGANIZATION token, on the demo data."""
    await seed(session_factory)
    async with session_factory() as session:
        member_id = await session.scalar(
            select(Organization.id).where(Organization.slug == "moldova-legal-empowerment")
        )
    return await make_token(Role.PARTNER), await make_token(Role.ORGANIZATION, member_id)


@pytest.mark.parametrize("refresh", [300.0, 0.0], ids=["observed", "declared"])
async def test_the_ordinary_questions_on_the_demo_data(
    settings: Settings,
    session_factory: SessionFactory,
    make_token: MakeToken,
    refresh: float,
) -> None:
    partner, member = await tokens(session_factory, make_token)
    async for client in open_client(
        settings.model_copy(update={"list_size_refresh_seconds": refresh})
    ):
        groups = await post(client, partner, WORKING_GROUPS_AND_MEMBERS)
        countries = await post(client, member, COUNTRIES_AND_ORGANIZATIONS)
        age = await age_of_estimates(client)
    if refresh:  # observed at start-up: both answered
        assert "errors" not in groups and len(groups["data"]["workingGroups"]) == 3
        assert "errors" not in countries and len(countries["data"]["countries"]) == 249
        assert 0 <= age < 60
    else:  # the declared sizes, as before issue 16: both refused
        assert groups["errors"][0]["extensions"] == {
            "code": "COST_LIMIT_EXCEEDED",
            "limit": 5000,
            "measured": 5050,
        }
        assert countries["errors"][0]["extensions"] == {
            "code": "COST_LIMIT_EXCEEDED",
            "limit": 20_000,
            "measured": 25_250,
        }
        assert age == -1


# A nullable root field beside another: a stop leaves partial data, which the cache could
# store were it not for the error.
ONE_GROUP = '{ __typename workingGroup(slug: "w-one") { name members { name } } }'


async def test_a_stop_while_producing_has_its_code_on_every_transport_and_is_not_cached(
    settings: Settings,
    session_factory: SessionFactory,
    make_token: MakeToken,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    ke = (await country_ids(session_factory, "KE"))["KE"]
    lead = organization(ke, member=True, name="Lead")
    await add(session_factory, lead)
    group = working_group("w-one")
    await add(session_factory, group)
    await add(
        session_factory, Member(working_group_id=group.id, organization_id=lead.id, joined_at=T0)
    )
    token = await make_token(Role.PARTNER)
    answers = {}
    # Observed at start-up: 1 group, 1 member: 7 x (1 + 7) = 56 estimated, under 60 (and
    # 1 + 7 = 8 for ONE_GROUP).
    async for server in run_server(settings.model_copy(update={"cost_budget_partner": 60})):
        await grow(session_factory, group.id, 100)  # after the refresh
        for name, send in TRANSPORTS.items():
            answers[name] = await send(server, token, WORKING_GROUPS_AND_MEMBERS)
        async with httpx.AsyncClient(base_url=server.http) as client:
            stopped = await post(client, token, ONE_GROUP)
            # Back to one member, with no change in the activity log (the cache's validity):
            # the stopped answer, had it been cached, would be answered again.
            async with session_factory() as session, session.begin():
                await session.execute(delete(Member).where(Member.organization_id != lead.id))
            again = await post(client, token, ONE_GROUP)
    assert answers == {
        name: (None if name.endswith("ws") else 200, ("RESULT_TOO_LARGE",)) for name in TRANSPORTS
    }
    assert stopped["data"] == {"__typename": "Query", "workingGroup": None}
    assert [error["extensions"]["code"] for error in stopped["errors"]] == ["RESULT_TOO_LARGE"]
    assert again == {
        "data": {
            "__typename": "Query",
            "workingGroup": {"name": "W-One", "members": [{"name": "Lead"}]},
        }
    }
    assert no_stack_trace(caplog) == []
