"""server/uvicorn_private.py: the leaner WebSocket protocol. What it relies on in uvicorn and
websockets, checked against the installed versions (a failure names what changed: re-check
the module there, then update WRITTEN_FOR), and the protocol driven through a handshake and
messages with a transport of our own."""

import asyncio
import base64
import importlib.metadata
import inspect
import re
from typing import Any

import pytest
import uvicorn.protocols.websockets.websockets_sansio_impl as sansio
from uvicorn.config import Config
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode
from websockets.protocol import Protocol
from websockets.server import ServerProtocol

from server import uvicorn_private
from server.uvicorn_private import WRITTEN_FOR, LeanWebSocketProtocol, MessageQueue, Writable

INSTALLED = importlib.metadata.version("uvicorn")


def changed(what: str) -> str:
    return (
        f"uvicorn {INSTALLED} changed {what} (written for {WRITTEN_FOR}); "
        "re-check server/uvicorn_private.py"
    )


def uses(attribute: str) -> set[str]:
    """The methods called on `self.<attribute>` anywhere in uvicorn's sans-I/O protocol."""
    source = inspect.getsource(sansio.WebSocketsSansIOProtocol)
    return set(re.findall(rf"self\.{attribute}\.(\w+)\(", source))


def methods_reading(attribute: str) -> set[str]:
    """The protocol's methods whose source names `self.<attribute>`."""
    return {
        name
        for name, method in inspect.getmembers(sansio.WebSocketsSansIOProtocol, inspect.isfunction)
        if re.search(rf"self\.{attribute}\b", inspect.getsource(method))
    }


def test_what_the_lean_protocol_replaces_is_used_as_it_expects() -> None:
    assert uses("queue") <= {"put_nowait", "get", "empty"}, changed("the protocol's queue")
    assert uses("writable") <= {"set", "clear", "wait"}, changed("the protocol's writable")
    # The handshake's request and response: read where the handshake is made and sent only.
    assert methods_reading("request") == {"handle_connect"}, changed("the protocol's request")
    assert methods_reading("response") == {"handle_connect", "send"}, changed("its response")
    send = inspect.getsource(sansio.WebSocketsSansIOProtocol.send)
    accept = send[: send.index("elif not self.close_sent and self.initial_response is None:")]
    assert send.count("self.response") == accept.count("self.response"), changed(
        "send (the response is read only before the handshake completes)"
    )
    # send waits on flow control first and nowhere else (server/websockets.py's send_now).
    awaits = [line.strip() for line in send.splitlines() if "await " in line]
    assert awaits == ["await self.writable.wait()"], changed("send's waits")
    # websockets' server parser reads the request, then hands over to the frame parser.
    parse = inspect.getsource(ServerProtocol.parse)
    assert parse.rstrip().endswith("yield from super().parse()"), "websockets changed parse"
    assert inspect.isgeneratorfunction(Protocol.parse)


async def test_the_message_queue_has_one_reader_and_keeps_order() -> None:
    queue = MessageQueue()
    queue.put_nowait(1)
    assert not queue.empty() and await queue.get() == 1 and queue.empty()
    reader = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="one reader"):
        await queue.get()
    queue.put_nowait(2)
    queue.put_nowait(3)
    assert await reader == 2 and await queue.get() == 3


async def test_writable_waits_only_while_cleared() -> None:
    writable = Writable()
    waiting = writable.wait()
    with pytest.raises(StopIteration):  # set: it returns without suspending
        waiting.send(None)
    writable.clear()
    waiter = asyncio.create_task(writable.wait())
    await asyncio.sleep(0)
    assert not waiter.done()
    writable.set()
    assert await waiter is True


class Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False

    def write(self, data: Any) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def upgraded(
    app: Any, headers: str = "", **settings: Any
) -> tuple[LeanWebSocketProtocol, Transport]:
    """A lean protocol serving `app`, sent a WebSocket handshake's request (its response
    comes once the app accepts)."""
    config = Config(app, ws=LeanWebSocketProtocol, ws_per_message_deflate=False, **settings)
    config.load()
    protocol = LeanWebSocketProtocol(config, ServerState(), {})
    transport = Transport()
    protocol.connection_made(transport)
    key = base64.b64encode(b"0123456789abcdef").decode()
    protocol.data_received(
        (
            "GET /graphql HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"{headers}\r\n"
        ).encode()
    )
    return protocol, transport


