"""The strong floor: what a careful engineer would hand-write for each benchmark scenario.
Starlette + a pooled driver (asyncpg, or persistent aiosqlite connections) + orjson, no
ORM, no pre-ping, no pool reset, one statement per to-many level (to-one relations are
joined), integer limits inline. It builds JSON equal to our GraphQL responses
(tests/bench checks it), served as its own process:

    BENCH_FLOOR_DATABASE_URL=postgresql://… uvicorn --factory bench.strong_floor:create_floor_app

`POST /plain/sN` answers scenario N; `POST /token/sN` first looks the bearer token up in
`api_tokens` (one statement, by its SHA-256 hash, as our server does) and answers 401
without a valid one.
"""

import asyncio
import hashlib
import os
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

import aiosqlite
import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from club.ids import decode_id

POOL_SIZE = 8  # wrk's connections: one database connection per request in flight
S2_PAGE = 50
S3_ORGANIZATIONS = 20

TOKEN = (
    "SELECT t.role, t.organization_id, o.status FROM api_tokens t "
    "LEFT JOIN organizations o ON o.id = t.organization_id "
    "WHERE t.token_hash = {0} AND t.revoked_at IS NULL"
)
S2 = (
    "SELECT o.name, o.slug, o.status, o.kind, o.website, c.code, c.name "
    "FROM organizations o JOIN countries c ON c.id = o.country_id "
    f"ORDER BY o.name, o.id LIMIT {S2_PAGE}"
)
S3_COUNTRIES = "SELECT id, name FROM countries WHERE id IN ({0})"
S3_ORGANIZATIONS_RANKED = (
    "SELECT id, name, country_id FROM (SELECT id, name, country_id, row_number() OVER "
    "(PARTITION BY country_id ORDER BY name, id) AS rank FROM organizations "
    "WHERE country_id IN ({0})) ranked "
    f"WHERE rank <= {S3_ORGANIZATIONS} ORDER BY country_id, rank"
)
S3_ATTENDANCES = (
    "SELECT a.organization_id, a.role, e.title, h.name FROM attendances a "
    "JOIN events e ON e.id = a.event_id JOIN organizations h ON h.id = e.host_id "
    "WHERE a.organization_id IN ({0}) ORDER BY a.organization_id, a.recorded_at, a.id"
)
S4 = (
    "SELECT o.id, o.name, o.slug, c.code FROM organizations o "
    "JOIN countries c ON c.id = o.country_id WHERE o.id IN ({0})"
)
# On PostgreSQL one array parameter stands for the list, so each statement is prepared once.
PG_S3_COUNTRIES = "SELECT id, name FROM countries WHERE id = ANY($1::int[])"
PG_S3_ORGANIZATIONS = (
    "SELECT o.id, o.name, o.country_id FROM unnest($1::int[]) AS c(id) CROSS JOIN LATERAL "
    "(SELECT id, name, country_id FROM organizations WHERE country_id = c.id "
    f"ORDER BY name, id LIMIT {S3_ORGANIZATIONS}) o"
)
PG_S3_ATTENDANCES = S3_ATTENDANCES.replace("IN ({0})", "= ANY($1::int[])")
PG_S4 = S4.replace("IN ({0})", "= ANY($1::int[])")


class Row(Protocol):
    """A row as either driver gives it (asyncpg's Record, sqlite3's Row): read by position
    or unpacked."""

    def __getitem__(self, index: int) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


class Store(Protocol):
    """One pooled way to run a statement: `fetch(sql, *args)` returns rows as tuples.
    `in_list(sql, values)` fills a statement's `{0}` list of integers."""

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]: ...

    async def fetch_in(self, sql: str, pg_sql: str, values: list[int]) -> Sequence[Row]: ...

    async def close(self) -> None: ...


class PostgresStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, url: str) -> "PostgresStore":
        async def keep(connection: asyncpg.Connection) -> None:
            """No reset on release: asyncpg's default costs a round trip per request, and
            these handlers leave no session state behind."""

        pool = await asyncpg.create_pool(
            url.replace("postgresql+asyncpg://", "postgresql://"),
            min_size=POOL_SIZE,
            max_size=POOL_SIZE,
            reset=keep,
        )
        return cls(pool)

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]:
        if args:
            sql = sql.format("$1")
        return await self.pool.fetch(sql, *args)

    async def fetch_in(self, sql: str, pg_sql: str, values: list[int]) -> Sequence[Row]:
        return await self.pool.fetch(pg_sql, values)

    async def close(self) -> None:
        await self.pool.close()


