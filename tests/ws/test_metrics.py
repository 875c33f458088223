"""/metrics counts open WebSocket connections and live subscriptions."""

from typing import Any

from club.enums import Role
from tests.ws.conftest import LiveServer, Subscriber, until_subscribed


async def gauges(server: LiveServer) -> dict[str, float]:
    return await server.metrics("clubjustice_websocket_connections", "clubjustice_subscriptions")


async def test_connections_and_subscriptions_are_gauged(
    live_server: LiveServer, make_token: Any
) -> None:
    assert await gauges(live_server) == {
        "clubjustice_websocket_connections": 0,
        "clubjustice_subscriptions": 0,
    }
    subscriber = await Subscriber.open(live_server.ws, await make_token(Role.PARTNER))
    await subscriber.subscribe("subscription { memberJoined { cursor } }")
    await subscriber.subscribe("subscription { meetingUpdates { cursor } }")
    await until_subscribed(live_server.feed, 2)
    assert await gauges(live_server) == {
        "clubjustice_websocket_connections": 1,
        "clubjustice_subscriptions": 2,
    }
    await subscriber.close()
    await until_subscribed(live_server.feed, 0)
    assert (await gauges(live_server))["clubjustice_subscriptions"] == 0
