"""Fixtures shared by every layer: a migrated database per backend, clean for each test.

SQLite always runs. PostgreSQL runs when CLUBJUSTICE_TEST_DATABASE_URL names a database
whose name contains "test" (it is wiped at the start of the session; under pytest-xdist,
each worker uses a database of its own named after it). The tests of rate
limits shared through Redis run when CLUBJUSTICE_TEST_REDIS_URL names a Redis; each test
keeps its keys under a prefix of its own.
"""

import asyncio
import functools
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from redis.asyncio import Redis
from sqlalchemy import URL, QueuePool, event, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from club.access import Principal
from club.enums import Role
from club.settings import Settings
from db.base import Base
from db.engine import (
    READ_WITHOUT_TRANSACTION,
    WRITE_OPTION,
    SessionFactory,
    create_engine,
    create_session_factory,
    create_write_session_factory,
    normalize_database_url,
)
from db.migrate import upgrade
from db.tokens import create_token
from resolvers.context import Context

POSTGRES_URL = os.environ.get("CLUBJUSTICE_TEST_DATABASE_URL")
POSTGRES_SKIP_REASON = (
    "PostgreSQL tests need CLUBJUSTICE_TEST_DATABASE_URL "
    "(e.g. postgresql://postgres@127.0.0.1:5432/clubjustice_test)"
)

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(POSTGRES_URL is None, reason=POSTGRES_SKIP_REASON),
    ),
]

REDIS_URL = os.environ.get("CLUBJUSTICE_TEST_REDIS_URL")
REDIS_SKIP_REASON = (
    "Redis tests need CLUBJUSTICE_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0; .ci/run sets "
    "it when a Redis answers there)"
)

PARTNER = Principal(Role.PARTNER)

# Reference data that migrations load and tests keep.
KEEP_TABLES = {"countries", "alembic_version"}


# pytest-xdist's worker ("gw0", "gw1", …) when the suite runs in several processes: each
# worker has a PostgreSQL database of its own beside the named one, created when the worker
# starts and dropped when it ends (pytest_configure, pytest_unconfigure).
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")


def named_postgres_url() -> URL:
    """The database CLUBJUSTICE_TEST_DATABASE_URL names, checked to be a test database."""
    assert POSTGRES_URL is not None
    url = make_url(normalize_database_url(POSTGRES_URL))
    if "test" not in (url.database or ""):
        raise pytest.UsageError(
            "CLUBJUSTICE_TEST_DATABASE_URL must name a database with 'test' in its name: "
            "the tests wipe it."
        )
    return url


def postgres_url() -> str:
    """This process's test database: the named one, or under pytest-xdist its worker's."""
    url = named_postgres_url()
    if XDIST_WORKER is not None:
        url = url.set(database=f"{url.database}_{XDIST_WORKER}")
    return url.render_as_string(hide_password=False)