class SqliteStore:
    """aiosqlite connections opened once and handed out from a queue (each has its own
    thread), so a request never opens a file."""

    def __init__(self, connections: "asyncio.Queue[aiosqlite.Connection]") -> None:
        self.connections = connections

    @classmethod
    async def open(cls, url: str) -> "SqliteStore":
        path = url.split(":///", 1)[1]
        queue: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        for _ in range(POOL_SIZE):
            queue.put_nowait(await aiosqlite.connect(path))
        return cls(queue)

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]:
        if args:
            sql = sql.format("?")
        connection = await self.connections.get()
        try:
            return await connection.execute_fetchall(sql, args)  # type: ignore[return-value]
        finally:
            self.connections.put_nowait(connection)

    async def fetch_in(self, sql: str, pg_sql: str, values: list[int]) -> Sequence[Row]:
        # Integers only, so inlining them is safe; SQLite caps bound parameters.
        return await self.fetch(sql.format(",".join(str(int(v)) for v in values) or "NULL"))

    async def close(self) -> None:
        while not self.connections.empty():
            await self.connections.get_nowait().close()


async def open_store(url: str) -> Store:
    if url.startswith("sqlite"):
        return await SqliteStore.open(url)
    return await PostgresStore.open(url)


def _json(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


UNAUTHENTICATED = Response(
    b'{"data":null,"errors":[{"message":"The token is unknown or revoked.",'
    b'"extensions":{"code":"UNAUTHENTICATED"}}]}',
    status_code=401,
    media_type="application/json",
)


async def token_owner(store: Store, authorization: str | None) -> Row | None:
    """The token's row (role, organization id, its status), or None: one statement."""
    if authorization is None or not authorization.lower().startswith("bearer "):
        return None
    digest = hashlib.sha256(authorization[7:].strip().encode()).hexdigest()
    rows = await store.fetch(TOKEN, digest)
    return rows[0] if rows else None


async def s1(store: Store, variables: dict[str, Any]) -> Any:
    return {"data": {"__typename": "Query"}}


async def s2(store: Store, variables: dict[str, Any]) -> Any:
    rows = await store.fetch(S2)
    edges = [
        {
            "node": {
                "name": name,
                "slug": slug,
                "status": status,
                "kind": kind,
                "website": website,
                "country": {"code": code, "name": country},
            }
        }
        for name, slug, status, kind, website, code, country in rows
    ]
    return {"data": {"organizations": {"edges": edges}}}


async def s3(store: Store, variables: dict[str, Any]) -> Any:
    """_entities(20 countries) { name organizations(first: 20) { name attendances { role
    event { title host { name } } } } }"""
    ids = [decode_id("Country", r["id"]) for r in variables["representations"]]
    countries = {i: name for i, name in await store.fetch_in(S3_COUNTRIES, PG_S3_COUNTRIES, ids)}
    organizations = await store.fetch_in(
        S3_ORGANIZATIONS_RANKED, PG_S3_ORGANIZATIONS, list(countries)
    )
    attendances: dict[int, list[Any]] = defaultdict(list)
    for organization_id, role, title, host in await store.fetch_in(
        S3_ATTENDANCES, PG_S3_ATTENDANCES, [o[0] for o in organizations]
    ):
        attendances[organization_id].append(
            {"role": role, "event": {"title": title, "host": {"name": host}}}
        )
    by_country: dict[int, list[Any]] = defaultdict(list)
    for organization_id, name, country_id in organizations:
        by_country[country_id].append({"name": name, "attendances": attendances[organization_id]})
    entities = [
        {"name": countries[i], "organizations": by_country[i]} if i in countries else None
        for i in ids
    ]
    return {"data": {"_entities": entities}}


async def s4(store: Store, variables: dict[str, Any]) -> Any:
    """_entities(100 organizations) { ... on Organization { name slug country { code } } }"""
    ids = [decode_id("Organization", r["id"]) for r in variables["representations"]]
    found = {row[0]: row for row in await store.fetch_in(S4, PG_S4, ids)}
    entities = [
        {"name": found[i][1], "slug": found[i][2], "country": {"code": found[i][3]}}
        if i in found
        else None
        for i in ids
    ]
    return {"data": {"_entities": entities}}


Handler = Callable[[Store, dict[str, Any]], Awaitable[Any]]
SCENARIOS: dict[str, Handler] = {"s1": s1, "s2": s2, "s3": s3, "s4": s4}


def _route(name: str, handler: Handler, with_token: bool) -> Route:
    async def endpoint(request: Request) -> Response:
        store: Store = request.app.state.store
        body = orjson.loads(await request.body())
        if with_token and await token_owner(store, request.headers.get("authorization")) is None:
            return UNAUTHENTICATED
        return _json(await handler(store, body.get("variables") or {}))

    prefix = "token" if with_token else "plain"
    return Route(f"/{prefix}/{name}", endpoint, methods=["POST"], name=f"{prefix}-{name}")


async def ready(request: Request) -> Response:
    return Response(b"ok")


def create_floor_app(database_url: str | None = None) -> Starlette:
    url = database_url or os.environ["BENCH_FLOOR_DATABASE_URL"]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.store = await open_store(url)
        yield
        await app.state.store.close()

    routes = [Route("/readyz", ready)]
    routes += [
        _route(name, handler, with_token)
        for name, handler in SCENARIOS.items()
        for with_token in (False, True)
    ]
    return Starlette(routes=routes, lifespan=lifespan)
