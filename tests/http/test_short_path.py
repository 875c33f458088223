"""The short path (server/app.py `_answer_plainly`): a response-cache hit, and with the cache
off an operation whose answer the schema fixes, answered before strawberry's view — with
the same status, headers and bytes, the same metrics and log line, one statement (the token
check), no strawberry execution, no Request, no SQLAlchemy connection or session. Counted,
not timed (docs/request-path.md)."""

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

import server.app
from club.enums import Role
from club.settings import Settings
from schema.root import ClubSchema
from server.app import ClubJusticeGraphQL, create_app
from tests.conftest import wire_on
from tests.http.conftest import MakeToken, bearer, copying_state

TYPENAME = "{ __typename }"
VIEWER = "query Who { viewer { role } }"
COUNTRIES = "query Few($first: Int) { organizations(first: $first) { edges { node { name } } } }"
VIEWER_BODY = b'{"query": "query Who { viewer { role } }"}'


@dataclass
class Work:
    """What the requests inside `counted` set going: strawberry's view (`run`), schema
    executions, and SQLAlchemy connections made on a request's pooled connection."""

    views: int = 0
    executions: int = 0
    orm_connections: int = 0


@contextmanager
def counted(monkeypatch: pytest.MonkeyPatch, engine: AsyncEngine) -> Iterator[Work]:
    work = Work()
    run, execute = ClubJusticeGraphQL.run, ClubSchema.execute

    async def counting_run(self: Any, *args: Any, **kwargs: Any) -> Any:
        work.views += 1
        return await run(self, *args, **kwargs)

    async def counting_execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        work.executions += 1
        return await execute(self, *args, **kwargs)

    def connected(*args: Any) -> None:
        work.orm_connections += 1

    with monkeypatch.context() as patch:
        patch.setattr(ClubJusticeGraphQL, "run", counting_run)
        patch.setattr(ClubSchema, "execute", counting_execute)
        event.listen(engine.sync_engine, "engine_connect", connected)
        try:
            yield work
        finally:
            event.remove(engine.sync_engine, "engine_connect", connected)


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, AsyncEngine]]:
    app = create_app(settings)
    async with LifespanManager(copying_state(app)) as manager:
        feed = app.state.feed
        await feed.stop()  # nothing reads the log beside the requests counted
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, feed.database.engine


def cache_settings(settings: Settings, *, cached: bool) -> Settings:
    return settings.model_copy(update={"response_cache_size": 1000 if cached else 0})


async def post(
    client: httpx.AsyncClient, token: str, body: dict[str, Any], **headers: str
) -> httpx.Response:
    return await client.post("/graphql", json=body, headers=bearer(token) | headers)


