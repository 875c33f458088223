"""An idempotency key on a mutation over a WebSocket travels in the operation's
`extensions.idempotencyKey` (there is no header per operation): a retry on the same or
another connection gets the first answer and changes nothing; another operation under the
key is refused; a key sent over HTTP covers a retry sent over the WebSocket."""

import asyncio
import json
from typing import Any

import httpx
from sqlalchemy import func, select

from club.enums import Role
from db import models
from tests.factories import add, country_ids, organization
from tests.ws.conftest import EVENT_TIMEOUT, LiveServer, Subscriber, legacy_graphql_ws

SCHEDULE = """
mutation($title: String!) {
  scheduleEvent(input: {title: $title, kind: ONLINE_MEETING,
                        startsAt: "2031-03-01T10:00:00Z", endsAt: "2031-03-01T11:00:00Z"}) {
    event { id title status }
    errors { code }
  }
}
"""


async def member(session_factory: Any) -> Any:
    countries = await country_ids(session_factory, "MD")
    row = organization(countries["MD"], member=True, slug="md-member", name="Moldova Member")
    await add(session_factory, row)
    return row


async def send_once(subscriber: Subscriber, title: str, key: str) -> Any:
    """The first message answering the mutation (`next` or `error`), then its `complete`."""
    subscriber.next_id += 1
    operation = str(subscriber.next_id)
    await subscriber.send(
        {
            "id": operation,
            "type": "subscribe",
            "payload": {
                "query": SCHEDULE,
                "variables": {"title": title},
                "extensions": {"idempotencyKey": key},
            },
        }
    )
    first = await subscriber.receive()
    if first["type"] == "next":
        assert await subscriber.receive() == {"id": operation, "type": "complete"}
    return first


async def events_named(session_factory: Any, title: str) -> int:
    async with session_factory() as session:
        return int(
            await session.scalar(select(func.count()).where(models.Event.title == title)) or 0
        )


async def test_a_retry_over_websocket_gets_the_first_answer(
    live_server: LiveServer, make_token: Any, session_factory: Any
) -> None:
    host = await member(session_factory)
    token = await make_token(Role.ORGANIZATION, host.id)
    subscriber = await Subscriber.open(live_server.ws, token)
    first = await send_once(subscriber, "Paralegals", "ws-1")
    assert first["payload"]["data"]["scheduleEvent"]["errors"] == []
    assert await send_once(subscriber, "Paralegals", "ws-1") == {**first, "id": "2"}
    # The connection dropped before the answer came: the retry on a new one.
    await subscriber.close()
    again = await Subscriber.open(live_server.ws, token)
    assert await send_once(again, "Paralegals", "ws-1") == first
    refused = await send_once(again, "Mediators", "ws-1")
    assert refused == {
        "id": "2",
        "type": "error",
        "payload": [
            {
                "message": "This idempotency key was used for another operation; use a new "
                "key for a new one.",
                "extensions": {"code": "IDEMPOTENCY_KEY_REUSED"},
            }
        ],
    }
    await again.close()
    assert await events_named(session_factory, "Paralegals") == 1
    assert await events_named(session_factory, "Mediators") == 0


async def test_a_key_sent_over_http_covers_a_retry_over_websocket_and_legacy_graphql_ws(
    live_server: LiveServer, make_token: Any, session_factory: Any
) -> None:
    host = await member(session_factory)
    token = await make_token(Role.ORGANIZATION, host.id)
    async with httpx.AsyncClient(base_url=live_server.http) as client:
        response = await client.post(
            "/graphql",
            json={"query": SCHEDULE, "variables": {"title": "Paralegals"}},
            headers={"authorization": f"Bearer {token}", "Idempotency-Key": "everywhere"},
        )
    first = response.json()
    assert first["data"]["scheduleEvent"]["errors"] == []
    async with legacy_graphql_ws(live_server.ws, token) as connection:
        await connection.send(
            json.dumps(
                {
                    "id": "m",
                    "type": "start",
                    "payload": {
                        "query": SCHEDULE,
                        "variables": {"title": "Paralegals"},
                        "extensions": {"idempotencyKey": "everywhere"},
                    },
                }
            )
        )
        received = [
            json.loads(await asyncio.wait_for(connection.recv(), EVENT_TIMEOUT)) for _ in range(2)
        ]
    assert received == [
        {"id": "m", "type": "data", "payload": first},
        {"id": "m", "type": "complete"},
    ]
    assert await events_named(session_factory, "Paralegals") == 1
