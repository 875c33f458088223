"""Every hook into uvicorn's private API, in one module: a leaner WebSocket protocol.

A server holds one WebSocket protocol object for each connection for as long as it lives,
and most of a subscriber's connection is idle. uvicorn's sans-I/O protocol (the one it picks
for `ws="auto"` with websockets installed) keeps, for each, an `asyncio.Queue` of the
messages its app has not read yet (three deques and an Event: about 3 KB), an
`asyncio.Event` for flow control (a deque: 0.8 KB), and the handshake's request and
response with their headers, which it reads no more once the connection is accepted.
`LeanWebSocketProtocol` keeps a list and a future made only while the app waits, a flag
and futures made only while the client reads too slowly, and drops the handshake's objects
once they are used: about 6.7 KB less for each idle subscriber (docs/live-updates.md). Its
keepalive pings come from one timer for all connections (`Keepalive`), not one each.

Written against uvicorn 0.54.0 (`WRITTEN_FOR`). What it relies on, which
tests/ws/test_uvicorn_private.py checks against the installed uvicorn: the protocol's
`queue` is used through `put_nowait`, `get` (by its one reader, the app's `receive`) and
`empty`; `writable` through `set`, `clear` and `wait`, and `send` waits on it first, before
it writes anything (server/websockets.py's `send_now` relies on that); `request` is read
only in `handle_connect`, `response` only until the handshake completes; the keepalive is
armed through `schedule_ping` (by `start_keepalive` and `handle_pong`), sent by
`send_keepalive_ping` and stopped by `stop_keepalive`.
"""

import asyncio
import logging
import math
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import Protocol, State

WRITTEN_FOR = "0.54.0"

logger = logging.getLogger("clubjustice.server")


class MessageQueue:
    """What uvicorn's protocol uses of an `asyncio.Queue`, for one reader: a list, and a
    future made only while that reader waits."""

    __slots__ = ("_getter", "_items")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._getter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        getter = self._getter
        if getter is not None and not getter.done():
            getter.set_result(None)

    async def get(self) -> Any:
        while not self._items:
            if self._getter is not None:
                raise RuntimeError("a WebSocket's messages have one reader")
            self._getter = asyncio.get_running_loop().create_future()
            try:
                await self._getter
            finally:
                self._getter = None
        return self._items.pop(0)

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)


class Writable:
    """What uvicorn's protocol uses of an `asyncio.Event` for flow control: `wait` returns
    at once, without suspending, while set; futures exist only while the client reads too
    slowly."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = True
        self._waiters: list[asyncio.Future[None]] = []

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        if self._set:
            return True
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
        return True


def _waits_between_frames(conn: Any) -> bool:
    """Whether websockets' parser waits for a frame's first byte, with nothing buffered."""
    if conn.state is not State.CONNECTING or conn.reader.buffer:
        return False
    waiting = conn.parser
    while getattr(waiting, "gi_yieldfrom", None) is not None:
        waiting = waiting.gi_yieldfrom
    return getattr(getattr(waiting, "gi_code", None), "co_name", None) == "at_eof"


class Keepalive:
    """The keepalive pings of every connection of one event loop, from one timer. uvicorn
    arms one for each connection (`call_later`, with its libuv timer about 0.75 KB of each
    idle subscriber) for a ping every `ws_ping_interval` seconds; here a connection is put
    in the set of the `GRAIN` its ping falls due in (a set: thousands leaving at once are
    taken out one by one), and one timer, while any is due, pings those whose turn it is
    (up to one grain late: a second of twenty)."""

    GRAIN = 1.0

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.due: dict[int, set[LeanWebSocketProtocol]] = {}
        self.timer: asyncio.TimerHandle | None = None
        self.armed_for: int | None = None

    def add(self, protocol: "LeanWebSocketProtocol", delay: float) -> None:
        turn = math.ceil((self.loop.time() + delay) / self.GRAIN)
        protocol.ping_due = turn
        self.due.setdefault(turn, set()).add(protocol)
        if self.armed_for is None or turn < self.armed_for:
            self._arm(turn)

    def remove(self, protocol: "LeanWebSocketProtocol") -> None:
        turn, protocol.ping_due = protocol.ping_due, None
        waiting = self.due.get(turn) if turn is not None else None
        if waiting is not None:
            waiting.discard(protocol)

    def _arm(self, turn: int) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.armed_for = turn
        self.timer = self.loop.call_at(turn * self.GRAIN, self._tick)

    def _tick(self) -> None:
        self.timer = self.armed_for = None
        now = self.loop.time() / self.GRAIN
        for turn in sorted(turn for turn in self.due if turn <= now):
            for protocol in self.due.pop(turn):
                if protocol.ping_due == turn:
                    protocol.ping_due = None
                    try:
                        protocol.send_keepalive_ping()
                    except Exception:  # one connection's failure stops no other's pings
                        logger.exception("a keepalive ping could not be sent")
        if self.due:
            self._arm(min(self.due))
        else:
            _KEEPALIVES.pop(self.loop, None)


_KEEPALIVES: dict[asyncio.AbstractEventLoop, Keepalive] = {}


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol with the lean queue and flow-control flag
    above, and without the handshake's request and response once they are used. Given to
    uvicorn as `ws` (server/app.py's `uvicorn_options`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = MessageQueue()  # type: ignore[assignment]
        self.writable = Writable()  # type: ignore[assignment]

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        self.request = None  # type: ignore[assignment]  # read nowhere else
        conn = self.conn
        if self.response.status_code == 101 and _waits_between_frames(conn):
            # websockets' server parser is a generator that reads the handshake's request
            # and then, for the connection's life, frames, keeping the request in its frame
            # (2 KB with its headers). The frames are read by the parser it delegates to,
            # started afresh: nothing is lost, since it holds nothing yet (it waits at a
            # frame's start with nothing buffered; a client sends no frame before the
            # handshake's response, which has not even been sent).
            parser = Protocol.parse(conn)
            next(parser)
            conn.parser = parser

    async def send(self, message: Any) -> None:
        await super().send(message)
        if self.handshake_complete:
            self.response = None  # type: ignore[assignment]  # read only until the handshake completes

    # The turn of `Keepalive` its next ping falls due in (None: none is due).
    ping_due: int | None = None

    def schedule_ping(self) -> None:
        assert self.ping_interval is not None
        keepalive = _KEEPALIVES.get(self.loop)
        if keepalive is None:
            keepalive = _KEEPALIVES[self.loop] = Keepalive(self.loop)
        keepalive.add(self, max(0.0, self.ping_interval - self.last_ping_rtt))

    def stop_keepalive(self) -> None:
        super().stop_keepalive()
        keepalive = _KEEPALIVES.get(self.loop)
        if keepalive is not None:
            keepalive.remove(self)
        self.ping_due = None
