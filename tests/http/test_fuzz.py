"""Property tests: queries and mutations generated from our schema by hypothesis-graphql,
valid ones and invalid ones, for each role, sent to the ASGI app over HTTP. Whatever a
caller sends, the answer is a well-formed GraphQL response: never a 5xx, never a masked
internal error (each would be a bug), never a stack trace or SQL.

CI runs a bounded number of examples (CLUBJUSTICE_FUZZ_EXAMPLES, 100 by default, per role
and kind); raise it to fuzz for longer.
"""

import asyncio
import json
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from graphql import NameNode, ObjectFieldNode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes
from sqlalchemy import select

from club.enums import TOKEN_ROLES, OrganizationStatus, Role
from club.settings import Settings
from db.engine import Database
from db.models import Organization
from db.seed import seed
from db.tokens import create_token
from schema.root import build_schema
from schema.strawberry_private import graphql_core_schema
from server.app import create_app

EXAMPLES = int(os.environ.get("CLUBJUSTICE_FUZZ_EXAMPLES", "100"))
SCHEMA = graphql_core_schema(build_schema())
# What an internal failure would put in an error: a traceback, SQL, a driver's name. (Data
# can hold any text; errors must not.)
LEAKS = re.compile(
    r"Traceback|File \"/|SELECT .* FROM|INSERT INTO|UPDATE \w+ SET|sqlalchemy|asyncpg|sqlite3"
)

# Values for our custom scalars in generated arguments.
CUSTOM_SCALARS = {
    "Date": st.dates().map(lambda value: nodes.String(value.isoformat())),
    "DateTime": st.datetimes(timezones=st.just(UTC)).map(
        lambda value: nodes.String(value.isoformat())
    ),
    "_Any": st.fixed_dictionaries(
        {
            "__typename": st.sampled_from(
                ["Organization", "Country", "Event", "WorkingGroup", "Invitation", "Nope"]
            ).map(nodes.String),
            "id": st.text(max_size=12).map(nodes.String),
        }
    ).map(
        lambda fields: nodes.Object(
            [
                ObjectFieldNode(name=NameNode(value=name), value=value)
                for name, value in fields.items()
            ]
        )
    ),
}

Send = Callable[[Role, str], httpx.Response]


@pytest.fixture
def send(settings: Settings, session_factory: Any) -> Iterator[Send]:
    """A client on its own event loop (hypothesis drives synchronous tests), against the
    demo data, with a token per role (none for ANONYMOUS); no rate limits (every other limit
    at its default)."""
    loop = asyncio.new_event_loop()
    fuzz_settings = settings.model_copy(
        update={
            "rate_limit_admin": 0,
            "rate_limit_organization": 0,
            "rate_limit_partner": 0,
            # ANONYMOUS: the requests sent without a token.
            "anonymous_reads": True,
            "rate_limit_anonymous_reads": 0,
        }
    )

    async def start() -> tuple[LifespanManager, httpx.AsyncClient, dict[Role, str]]:
        database = Database.open(fuzz_settings.database_url)
        await seed(database.session_factory)
        tokens = {}
        async with database.session_factory() as session, session.begin():
            member = await session.scalar(
                select(Organization.id).where(Organization.status == OrganizationStatus.MEMBER)
            )
            for role in TOKEN_ROLES:
                organization = member if role is Role.ORGANIZATION else None
                _, tokens[role] = await create_token(session, role, organization_id=organization)
        await database.engine.dispose()
        manager = LifespanManager(create_app(fuzz_settings))
        await manager.__aenter__()
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
        )
        return manager, client, tokens

    manager, client, tokens = loop.run_until_complete(start())

    def send_query(role: Role, query: str) -> httpx.Response:
        return loop.run_until_complete(
            client.post(
                "/graphql",
                json={"query": query},
                headers={}
                if role is Role.ANONYMOUS
                else {"authorization": f"Bearer {tokens[role]}"},
            )
        )

    try:
        yield send_query
    finally:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(manager.__aexit__(None, None, None))
        loop.close()


def assert_well_formed(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    body = response.json()
    assert not LEAKS.search(json.dumps(body.get("errors", []))), body
    assert isinstance(body, dict) and set(body) <= {"data", "errors", "extensions"}, body
    for error in body.get("errors", []):
        assert isinstance(error["message"], str)
        code = error["extensions"]["code"]
        assert isinstance(code, str)
        assert code != "INTERNAL_SERVER_ERROR", body
    if response.status_code == 200:
        assert "data" in body, body


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI does not flake on new ones
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("role", list(Role))
def test_valid_operations_get_well_formed_answers(send: Send, role: Role) -> None:
    @FUZZ
    @given(query=from_schema(SCHEMA, custom_scalars=CUSTOM_SCALARS, allow_x00=False))
    def check(query: str) -> None:
        assert_well_formed(send(role, query))

    check()


@pytest.mark.parametrize("role", list(Role))
def test_invalid_operations_get_well_formed_refusals(send: Send, role: Role) -> None:
    @FUZZ
    @given(query=from_schema(SCHEMA, custom_scalars=CUSTOM_SCALARS, mode=Mode.NEGATIVE))
    def check(query: str) -> None:
        response = send(role, query)
        assert_well_formed(response)
        assert response.json().get("errors"), response.text

    check()