async def on_the_postgresql_server(statement: str) -> None:
    """Runs a statement on the named test database's connection, for statements about the
    server's databases (CREATE DATABASE, DROP DATABASE)."""
    url = named_postgres_url()
    connection = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def pytest_configure(config: pytest.Config) -> None:
    if POSTGRES_URL is not None and XDIST_WORKER is not None:
        name = make_url(postgres_url()).database
        asyncio.run(on_the_postgresql_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(on_the_postgresql_server(f'CREATE DATABASE "{name}"'))


def pytest_unconfigure(config: pytest.Config) -> None:
    if POSTGRES_URL is not None and XDIST_WORKER is not None:
        name = make_url(postgres_url()).database
        asyncio.run(on_the_postgresql_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def database_url_for(backend: str, directory: Path) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{directory / 'clubjustice-test.db'}"
    return postgres_url()


async def reset_database(engine: AsyncEngine) -> None:
    """Drop everything, so migrations run from an empty database."""
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        else:
            await connection.run_sync(Base.metadata.drop_all)
            await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session", params=BACKENDS)
async def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    url = database_url_for(request.param, tmp_path_factory.mktemp(request.param))
    engine = create_engine(url)
    await reset_database(engine)
    await upgrade(engine)
    yield engine
    await engine.dispose()


async def clean_tables(engine: AsyncEngine) -> None:
    tables = [t for t in reversed(Base.metadata.sorted_tables) if t.name not in KEEP_TABLES]
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await connection.execute(table.delete())


@pytest.fixture
async def session_factory(engine: AsyncEngine) -> SessionFactory:
    await clean_tables(engine)
    return create_session_factory(engine)


@pytest.fixture
def settings(engine: AsyncEngine) -> Settings:
    # Budgets per process unless a test asks for Redis: a CLUBJUSTICE_REDIS_URL in the
    # developer's shell must not reach every test.
    return Settings(database_url=engine.url.render_as_string(hide_password=False), redis_url=None)


@pytest.fixture
def make_context(settings: Settings, session_factory: SessionFactory, engine: AsyncEngine) -> Any:
    """A fresh request context (new loaders) for a principal (default: a partner, who sees
    public fields only)."""

    def make(
        principal: Principal | None = None,
        now: datetime | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> Context:
        context = Context(
            settings=settings,
            principal=principal or PARTNER,
            session_factory=session_factory,
            write_session_factory=create_write_session_factory(engine),
        )
        if now is not None:
            # A fixed request clock: a mutation that reads the clock after its locks reads it.
            context.now = now
            context.clock = lambda: now
        if clock is not None:
            context.clock = clock
        return context

    return make


@pytest.fixture
def redis_url() -> str:
    if REDIS_URL is None:
        pytest.skip(REDIS_SKIP_REASON)
    return REDIS_URL


@pytest.fixture
async def redis_key_prefix(redis_url: str) -> AsyncIterator[str]:
    """A rate-limit key prefix of this test's own (parallel runs share one Redis); its keys
    are deleted after the test."""
    prefix = f"clubjustice-test:{uuid.uuid4().hex}:ratelimit"
    yield prefix
    client = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
def make_token(session_factory: SessionFactory) -> Any:
    """`await make_token(Role.PARTNER)`, `await make_token(Role.ORGANIZATION, 7)`: a new
    token, made as the command line makes it."""

    async def make(role: Role, organization_id: int | None = None) -> str:
        async with session_factory() as session, session.begin():
            _, token = await create_token(session, role, organization_id=organization_id)
        return token

    return make


@dataclass
class StatementLog:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def driver_statements_on(engine: AsyncEngine, record: Callable[[str], None]) -> Iterator[None]:
    """Calls `record` with each statement sent on `engine`'s pooled connections by the
    driver itself, past SQLAlchemy (a request's token check and the compiled read path's
    statements: RequestReads.first_row, RequestReads.rows): at asyncpg's
    `Connection.fetchrow` and `Connection.fetch` or aiosqlite's `Connection.execute`, which
    SQLAlchemy does not use (it runs prepared statements, and cursors)."""
    drivers: set[int] = set()
    unhook: list[Callable[[], None]] = []

    def counting(original: Callable[..., Any]) -> Callable[..., Any]:
        def counted(driver: Any, sql: str, *args: Any, **kwargs: Any) -> Any:
            if id(driver) in drivers:
                record(sql)
            return original(driver, sql, *args, **kwargs)

        return counted

    def checkout(dbapi_connection: Any, *args: Any) -> None:
        driver = dbapi_connection.driver_connection
        drivers.add(id(driver))
        kind = type(driver)
        names = ("fetchrow", "fetch") if hasattr(kind, "fetchrow") else ("execute",)
        if not unhook:
            for name in names:
                original = getattr(kind, name)
                setattr(kind, name, counting(original))
                unhook.append(functools.partial(setattr, kind, name, original))

    event.listen(engine.sync_engine, "checkout", checkout)
    try:
        yield
    finally:
        event.remove(engine.sync_engine, "checkout", checkout)
        for undo in unhook:
            undo()


@contextmanager
def statements_on(engine: AsyncEngine) -> Iterator[StatementLog]:
    """Records every SQL statement `engine` sends, but for transaction control (only
    SQLite's BEGIN passes through here), whether through SQLAlchemy or past it."""
    log = StatementLog()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.startswith("BEGIN"):
            log.statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        with driver_statements_on(engine, log.statements.append):
            yield log
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


@dataclass
class WireLog:
    """What an engine sent its database: statements, round trips, new connections."""

    statements: list[str] = field(default_factory=list)
    # Statements, and the BEGIN, COMMIT and ROLLBACK that reach the database: SQLAlchemy
    # reports those outside `before_cursor_execute`, and also for connections that send
    # none (AUTOCOMMIT on PostgreSQL, our reads without BEGIN on SQLite).
    round_trips: int = 0
    connections: int = 0


def _sends_begin(connection: Any) -> bool:
    options = connection.get_execution_options()
    if connection.dialect.name == "sqlite":
        return bool(options.get(WRITE_OPTION) != READ_WITHOUT_TRANSACTION)
    return bool(options.get("isolation_level") != "AUTOCOMMIT")


def checked_out(engine: AsyncEngine) -> int:
    """Connections taken from `engine`'s pool and not given back yet."""
    pool = engine.sync_engine.pool
    assert isinstance(pool, QueuePool), pool
    return pool.checkedout()


@contextmanager
def wire_on(engine: AsyncEngine) -> Iterator[WireLog]:
    """Records what `engine` sends: every statement and transaction-control message, and
    every connection its pool opens. (asyncpg sends no BEGIN in AUTOCOMMIT; SQLite's BEGIN
    is a statement we send from the engine's `begin` hook, counted once here.)"""
    log = WireLog()
    in_transaction: set[int] = set()

    def statement(conn: Any, cursor: Any, text_: str, *args: Any) -> None:
        if not text_.startswith("BEGIN"):
            log.statements.append(text_)
            log.round_trips += 1

    def begin(conn: Any) -> None:
        if _sends_begin(conn):
            in_transaction.add(id(conn))
            log.round_trips += 1

    def end(conn: Any) -> None:
        if id(conn) in in_transaction:
            in_transaction.discard(id(conn))
            log.round_trips += 1

    def connect(*args: Any) -> None:
        log.connections += 1

    def driver_statement(text_: str) -> None:
        statement(None, None, text_)

    listeners: list[tuple[str, Callable[..., None]]] = [
        ("before_cursor_execute", statement),
        ("begin", begin),
        ("commit", end),
        ("rollback", end),
        ("connect", connect),
    ]
    for name, listener in listeners:
        event.listen(engine.sync_engine, name, listener)
    try:
        with driver_statements_on(engine, driver_statement):
            yield log
    finally:
        for name, listener in listeners:
            event.remove(engine.sync_engine, name, listener)


@pytest.fixture
def count_statements(engine: AsyncEngine) -> Any:
    """`with count_statements() as log:` records the statements of the tests' engine."""
    return lambda: statements_on(engine)
