"""When PostgreSQL goes away: masked errors for queries, 503 from /readyz, then recovery.

A TCP proxy between the app and PostgreSQL stands in for the network: cutting it drops
every connection and refuses new ones, as a database restart or a partition would.
"""

import asyncio
import contextlib
from typing import Any

import pytest
from sqlalchemy import make_url

from club.settings import Settings
from tests.conftest import POSTGRES_SKIP_REASON, POSTGRES_URL, postgres_url
from tests.http.conftest import open_client

pytestmark = pytest.mark.skipif(POSTGRES_URL is None, reason=POSTGRES_SKIP_REASON)

QUERY = '{ country(code: "AL") { name } }'


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.close()
        await self.server.wait_closed()
        self.server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self.writers |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        self.writers -= {writer, upstream_writer}


async def test_queries_are_masked_and_readiness_fails_until_the_database_is_back(
    session_factory: Any, engine: Any, admin_headers: dict[str, str]
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the embedded SQLite database cannot become unreachable")
    url = make_url(postgres_url())
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    settings = Settings(database_url=url.set(port=proxy.port).render_as_string(hide_password=False))

    async for client in open_client(settings):
        query = {"query": QUERY}
        assert (await client.post("/graphql", json=query, headers=admin_headers)).json() == {
            "data": {"country": {"name": "Albania"}}
        }

        await proxy.cut()
        response = await client.post("/graphql", json=query, headers=admin_headers)
        assert response.status_code == 503
        assert response.json() == {
            "data": None,
            "errors": [
                {
                    "message": "Internal server error.",
                    "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                }
            ],
        }
        ready = await client.get("/readyz")
        assert (ready.status_code, ready.json()) == (
            503,
            {"status": "unavailable", "reason": "database unreachable"},
        )
        assert (await client.get("/healthz")).status_code == 200

        await proxy.start()  # same port: the database is back
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.post("/graphql", json=query, headers=admin_headers)).json() == {
            "data": {"country": {"name": "Albania"}}
        }
    await proxy.cut()
