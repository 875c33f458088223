"""Scratch PostgreSQL databases beside the test database, for commands that need one of
their own (an empty database, a demo database); dropped afterwards."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import make_url

from tests.conftest import on_the_postgresql_server, postgres_url


@contextmanager
def scratch_database(suffix: str) -> Iterator[str]:
    """A new, empty database named after the test database (so it holds "test"); yields its
    URL."""
    url = make_url(postgres_url())
    name = f"{url.database}_{suffix}"
    asyncio.run(on_the_postgresql_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(on_the_postgresql_server(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(drivername="postgresql", database=name).render_as_string(False)
    finally:
        asyncio.run(on_the_postgresql_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
