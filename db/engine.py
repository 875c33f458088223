"""Engines and session factories; created by the application's lifespan, never at import."""

import asyncio
import functools
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from sqlalchemy import Dialect, Executable, Result, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from club.settings import ASYNC_DRIVERS

SessionFactory = async_sessionmaker[AsyncSession]
# Where reads get a session: a factory of short sessions, or one request's shared session
# (RequestReads). Either way, `async with sessions() as session:` reads.
ReadSessions = Callable[[], AbstractAsyncContextManager[AsyncSession]]

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
    read retries once (RequestReads.execute)."""
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

    Loaders run concurrently, and an AsyncSession must never be used by two at once: each
    use holds a lock, so their statements take turns on the connection (one connection
    runs one statement at a time anyway). Call it like a session factory:
    `async with reads() as session:`.
    """

    __slots__ = ("_connection", "_engine", "_finished", "_lock", "_session")

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
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
        """One Core statement (no ORM), retried once on a dropped connection (execute_sql)."""
        return await self._run(lambda connection: connection.execute(statement))

    async def execute_sql(self, sql: str, parameters: tuple[Any, ...]) -> Result[Any]:
        """One statement already compiled for this dialect, with positional parameters.

        When the connection turns out to have died in the pool (a database restart, an idle
        timeout), it is replaced and the statement runs once more: reads change nothing,
        so running one twice is safe."""
        return await self._run(lambda connection: connection.exec_driver_sql(sql, parameters))

    async def _run(
        self, statement: Callable[[AsyncConnection], Awaitable[Result[Any]]]
    ) -> Result[Any]:
        async with self._lock:
            try:
                return await statement(await self._connect())
            except DBAPIError as error:
                if not error.connection_invalidated:
                    raise
            await self._close()
            return await statement(await self._connect())

    async def release(self, *, finished: bool = False) -> None:
        """Return the connection to the pool (after the reads in flight). The next read takes
        one again, unless the request is `finished`."""
        async with self._lock:
            self._finished = self._finished or finished
            await self._close()

    async def _connect(self) -> AsyncConnection:
        if self._connection is None:
            if self._finished:
                raise RequestFinished("this request's reads are over")
            self._connection = await self._engine.connect()
        return self._connection

    async def _open_session(self) -> AsyncSession:
        if self._session is None:
            self._session = AsyncSession(bind=await self._connect(), expire_on_commit=False)
        return self._session

    async def _close(self) -> None:
        session, connection = self._session, self._connection
        self._session = self._connection = None
        try:
            if session is not None:
                await session.close()
        finally:
            if connection is not None:
                await connection.close()


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

    def request_reads(self) -> RequestReads:
        """A new request's reads (see RequestReads)."""
        return RequestReads(self.read_engine)