def comparable(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, every header but the request id (in order), and the body's bytes."""
    headers = [(k, v) for k, v in response.headers.multi_items() if k != "x-request-id"]
    return response.status_code, headers, response.content


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


@pytest.mark.parametrize(
    ("cached", "body"),
    [
        pytest.param(True, {"query": VIEWER}, id="cache-hit"),
        pytest.param(
            True,
            {"query": COUNTRIES, "variables": {"first": 2}, "operationName": "Few"},
            id="cache-hit-variables",
        ),
        pytest.param(False, {"query": TYPENAME}, id="typename-cache-off"),
        pytest.param(False, {"query": "{ a: __typename b: __typename }"}, id="aliases-cache-off"),
    ],
)
async def test_answered_before_the_view_with_one_statement_and_the_same_bytes(
    settings: Settings,
    make_token: MakeToken,
    monkeypatch: pytest.MonkeyPatch,
    cached: bool,
    body: dict[str, Any],
) -> None:
    token = await make_token(Role.PARTNER)
    async with served(cache_settings(settings, cached=cached)) as (client, engine):
        with counted(monkeypatch, engine) as first_work:
            first = await post(client, token, body)  # the view runs it, and keeps its answer
        assert first.status_code == 200
        assert (first_work.views, first_work.executions) == (1, 1)
        for _ in range(3):
            with counted(monkeypatch, engine) as work, wire_on(engine) as wire:
                again = await post(client, token, body)
            assert comparable(again) == comparable(first)
            assert again.headers["x-request-id"] != first.headers["x-request-id"]
            assert (work.views, work.executions, work.orm_connections) == (0, 0, 0)
            assert (len(wire.statements), wire.round_trips, wire.connections) == (1, 1, 0)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"query": "query Ping { __typename }", "operationName": "Ping"}, id="named"),
        # Without `operationName`, strawberry names it after the document's one operation.
        pytest.param({"query": "query Ping { __typename }"}, id="named-by-the-document"),
    ],
)
async def test_the_short_path_counts_and_logs_as_the_view_does(
    settings: Settings,
    make_token: MakeToken,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    body: dict[str, Any],
) -> None:
    """Cache off: `{ __typename }` named `Ping`, five times; the first runs in strawberry
    (Observe counts it), the other four do not, and are counted and logged alike."""
    token = await make_token(Role.PARTNER)
    async with served(cache_settings(settings, cached=False)) as (client, engine):
        with counted(monkeypatch, engine) as work, caplog.at_level(logging.INFO):
            for _ in range(5):
                assert (await post(client, token, body)).json() == {"data": {"__typename": "Query"}}
        assert work.executions == 1
        metrics = (await client.get("/metrics")).text
    key = (("operation_name", "Ping"), ("operation_type", "query"))
    assert samples(metrics, "clubjustice_graphql_operations_total")[key] == 5
    assert samples(metrics, "clubjustice_graphql_operation_duration_seconds_count")[key] == 5
    lines = [r.getMessage() for r in caplog.records if r.name == "clubjustice.access"]
    assert len(lines) == 5
    assert all(line.endswith(" PARTNER query Ping") for line in lines), lines
    assert {line.split()[:3][2] for line in lines} == {"200"}


async def test_a_cache_hit_is_logged_with_the_name_the_miss_was_logged_with(
    settings: Settings, make_token: MakeToken, caplog: pytest.LogCaptureFixture
) -> None:
    """The operation's name is the document's when the request sends no `operationName`."""
    token = await make_token(Role.PARTNER)
    async with served(cache_settings(settings, cached=True)) as (client, _):
        with caplog.at_level(logging.INFO):
            for _ in range(3):
                await post(client, token, {"query": VIEWER})
    lines = [r.getMessage() for r in caplog.records if r.name == "clubjustice.access"]
    assert len(lines) == 3
    assert all(line.endswith(" PARTNER query Who") for line in lines), lines


async def test_a_cache_hit_on_the_short_path_counts_as_a_hit(
    settings: Settings, make_token: MakeToken
) -> None:
    token = await make_token(Role.PARTNER)
    async with served(cache_settings(settings, cached=True)) as (client, _):
        for _ in range(4):
            await post(client, token, {"query": VIEWER})
        metrics = (await client.get("/metrics")).text
    assert samples(metrics, "clubjustice_response_cache_total") == {
        (("result", "miss"),): 1,
        (("result", "hit"),): 3,
    }


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        pytest.param({"query": VIEWER, "extensions": {"x": 1}}, {}, id="extensions"),
        pytest.param({"query": VIEWER}, {"idempotency-key": "k-1"}, id="idempotency-key"),
        pytest.param({"query": VIEWER}, {"apollo-federation-include-trace": "ftv1"}, id="ftv1"),
        pytest.param({"query": VIEWER}, {"accept": "text/event-stream"}, id="stream"),
        pytest.param({"query": VIEWER, "variables": [1]}, {}, id="variables-not-an-object"),
        pytest.param({"query": VIEWER, "operationName": 7}, {}, id="operation-name-not-a-string"),
    ],
)
async def test_anything_not_plainly_a_hit_goes_through_the_view(
    settings: Settings,
    make_token: MakeToken,
    monkeypatch: pytest.MonkeyPatch,
    body: dict[str, Any],
    headers: dict[str, str],
) -> None:
    token = await make_token(Role.PARTNER)
    async with served(cache_settings(settings, cached=True)) as (client, engine):
        await post(client, token, {"query": VIEWER})  # in the cache now
        with counted(monkeypatch, engine) as work:
            await post(client, token, body, **headers)
    assert work.views == 1


