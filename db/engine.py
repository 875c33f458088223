"""Engines and session factories; created by the application's lifespan, never at import."""

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import Connection, Dialect, Executable, Result, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool, Pool, PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from club.settings import ASYNC_DRIVERS
from db.keys import KEYS
from db.prepared import AnySelect, Batched, PreparedShapes

SessionFactory = async_sessionmaker[AsyncSession]
# Where reads get a session: a factory of short sessions, or one request's shared session
# (RequestReads). Either way, `async with sessions() as session:` reads.
ReadSessions = Callable[[], AbstractAsyncContextManager[AsyncSession]]
T = TypeVar("T")

# How many connections each server process keeps open, by default: the requests one
# process serves at once (each holds one connection from its token check to its response).
DEFAULT_POOL_SIZE = 10


def normalize_database_url(url: str) -> str:
    """Accept the URLs people paste (postgresql://, sqlite:///) and pick the async drivers."""
    parsed = make_url(url)
    parsed = parsed.set(drivername=ASYNC_DRIVERS.get(parsed.drivername, parsed.drivername))
    return parsed.render_as_string(hide_password=False)


def create_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = DEFAULT_POOL_SIZE,
    max_overflow: int = 0,
    **options: Any,
) -> AsyncEngine:
    """No pre-ping: it costs a round trip per checkout. A connection that died in the pool
    fails its first statement instead, which invalidates the pool, and a request's first
    read retries once (RequestReads.first_row)."""
    url = normalize_database_url(url)
    engine = create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=max_overflow,
        **options,
    )
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
        event.listen(engine.sync_engine, "begin", _begin_sqlite_transaction)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # The driver would BEGIN only before writes, so a read-then-write transaction could
    # act on a stale read; we emit BEGIN ourselves (SQLAlchemy's documented recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # Foreign keys are off by default in SQLite; WAL lets readers run beside a writer.
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA busy_timeout = 5000")
    cursor.close()


def _begin_sqlite_transaction(connection: Any) -> None:
    # Writers take the write lock at BEGIN (IMMEDIATE), so that "read, check a rule, write"
    # runs one writer at a time; readers stay DEFERRED and run beside them (WAL). A
    # request's reads (READ_WITHOUT_TRANSACTION) send no BEGIN: each statement is its own
    # transaction, as on PostgreSQL in AUTOCOMMIT.
    mode = connection.get_execution_options().get(WRITE_OPTION, "DEFERRED")
    if mode != READ_WITHOUT_TRANSACTION:
        connection.exec_driver_sql(f"BEGIN {mode}")


WRITE_OPTION = "clubjustice_sqlite_begin"
READ_WITHOUT_TRANSACTION = "NONE"


def reads_without_transaction(engine: AsyncEngine) -> AsyncEngine:
    """The engine for requests' reads: no BEGIN, no ROLLBACK; each statement sees what has
    committed when it runs. (A request's statements need no common snapshot: they never
    had one, each loader read in its own transaction.)"""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{WRITE_OPTION: READ_WITHOUT_TRANSACTION})
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions for reads."""
    return async_sessionmaker(engine, expire_on_commit=False)


def create_write_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions for a mutation's transaction: BEGIN IMMEDIATE on SQLite; on PostgreSQL the
    same as reads (mutations lock the rows they decide on)."""
    return async_sessionmaker(
        engine.execution_options(**{WRITE_OPTION: "IMMEDIATE"}), expire_on_commit=False
    )


class RequestFinished(RuntimeError):
    """A read after the request released its connection (a task that outlived it)."""


