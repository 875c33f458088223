"""What a request costs the database, counted at the HTTP layer with the real app: statements,
round trips (BEGIN, COMMIT and ROLLBACK included) and new connections — exact counts, on
both databases (docs/request-path.md)."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from club.enums import Role
from club.settings import Settings
from db.models import Country
from schema.ids import encode_id
from server.app import create_app
from tests.conftest import checked_out, wire_on
from tests.factories import add, country_ids, organization
from tests.http.conftest import MakeToken, bearer, copying_state

S1 = "{ viewer { role } }"
S2 = """
{
  organizations(first: 50) {
    edges { node { name slug status kind website country { code name } } }
  }
}
"""


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, AsyncEngine]]:
    """The app in-process, and its engine. Its activity feed is stopped: nothing reads the
    log beside the requests being counted."""
    app = create_app(settings)
    async with LifespanManager(copying_state(app)) as manager:
        feed = app.state.feed
        await feed.stop()
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, feed.database.engine


@pytest.fixture
async def directory(session_factory: Any) -> dict[str, Any]:
    """60 organizations in three countries; S2's whole expected answer (the first 50 by
    name)."""
    ids = await country_ids(session_factory, "MD", "KE", "PL")
    codes = list(ids)
    rows = [
        organization(ids[codes[n % 3]], member=n % 2 == 0, website=f"https://o{n}.example.org")
        for n in range(60)
    ]
    await add(session_factory, *rows)
    async with session_factory() as session:
        names = {pk: name for pk, name in await session.execute(select(Country.id, Country.name))}
    first = sorted(rows, key=lambda row: (row.name, row.id))[:50]
    nodes = [
        {
            "node": {
                "name": row.name,
                "slug": row.slug,
                "status": row.status.value,
                "kind": row.kind.value,
                "website": row.website,
                "country": {
                    "code": next(code for code, pk in ids.items() if pk == row.country_id),
                    "name": names[row.country_id],
                },
            }
        }
        for row in first
    ]
    return {"data": {"organizations": {"edges": nodes}}}


async def ask(client: httpx.AsyncClient, token: str, query: str) -> Any:
    response = await client.post("/graphql", json={"query": query}, headers=bearer(token))
    assert response.status_code == 200
    return response.json()


# (statements, round trips): the token check (with the cache's high-water mark) is one
# statement, sent by the driver itself and counted there (tests/conftest.py); S2 adds its
# page, each organization with its country (the compiled read path joins a to-one
# relation: docs/architecture.md). No BEGIN, no ROLLBACK, no pre-ping. A `{ __typename }`
# and a cache hit on the short path: tests/http/test_short_path.py.
S1_COST = (1, 1)
CACHE_HIT_COST = (1, 1)
S2_COST = (2, 2)


@pytest.mark.parametrize(
    ("query", "cached", "cost"),
    [
        pytest.param(S1, False, S1_COST, id="S1"),
        pytest.param(S2, False, S2_COST, id="S2"),
        pytest.param(S2, True, CACHE_HIT_COST, id="S2-cache-hit"),
    ],
)
async def test_a_request_costs_its_statements_and_nothing_more(
    settings: Settings,
    directory: dict[str, Any],
    make_token: MakeToken,
    query: str,
    cached: bool,
    cost: tuple[int, int],
) -> None:
    token = await make_token(Role.PARTNER)
    expected = {"data": {"viewer": {"role": "PARTNER"}}} if query == S1 else directory
    settings = settings.model_copy(update={"response_cache_size": 1000 if cached else 0})
    async with served(settings) as (client, engine):
        assert await ask(client, token, query) == expected  # connects; fills the cache
        for _ in range(3):
            with wire_on(engine) as wire:
                assert await ask(client, token, query) == expected
            assert (len(wire.statements), wire.round_trips, wire.connections) == (*cost, 0)


async def test_a_mutation_runs_in_its_own_transaction_beside_the_request_reads(
    settings: Settings, session_factory: Any, make_token: MakeToken
) -> None:
    ids = await country_ids(session_factory, "MD")
    member = organization(ids["MD"], member=True, name="Before")
    await add(session_factory, member)
    token = await make_token(Role.ADMIN)
    rename = """
    mutation($id: ID!) {
      updateOrganization(id: $id, input: {name: "After"}) { organization { name } errors { code } }
    }
    """
    async with served(settings) as (client, engine):
        with wire_on(engine) as wire:
            response = await client.post(
                "/graphql",
                json={"query": rename, "variables": {"id": encode_id("Organization", member.id)}},
                headers=bearer(token),
            )
        assert response.json() == {
            "data": {"updateOrganization": {"organization": {"name": "After"}, "errors": []}}
        }
    # The token check; the mutation's BEGIN … COMMIT on its own connection, the request's
    # read connection given back first (a request never holds two).
    assert wire.round_trips == len(wire.statements) + 2


CLIENTS = 8
REQUESTS = 25
POOL_SIZE = 4


async def test_concurrent_clients_open_no_connection_beyond_the_pool(
    settings: Settings, directory: dict[str, Any], make_token: MakeToken
) -> None:
    token = await make_token(Role.PARTNER)
    settings = settings.model_copy(
        update={
            "response_cache_size": 0,
            "database_pool_size": POOL_SIZE,
            "rate_limit_partner": CLIENTS * REQUESTS,
        }
    )
    async with served(settings) as (client, engine):
        answers: list[Any] = []

        async def one_client() -> None:
            for _ in range(REQUESTS):
                answers.append(await ask(client, token, S2))

        with wire_on(engine) as wire:
            await asyncio.gather(*(one_client() for _ in range(CLIENTS)))
        assert answers == [directory] * (CLIENTS * REQUESTS)
        assert wire.round_trips == len(wire.statements) == CLIENTS * REQUESTS * S2_COST[0]
        assert wire.connections <= POOL_SIZE
        assert checked_out(engine) == 0  # every request gave its back


async def test_a_connection_killed_in_the_pool_is_replaced_and_the_request_succeeds(
    engine: AsyncEngine, settings: Settings, make_token: MakeToken, caplog: Any
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("ending a backend (pg_terminate_backend) is PostgreSQL's")
    token = await make_token(Role.PARTNER)
    settings = settings.model_copy(update={"response_cache_size": 0})
    async with served(settings) as (client, app_engine):
        assert await ask(client, token, S1) == {"data": {"viewer": {"role": "PARTNER"}}}
        # The pool holds the one connection the request used: end its backend, as a
        # database restart or an idle timeout would.
        async with app_engine.connect() as connection:
            pid = await connection.scalar(text("SELECT pg_backend_pid()"))
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with wire_on(app_engine) as wire, caplog.at_level(logging.ERROR):
            assert await ask(client, token, S1) == {"data": {"viewer": {"role": "PARTNER"}}}
        # The statement failed on the dead connection, then ran once more on a new one.
        assert (len(wire.statements), wire.connections) == (2, 1)
        assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_client_that_goes_away_mid_request_is_logged_once_at_info(
    settings: Settings, make_token: MakeToken, caplog: pytest.LogCaptureFixture
) -> None:
    """As uvicorn serves a client that closed its connection after sending its headers: the
    body never comes, `receive` says `http.disconnect`."""
    token = await make_token(Role.PARTNER)
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = post_scope(token, content_length=100)
    app = create_app(settings)
    async with LifespanManager(copying_state(app)) as manager:
        await app.state.feed.stop()
        caplog.clear()
        with caplog.at_level(logging.DEBUG):
            await manager.app(scope, receive, send)
        assert sent == []  # nobody to answer
        engine = app.state.feed.database.engine
        assert engine.sync_engine.pool.checkedout() == 0
    [record] = [r for r in caplog.records if r.name.startswith(("clubjustice", "uvicorn"))]
    assert (record.name, record.levelno, record.exc_info) == (
        "clubjustice.access",
        logging.INFO,
        None,
    )
    assert record.getMessage().startswith("POST /graphql 0 ")
    # The body comes before the token check, so nobody was authenticated for it.
    assert record.getMessage().endswith(" - - - (client disconnected)")


async def test_a_slow_body_holds_no_connection(settings: Settings, make_token: MakeToken) -> None:
    """A client that sends its headers and trickles its body must not pin a pooled
    connection meanwhile (with a pool of one, every other request would wait)."""
    token = await make_token(Role.PARTNER)
    body = orjson.dumps({"query": "{ viewer { role } }"})
    arrived = asyncio.Event()
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        if not arrived.is_set():
            await arrived.wait()
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = post_scope(token, content_length=len(body))
    app = create_app(settings.model_copy(update={"database_pool_size": 1}))
    async with LifespanManager(copying_state(app)) as manager:
        await app.state.feed.stop()
        pool = app.state.feed.database.engine.sync_engine.pool
        slow = asyncio.ensure_future(manager.app(dict(scope), receive, send))
        for _ in range(20):  # let it run until it waits for its body
            await asyncio.sleep(0)
        assert not slow.done()
        assert pool.checkedout() == 0
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
        ) as client:
            answer = await client.post(
                "/graphql",
                json={"query": "{ viewer { role } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert (answer.status_code, answer.json()) == (
            200,
            {"data": {"viewer": {"role": "PARTNER"}}},
        )
        arrived.set()
        await slow
        assert pool.checkedout() == 0
    assert sent[0]["status"] == 200
    assert orjson.loads(sent[1]["body"]) == {"data": {"viewer": {"role": "PARTNER"}}}


def post_scope(token: str, *, content_length: int) -> dict[str, Any]:
    """An HTTP POST to /graphql with a bearer token, as uvicorn hands it to the app."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(content_length).encode()),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
