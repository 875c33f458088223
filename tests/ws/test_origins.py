"""Browsers' WebSocket handshakes from other origins: refused unless the origin is in
CLUBJUSTICE_CORS_ORIGINS (clients that are not browsers send no Origin)."""

from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from club.settings import Settings
from tests.ws.conftest import LiveServer, run_server

PROTOCOL = ["graphql-transport-ws"]


async def handshake(url: str, origin: str | None) -> int:
    try:
        async with connect(url, subprotocols=PROTOCOL, origin=origin):  # type: ignore[arg-type]
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


async def test_other_origins_are_refused_by_default(live_server: LiveServer) -> None:
    assert await handshake(live_server.ws, "https://portal.example") == 403
    assert await handshake(live_server.ws, None) == 101
    assert await handshake(live_server.ws, live_server.http) == 101  # same origin


async def test_allowed_origins_may_connect(live_settings: Settings, session_factory: Any) -> None:
    settings = live_settings.model_copy(update={"cors_origins": ("https://portal.example",)})
    async for server in run_server(settings):
        assert await handshake(server.ws, "https://portal.example") == 101
        assert await handshake(server.ws, "https://evil.example") == 403
