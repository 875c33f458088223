"""Follows new members of the club from a terminal, with Python's `websockets` (what the
server itself depends on): prints each message of the graphql-transport-ws protocol.

    CLUBJUSTICE_TOKEN=cj_… .venv/bin/python examples/follow_members.py [AFTER_CURSOR]
"""

import asyncio
import json
import os
import sys

from websockets.asyncio.client import connect

URL = os.environ.get("CLUBJUSTICE_WS_URL", "ws://127.0.0.1:8000/graphql")
SUBSCRIPTION = """subscription ($after: String) {
  memberJoined(after: $after) { cursor organization { name } }
}"""


async def main(token: str, after: str | None = None) -> None:
    async with connect(URL, subprotocols=["graphql-transport-ws"]) as ws:
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        print(await ws.recv(), flush=True)  # {"type":"connection_ack"}
        subscribe = {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": SUBSCRIPTION, "variables": {"after": after}},
        }
        await ws.send(json.dumps(subscribe))
        async for message in ws:
            print(message, flush=True)  # {"id":"1","type":"next","payload":{"data":…}}


if __name__ == "__main__":
    asyncio.run(main(os.environ["CLUBJUSTICE_TOKEN"], *sys.argv[1:2]))