class RequestReads:
    """One request's reads, on one pooled connection without a transaction: taken at the
    first read (the token check), returned by `release()` when the response is sent.

    The token check (`first_row`) runs on the pooled driver connection itself (asyncpg's or
    aiosqlite's), with none of SQLAlchemy's execution layers; the operation's reads, if it
    has any, get a SQLAlchemy connection and session made on that same pooled connection
    (`_connect`). A request answered after its token check alone (a response-cache hit)
    never builds them (docs/request-path.md).

    Loaders run concurrently, and an AsyncSession must never be used by two at once: each
    use holds a lock, so their statements take turns on the connection (one connection
    runs one statement at a time anyway). Call it like a session factory:
    `async with reads() as session:`.
    """

    __slots__ = ("_connection", "_engine", "_finished", "_lock", "_pooled", "_session", "_shapes")

    def __init__(self, engine: AsyncEngine, shapes: PreparedShapes | None = None) -> None:
        self._engine = engine
        self._shapes = PreparedShapes(engine.dialect) if shapes is None else shapes
        self._pooled: PoolProxiedConnection | None = None
        self._connection: AsyncConnection | None = None
        self._session: AsyncSession | None = None
        self._lock = asyncio.Lock()
        self._finished = False

    def __call__(self) -> "_SharedSession":
        return _SharedSession(self)

    @property
    def dialect(self) -> Dialect:
        return self._engine.dialect

    async def execute(self, statement: Executable) -> Result[Any]:
        """One Core statement (no ORM), through SQLAlchemy; retried once on a dropped
        connection, as SQLAlchemy reports it."""
        async with self._lock:
            try:
                return await (await self._connect()).execute(statement)
            except DBAPIError as error:
                if not error.connection_invalidated:
                    raise
            await self._close()
            return await (await self._connect()).execute(statement)

    async def first_row(self, sql: str, parameters: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """The first row of one statement already compiled for this dialect (positional
        parameters), sent by the driver itself."""
        return await self._on_driver(_first_row, sql, parameters)

    async def rows(self, statement: AnySelect) -> Sequence[Sequence[Any]]:
        """The rows of one Core select, sent by the driver itself with its shape compiled
        once (db/prepared.py), each value as SQLAlchemy's `Result` would hold it. Raises
        `NotPreparable` (before sending anything) for a statement whose text depends on its
        values."""
        prepared, parameters = self._shapes.get(statement)
        return prepared.rows(await self._on_driver(_all_rows, prepared.sql, parameters))

    async def batch(self, batched: Batched, keys: Collection[Any]) -> Sequence[Sequence[Any]]:
        """The rows of a `Batched` statement for `keys`, sent by the driver itself."""
        return await self.bound(batched, {KEYS: keys})

    async def bound(self, batched: Batched, values: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        """The rows of a `Batched` statement with its named parameters' `values`, sent by the
        driver itself."""
        prepared = batched.prepared(self._engine.dialect)
        parameters = prepared.bind(values)
        return prepared.rows(await self._on_driver(_all_rows, prepared.sql, parameters))

    async def _on_driver(
        self,
        send: Callable[[Any, str, tuple[Any, ...]], Awaitable[T]],
        sql: str,
        parameters: tuple[Any, ...],
    ) -> T:
        """`send(driver connection, sql, parameters)` on the request's pooled connection.

        When the connection turns out to have died in the pool (a database restart, an idle
        timeout), it is replaced and the statement runs once more: reads change nothing,
        so running one twice is safe. Connections opened before the dead one are replaced at
        their next checkout, as SQLAlchemy does when it meets a disconnect itself."""
        async with self._lock:
            pooled = await self._checkout()
            try:
                return await send(pooled.driver_connection, sql, parameters)
            except Exception as error:
                if not _disconnected(pooled.driver_connection, error):
                    raise
                # The session and connection made on it (if any) go with it: invalidated
                # below, it is already back in the pool.
                self._session = self._connection = self._pooled = None
                # In a greenlet: closing the dead connection may await (the driver's close).
                await greenlet_spawn(invalidate_since, self._engine, pooled, error)
            return await send((await self._checkout()).driver_connection, sql, parameters)

    async def release(self, *, finished: bool = False) -> None:
        """Return the connection to the pool (after the reads in flight). The next read takes
        one again, unless the request is `finished`."""
        if self._pooled is None and not self._lock.locked():
            self._finished = self._finished or finished  # nothing taken, nothing in flight
            return
        async with self._lock:
            self._finished = self._finished or finished
            await self._close()

    async def _checkout(self) -> PoolProxiedConnection:
        if self._pooled is None:
            if self._finished:
                raise RequestFinished("this request's reads are over")
            self._pooled = await checkout(self._engine)
        return self._pooled

    async def _connect(self) -> AsyncConnection:
        """A SQLAlchemy connection on the request's pooled connection (taken now if the
        token check has not taken it), with the engine's options (AUTOCOMMIT)."""
        if self._connection is None:
            pooled = await self._checkout()
            self._connection = AsyncConnection(
                self._engine, await greenlet_spawn(Connection, self._engine.sync_engine, pooled)
            )
        return self._connection

    async def _open_session(self) -> AsyncSession:
        if self._session is None:
            self._session = AsyncSession(bind=await self._connect(), expire_on_commit=False)
        return self._session

    async def _close(self) -> None:
        session, connection, pooled = self._session, self._connection, self._pooled
        self._session = self._connection = self._pooled = None
        try:
            if session is not None:
                await session.close()
        finally:
            if connection is not None:
                await connection.close()  # and with it the pooled connection
            elif pooled is not None:
                if self._engine.dialect.driver == "asyncpg":
                    # Returning it needs no await here: SQLAlchemy 2.1's asyncpg adapter
                    # rolls back on return only a transaction it began, and the token check
                    # (the driver's own statement) begins none. A greenlet costs 40 µs.
                    pooled.close()
                else:
                    await greenlet_spawn(pooled.close)  # aiosqlite's rollback is awaited


def hands_out_as_is(pool: Pool) -> bool:
    """Whether SQLAlchemy's checkout from `pool` now takes an idle connection and hands it out
    as it is, awaiting nothing: a connection waits in the pool (else it would connect or
    wait), and the one it would take (the queue's head) needs no replacing (as
    `_ConnectionRecord.get_connection` decides: none if it was invalidated, opened before a
    disconnect invalidated the pool, soft-invalidated, or older than `pool_recycle`) and no
    pre-ping. SQLAlchemy 2.1's private names, as `invalidate_since` uses them; pinned by
    tests/db/test_request_reads.py (on an upgrade, re-check them there)."""
    if not isinstance(pool, AsyncAdaptedQueuePool) or pool._pre_ping:
        return False
    queue = pool._pool
    idle = queue._queue._queue  # type: ignore[attr-defined]  # the asyncio queue's deque
    if not idle:
        return False
    record = idle[-1] if queue.use_lifo else idle[0]  # what its get_nowait() takes
    return not record._is_hard_or_soft_invalidated() and (
        pool._recycle < 0 or time.time() - record.starttime <= pool._recycle
    )


async def checkout(engine: AsyncEngine) -> PoolProxiedConnection:
    """A connection from the engine's pool: in a greenlet, as `AsyncEngine.raw_connection`
    takes one, where the checkout may await (it connects, waits for a connection, replaces
    one, pings one); directly when it hands an idle connection out as it is
    (`hands_out_as_is`). A greenlet for every request cost about 10 µs, and a fresh 16 KiB
    frame stack mapped and unmapped (docs/request-path.md). (Trying directly and catching
    SQLAlchemy's MissingGreenlet instead would leave asyncpg's `connect` coroutine unawaited,
    a RuntimeWarning in the log.)"""
    sync_engine = engine.sync_engine
    if hands_out_as_is(sync_engine.pool):
        return sync_engine.raw_connection()
    return await greenlet_spawn(sync_engine.raw_connection)


async def _all_rows(driver: Any, sql: str, parameters: tuple[Any, ...]) -> Sequence[Any]:
    """One statement's rows on a driver connection: asyncpg's `fetch`, or aiosqlite's cursor."""
    if hasattr(driver, "fetch"):
        return await driver.fetch(sql, *parameters)  # type: ignore[no-any-return]
    cursor = await driver.execute(sql, parameters)
    try:
        return await cursor.fetchall()  # type: ignore[no-any-return]
    finally:
        await cursor.close()


async def _first_row(driver: Any, sql: str, parameters: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """One statement on a driver connection: asyncpg's `fetchrow`, or aiosqlite's cursor."""
    if hasattr(driver, "fetchrow"):
        row = await driver.fetchrow(sql, *parameters)
        return None if row is None else tuple(row)
    cursor = await driver.execute(sql, parameters)
    try:
        found = await cursor.fetchone()
    finally:
        await cursor.close()
    return None if found is None else tuple(found)


def _disconnected(driver: Any, error: Exception) -> bool:
    """Whether `error` means the driver connection is gone (asyncpg marks it closed)."""
    is_closed = getattr(driver, "is_closed", None)
    return isinstance(error, ConnectionError) or (callable(is_closed) and bool(is_closed()))


def invalidate_since(engine: AsyncEngine, pooled: PoolProxiedConnection, error: Exception) -> None:
    """Discard `pooled`, and have the pool replace every connection opened before it at its
    next checkout. SQLAlchemy 2.1 does this itself when a statement it runs meets a
    disconnect (`Connection._handle_dbapi_exception`, through the private
    `Pool._invalidate`); the token check runs past SQLAlchemy, so it asks the same."""
    engine.sync_engine.pool._invalidate(pooled, error)


class _SharedSession:
    __slots__ = ("_reads",)

    def __init__(self, reads: RequestReads) -> None:
        self._reads = reads

    async def __aenter__(self) -> AsyncSession:
        await self._reads._lock.acquire()
        try:
            return await self._reads._open_session()
        except BaseException:
            self._reads._lock.release()
            raise

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if error is not None:
                # Whatever failed, the next read starts on a clean session and connection.
                await self._reads._close()
        finally:
            self._reads._lock.release()


@dataclass(frozen=True)
class Database:
    """An engine and its session factories, opened by the application's lifespan."""

    engine: AsyncEngine
    session_factory: SessionFactory
    write_session_factory: SessionFactory

    @classmethod
    def open(
        cls,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = DEFAULT_POOL_SIZE,
        max_overflow: int = 0,
    ) -> "Database":
        engine = create_engine(url, echo=echo, pool_size=pool_size, max_overflow=max_overflow)
        return cls(engine, create_session_factory(engine), create_write_session_factory(engine))

    @functools.cached_property
    def read_engine(self) -> AsyncEngine:
        return reads_without_transaction(self.engine)

    @functools.cached_property
    def prepared_shapes(self) -> PreparedShapes:
        """The statement shapes requests' reads have compiled (db/prepared.py)."""
        return PreparedShapes(self.engine.dialect)

    def request_reads(self) -> RequestReads:
        """A new request's reads (see RequestReads)."""
        return RequestReads(self.read_engine, self.prepared_shapes)
