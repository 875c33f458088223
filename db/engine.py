"""Engines and session factories; created by the application's lifespan, never at import."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SessionFactory = async_sessionmaker[AsyncSession]


def normalize_database_url(url: str) -> str:
    """Accept the URLs people paste (postgresql://, sqlite:///) and pick the async drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def create_engine(url: str, *, echo: bool = False, **options: Any) -> AsyncEngine:
    url = normalize_database_url(url)
    engine = create_async_engine(url, echo=echo, pool_pre_ping=True, **options)
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
    # runs one writer at a time; readers stay DEFERRED and run beside them (WAL).
    mode = connection.get_execution_options().get(WRITE_OPTION, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


WRITE_OPTION = "clubjustice_sqlite_begin"


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions for reads."""
    return async_sessionmaker(engine, expire_on_commit=False)


def create_write_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions for a mutation's transaction: BEGIN IMMEDIATE on SQLite; on PostgreSQL the
    same as reads (mutations lock the rows they decide on)."""
    return async_sessionmaker(
        engine.execution_options(**{WRITE_OPTION: "IMMEDIATE"}), expire_on_commit=False
    )


@dataclass(frozen=True)
class Database:
    """An engine and its session factories, opened by the application's lifespan."""

    engine: AsyncEngine
    session_factory: SessionFactory
    write_session_factory: SessionFactory

    @classmethod
    def open(cls, url: str, *, echo: bool = False) -> "Database":
        engine = create_engine(url, echo=echo)
        return cls(engine, create_session_factory(engine), create_write_session_factory(engine))
