"""A real server in the test's event loop (uvicorn on a loopback port), and a small
graphql-transport-ws client on the `websockets` library."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import ClientConnection, connect

from club.settings import Settings
from db.engine import SessionFactory
from db.notifier import ActivityFeed
from server.app import create_app, uvicorn_options
from tests.e2e.servers import free_port

EVENT_TIMEOUT = 10.0


@dataclass
class LiveServer:
    http: str
    ws: str
    app: Any

    @property
    def feed(self) -> ActivityFeed:
        return self.app.state.feed  # type: ignore[no-any-return]

    async def metrics_text(self) -> str:
        """The server's /metrics now, as exposed."""
        async with httpx.AsyncClient() as client:
            return (await client.get(f"{self.http}/metrics")).text

    async def metrics(self, *names: str) -> dict[str, float]:
        """The values of these samples in the server's /metrics now."""
        text = await self.metrics_text()
        return {
            sample.name: sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name in names
        }


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "live_poll_interval": 0.2,
            "connection_init_timeout": 1.0,
            "subscriber_queue_size": 50,
        }
    )


@pytest.fixture
async def live_server(
    live_settings: Settings, session_factory: SessionFactory
) -> AsyncIterator[LiveServer]:
    async for server in run_server(live_settings):
        yield server


async def run_server(settings: Settings) -> AsyncIterator[LiveServer]:
    app = create_app(settings)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", **uvicorn_options(settings)
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/graphql", app)
    finally:
        server.should_exit = True
        await task


class Subscriber:
    """One graphql-transport-ws connection."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.next_id = 0

    @classmethod
    async def open(cls, url: str, token: str | None, *, init: bool = True) -> "Subscriber":
        connection = await connect(url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
        subscriber = cls(connection)
        if init:
            await subscriber.send(
                {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
            )
            ack = await subscriber.receive()
            assert ack == {"type": "connection_ack"}, ack
        return subscriber

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.connection.recv(), EVENT_TIMEOUT))  # type: ignore[no-any-return]

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self.next_id += 1
        operation_id = str(self.next_id)
        await self.send(
            {
                "id": operation_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )
        return operation_id

    async def next_data(self) -> dict[str, Any]:
        """The next event's data (fails on an error message)."""
        message = await self.receive()
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"]  # type: ignore[no-any-return]

    async def close(self) -> None:
        await self.connection.close()


async def graphql(
    server: LiveServer, token: str, query: str, variables: dict[str, Any] | None = None
) -> Any:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{server.http}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"authorization": f"Bearer {token}"},
        )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def until_subscribed(feed: ActivityFeed, count: int) -> None:
    """Wait (polling, with a deadline) until exactly `count` subscriptions are registered."""
    deadline = asyncio.get_running_loop().time() + EVENT_TIMEOUT
    while len(feed.mailboxes) != count:
        assert asyncio.get_running_loop().time() < deadline, "subscriptions did not register"
        await asyncio.sleep(0.01)


@asynccontextmanager
async def legacy_graphql_ws(url: str, token: str) -> AsyncIterator[ClientConnection]:
    """A legacy graphql-ws connection that sent `token` in `connection_init` and was
    acknowledged."""
    async with connect(url, subprotocols=["graphql-ws"]) as connection:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await connection.send(json.dumps(init))
        assert json.loads(await asyncio.wait_for(connection.recv(), EVENT_TIMEOUT)) == {
            "type": "connection_ack"
        }
        yield connection
