"""Alembic environment: runs migrations on an async engine, or on a connection handed in."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import db.models  # noqa: F401  (registers the tables on the metadata)
from db.base import Base
from db.engine import create_engine

config = context.config
target_metadata = Base.metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def database_url() -> str:
    # `clubjustice db upgrade` passes the URL in; the plain `alembic` command reads the
    # same setting as the service.
    from club.settings import Settings

    return config.get_main_option("sqlalchemy.url") or Settings().database_url


async def run_async_migrations() -> None:
    engine = create_engine(database_url())
    async with engine.connect() as connection:
        await connection.run_sync(run_migrations)
    await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        asyncio.run(run_async_migrations())
    else:
        run_migrations(connection)


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `clubjustice db upgrade`")
run_migrations_online()