async def test_a_constant_is_kept_per_role_and_not_for_other_operations(
    settings: Settings, make_token: MakeToken, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cache off: what the schema does not fix runs every time, and a role that has not run
    `{ __typename }` yet runs it in strawberry first (each role's limits judge it). (Compiled
    reads off: their own short path would answer the plannable ones again:
    tests/http/test_compiled_short_path.py.)"""
    partner, admin = await make_token(Role.PARTNER), await make_token(Role.ADMIN)
    settings = cache_settings(settings, cached=False).model_copy(update={"compiled_reads": False})
    async with served(settings) as (client, engine):
        with counted(monkeypatch, engine) as work:
            for _ in range(3):
                await post(client, partner, {"query": VIEWER})
                await post(client, partner, {"query": "{ __typename viewer { role } }"})
                await post(
                    client,
                    partner,
                    {
                        "query": "query($s: Boolean!) { __typename @skip(if: $s) }",
                        "variables": {"s": False},
                    },
                )
            await post(client, partner, {"query": TYPENAME})
            await post(client, admin, {"query": TYPENAME})
            await post(client, admin, {"query": TYPENAME})
    assert work.executions == 3 * 3 + 1 + 1


async def test_a_body_is_read_once_while_the_cache_is_on(
    settings: Settings, make_token: MakeToken, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The short path keeps the fields of the bodies that were hits (`PlainRequest`, without
    their parsed variables), by their bytes: a client repeating a query sends the same ones.
    A miss is not kept; bodies over 16 KiB are read each time; the oldest body goes first
    past `PLAIN_BODIES_KEPT`. Variables in another order are another body, and the same
    cache entry."""
    reads: list[bytes] = []
    read = server.app._plain_request

    def counted_read(body: bytes, *, keyed: bool) -> Any:
        assert keyed
        reads.append(body)
        return read(body, keyed=keyed)

    kept: list[Any] = []
    remember = ClubJusticeGraphQL._remember_plain

    def recorded(self: ClubJusticeGraphQL, body: bytes, plain: Any) -> None:
        kept.append(plain)
        remember(self, body, plain)

    monkeypatch.setattr(server.app, "_plain_request", counted_read)
    monkeypatch.setattr(ClubJusticeGraphQL, "_remember_plain", recorded)
    monkeypatch.setattr(server.app, "PLAIN_BODIES_KEPT", 2)
    token = await make_token(Role.PARTNER)
    few = b'{"query": "%s", "variables": {"first": 2, "x": 1}}' % COUNTRIES.encode()
    reordered = b'{"variables": {"x": 1, "first": 2}, "query": "%s"}' % COUNTRIES.encode()
    padded = few[:-1] + b', "operationName": null' + b" " * 16_384 + b"}"

    async def send(body: bytes) -> httpx.Response:
        headers = bearer(token) | {"content-type": "application/json"}
        return await client.post("/graphql", content=body, headers=headers)

    async with served(cache_settings(settings, cached=True)) as (client, engine):
        first = await send(few)  # the view runs it: a miss
        with counted(monkeypatch, engine) as work:
            answers = [await send(body) for body in (few, few, reordered, padded, padded)]
            assert [comparable(answer) for answer in answers] == [comparable(first)] * 5
            assert work.views == 0
            # `few` read at the miss and at its first hit, then kept; `reordered` at its first
            # hit; `padded`, too long, each time.
            assert reads == [few, few, reordered, padded, padded]
            assert [(plain.query, plain.variables) for plain in kept] == [(COUNTRIES, None)] * 2
            await send(reordered)
            await send(VIEWER_BODY)  # a miss: not kept
            await send(VIEWER_BODY)  # a hit: the third body kept, `few` goes
            await send(few)
            assert reads[5:] == [VIEWER_BODY, VIEWER_BODY, few]