async def test_the_lean_protocol_serves_a_connection_and_keeps_no_handshake() -> None:
    received: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept", "subprotocol": "graphql-transport-ws"})
        message = await receive()
        received.append(message)
        await send({"type": "websocket.send", "text": message["text"].upper()})
        received.append(await receive())

    protocol, transport = upgraded(app, "Sec-WebSocket-Protocol: graphql-transport-ws\r\n")
    # The frame parser that replaced the handshake's holds no request.
    assert protocol.request is None
    assert "request" not in (protocol.conn.parser.gi_frame.f_locals or {})
    for _ in range(5):
        await asyncio.sleep(0)
    assert transport.written.startswith(b"HTTP/1.1 101 ")
    assert protocol.handshake_complete and protocol.response is None
    transport.written.clear()
    frame = Frame(Opcode.TEXT, b'{"type":"ping"}').serialize(mask=True, extensions=[])
    protocol.data_received(frame)
    for _ in range(5):
        await asyncio.sleep(0)
    assert received == [{"type": "websocket.receive", "text": '{"type":"ping"}'}]
    assert bytes(transport.written) == Frame(Opcode.TEXT, b'{"TYPE":"PING"}').serialize(
        mask=False, extensions=[]
    )
    protocol.connection_lost(None)
    for _ in range(5):
        await asyncio.sleep(0)
    assert received[-1]["type"] == "websocket.disconnect"


def test_the_keepalive_is_armed_and_stopped_where_the_lean_protocol_expects() -> None:
    calls = {
        name
        for name, method in inspect.getmembers(sansio.WebSocketsSansIOProtocol, inspect.isfunction)
        if "self.schedule_ping()" in inspect.getsource(method)
    }
    assert calls == {"start_keepalive", "handle_pong", "send_keepalive_ping"}, changed(
        "where the keepalive is armed"
    )
    assert methods_reading("ping_timer") == {
        "__init__",
        "stop_keepalive",
        "schedule_ping",
        "send_keepalive_ping",
    }, changed("the keepalive's timer")


async def connected(ping: float) -> tuple[LeanWebSocketProtocol, Transport]:
    """A lean protocol past its handshake, pinging every `ping` seconds (timeout: `ping`)."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()  # until it ends

    protocol, transport = upgraded(app, ws_ping_interval=ping, ws_ping_timeout=ping)
    for _ in range(5):
        await asyncio.sleep(0)
    assert protocol.handshake_complete
    transport.written.clear()
    return protocol, transport


async def test_one_timer_pings_every_connection_and_ends_those_that_do_not_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(uvicorn_private.Keepalive, "GRAIN", 0.01)
    monkeypatch.setattr(uvicorn_private, "_KEEPALIVES", {})  # none armed in whole seconds
    answering, answering_transport = await connected(0.1)
    silent, silent_transport = await connected(0.1)
    assert answering.ping_timer is None and silent.ping_timer is None  # no timer each
    assert len(uvicorn_private._KEEPALIVES) == 1
    await asyncio.sleep(0.15)
    for transport in (answering_transport, silent_transport):
        assert transport.written[:1] == b"\x89"  # a ping
    # One answers its ping, the other does not.
    payload = answering.pending_ping_payload
    assert payload is not None
    answering.data_received(Frame(Opcode.PONG, payload).serialize(mask=True, extensions=[]))
    answering_transport.written.clear()
    await asyncio.sleep(0.15)
    assert silent_transport.closed  # keepalive ping timeout
    assert not answering_transport.closed
    assert answering_transport.written[:1] == b"\x89"  # pinged again
    for protocol in (answering, silent):
        protocol.connection_lost(None)
    await asyncio.sleep(0.15)
    assert uvicorn_private._KEEPALIVES == {}  # nothing due: no timer left


async def test_a_ping_that_fails_stops_no_other_connections_pings(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(uvicorn_private.Keepalive, "GRAIN", 0.01)
    monkeypatch.setattr(uvicorn_private, "_KEEPALIVES", {})
    pinged: list[str] = []

    class Connection:
        ping_due: int | None = None

        def __init__(self, name: str) -> None:
            self.name = name

        def send_keepalive_ping(self) -> None:
            if self.name == "broken":
                raise OSError("the transport failed")
            pinged.append(self.name)

    keepalive = uvicorn_private.Keepalive(asyncio.get_running_loop())
    for name in ("broken", "first", "second"):
        keepalive.add(Connection(name), 0.02)  # type: ignore[arg-type]
    await asyncio.sleep(0.1)
    assert sorted(pinged) == ["first", "second"]
    assert "a keepalive ping could not be sent" in caplog.text
