"""Scratch PostgreSQL databases beside the test database, for commands that need one of
their own (an empty database, a demo database); dropped afterwards."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from sqlalchemy import make_url

from tests.conftest import postgres_url


async def _execute(statement: str) -> None:
    url = make_url(postgres_url())
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


@contextmanager
def scratch_database(suffix: str) -> Iterator[str]:
    """A new, empty database named after the test database (so it holds "test"); yields its
    URL."""
    url = make_url(postgres_url())
    name = f"{url.database}_{suffix}"
    asyncio.run(_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_execute(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(drivername="postgresql", database=name).render_as_string(False)
    finally:
        asyncio.run(_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
