"""Fan-out benchmark: one memberJoined event to N idle WebSocket subscribers of one server
process. Reports delivery latency (p50, p99: from sending the mutation that causes the event
to each subscriber receiving it) and the server's memory per idle subscriber.

    .venv/bin/python bench/fanout.py --subscribers 1000 5000 [--events 5] [--database-url URL]

The server runs as its own process (`clubjustice serve`) with its default limits; the load
is `--clients` processes (the server's connections and theirs need more file descriptors
than one process may open), which hold the connections and timestamp every delivery on the
machine's monotonic clock. Subscribers are modelled as real ones: each token holds
`--per-token` subscriptions (within every role's rate limit), the tokens taking turns among
the ADMIN, ORGANIZATION (a member's) and PARTNER roles. Results go to bench/results/ as JSON.
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import multiprocessing
import os
import platform
import resource
import signal
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast

import httpx
import uvloop
from sqlalchemy import select
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from club.enums import (  # noqa: E402
    AttendanceRole,
    EventKind,
    EventStatus,
    OrganizationKind,
    OrganizationStatus,
    Role,
)
from club.ids import encode_id  # noqa: E402
from db.engine import Database, SessionFactory  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Attendance, Country, Event, Organization  # noqa: E402
from db.tokens import create_token  # noqa: E402

CLUBJUSTICE = str(Path(sys.executable).with_name("clubjustice"))
SUBSCRIPTION = "subscription { memberJoined { cursor organization { slug } } }"
INVITE = "mutation($g: ID!) { inviteOrganization(input: {inviteeId: $g}) { invitation { id } } }"
ACCEPT = "mutation($id: ID!) { acceptInvitation(id: $id) { errors { code } } }"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU time the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def guests_of_a_member(
    session_factory: SessionFactory, guests: int
) -> tuple[Organization, list[Organization]]:
    """A member in Moldova and `guests` organizations that attended its meeting as guests:
    all invitable by it."""
    t0 = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)

    def organization(n: int, member: bool) -> Organization:
        return Organization(
            slug=f"fanout-{n}",
            name=f"Organization {n:05d}",
            kind=OrganizationKind.NGO,
            status=OrganizationStatus.MEMBER if member else OrganizationStatus.GUEST,
            country_id=moldova,
            joined_at=t0 if member else None,
            created_at=t0,
        )

    async with session_factory() as session, session.begin():
        moldova = await session.scalar(select(Country.id).where(Country.code == "MD"))
        inviter = organization(0, member=True)
        invitees = [organization(n, member=False) for n in range(1, guests + 1)]
        session.add_all([inviter, *invitees])
        await session.flush()
        meeting = Event(
            title="Meeting",
            kind=EventKind.ONLINE_MEETING,
            status=EventStatus.SCHEDULED,
            starts_at=t0,
            ends_at=t0 + timedelta(hours=1),
            host_id=inviter.id,
            created_at=t0,
        )
        session.add(meeting)
        await session.flush()
        session.add_all(
            Attendance(
                event_id=meeting.id,
                organization_id=g.id,
                role=AttendanceRole.GUEST,
                recorded_at=t0,
            )
            for g in invitees
        )
    return inviter, invitees


SUBSCRIBER_ROLES = (Role.ADMIN, Role.ORGANIZATION, Role.PARTNER)


async def prepare(url: str, guests: int, subscriber_tokens: int) -> dict[str, Any]:
    database = Database.open(url)
    await upgrade(database.engine)
    inviter, invitees = await guests_of_a_member(database.session_factory, guests)
    async with database.session_factory() as session, session.begin():
        _, member = await create_token(session, Role.ORGANIZATION, organization_id=inviter.id)
        guest_tokens = [
            (await create_token(session, Role.ORGANIZATION, organization_id=g.id))[1]
            for g in invitees
        ]
        subscribers = [
            (
                await create_token(
                    session,
                    role,
                    organization_id=inviter.id if role is Role.ORGANIZATION else None,
                )
            )[1]
            for role in itertools.islice(itertools.cycle(SUBSCRIBER_ROLES), subscriber_tokens)
        ]
    await database.engine.dispose()
    return {
        "member": member,
        "guests": list(zip([g.id for g in invitees], guest_tokens, strict=True)),
        "subscribers": subscribers,
    }


class Arrivals:
    """Delivery times of the current event; `complete` is set when all have arrived."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.refused = 0  # subscriptions answered with an error (a limit, say)
        self.expected = 0
        self.complete = asyncio.Event()

    def expect(self, count: int) -> None:
        self.times.clear()
        self.expected = count
        self.complete.clear()

    def record(self) -> None:
        self.times.append(time.monotonic())
        if len(self.times) >= self.expected:
            self.complete.set()


class Subscription(asyncio.Protocol):
    """One subscriber's connection, lean: websockets' sans-I/O client for the handshake, the
    connection_init and the subscribe; then the server's frames are read by a few lines
    here (a text frame is timestamped if it is a `next`, without a JSON parse; a ping is
    answered; the server sends small messages unfragmented). The load generator shares the
    machine with the server, so what it costs per message delays the deliveries it
    measures: the asyncio client of `websockets` took about as much CPU per message as the
    server (48 µs against 45 at 6,000 subscribers); this one, on uvloop, 17."""

    def __init__(self, url: str, token: str, arrivals: Arrivals) -> None:
        self.websocket: ClientProtocol | None = ClientProtocol(
            parse_uri(url), subprotocols=[Subprotocol("graphql-transport-ws")]
        )
        self.token = token
        self.arrivals = arrivals
        self.acknowledged = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        assert self.websocket is not None
        self.websocket.send_request(self.websocket.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        if self.websocket is None:
            self._frames(data)
            return
        websocket = self.websocket
        websocket.receive_data(data)
        acknowledged = False
        for event in websocket.events_received():
            if isinstance(event, Response):
                if event.status_code != 101:
                    self._fail(ConnectionError(f"handshake refused: {event.status_code}"))
                    return
                self._send(
                    {
                        "type": "connection_init",
                        "payload": {"authorization": f"Bearer {self.token}"},
                    }
                )
            elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                if b'"type":"connection_ack"' in event.data:
                    self._send({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
                    acknowledged = True
                elif b'"type":"error"' in event.data:
                    self.arrivals.refused += 1
        self._flush()  # what websockets queued (a pong) goes out too
        if acknowledged:
            # From here on, frames are read below, starting with whatever websockets' reader
            # holds of one it has not parsed yet.
            self.buffer = bytes(websocket.reader.buffer)
            self.websocket = None
            self.acknowledged.set_result(None)

    def _fail(self, error: Exception) -> None:
        if not self.acknowledged.done():
            self.acknowledged.set_exception(error)
        self.close()

    def _frames(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        at = 0
        while len(buffer) - at >= 2:
            opcode, length = buffer[at] & 0x0F, buffer[at + 1] & 0x7F
            start = at + 2
            if length == 126:
                if len(buffer) - at < 4:
                    break
                length, start = int.from_bytes(buffer[at + 2 : at + 4], "big"), at + 4
            elif length == 127:
                if len(buffer) - at < 10:
                    break
                length, start = int.from_bytes(buffer[at + 2 : at + 10], "big"), at + 10
            if len(buffer) < start + length:
                break
            payload = buffer[start : start + length]
            at = start + length
            if opcode == Opcode.TEXT.value:
                if b'"type":"next"' in payload:
                    self.arrivals.record()
                elif b'"type":"error"' in payload:
                    self.arrivals.refused += 1
            elif opcode == Opcode.PING.value:
                self._write(Frame(Opcode.PONG, payload).serialize(mask=True, extensions=[]))
            elif opcode == Opcode.CLOSE.value and self.transport is not None:
                self.transport.close()
        self.buffer = buffer[at:]

    def _send(self, message: dict[str, Any]) -> None:
        assert self.websocket is not None
        self.websocket.send_text(json.dumps(message).encode())
        self._flush()

    def _flush(self) -> None:
        assert self.websocket is not None
        for chunk in self.websocket.data_to_send():
            if chunk:
                self._write(chunk)

    def _write(self, chunk: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(chunk)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.acknowledged.done():
            self.acknowledged.set_exception(exc or ConnectionError("closed before its ack"))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def subscribe(url: str, token: str, arrivals: Arrivals) -> Subscription:
    host, port = parse_uri(url).host, parse_uri(url).port
    _, subscription = await asyncio.get_running_loop().create_connection(
        lambda: Subscription(url, token, arrivals), host, port
    )
    await subscription.acknowledged
    return subscription


def client_process(commands: Connection, url: str, tokens: list[str]) -> None:
    """One load process: a connection and subscription per token in `tokens` (a token may
    come more than once), then, per command, the arrival times of one event at all of them."""
    uvloop.run(_client(commands, url, tokens))


async def subscribe_all(url: str, tokens: list[str], arrivals: Arrivals) -> list[Subscription]:
    """A subscription with each token, connected in waves, as a crowd arrives."""
    connections: list[Subscription] = []
    for start in range(0, len(tokens), 250):
        connections += await asyncio.gather(
            *(subscribe(url, token, arrivals) for token in tokens[start : start + 250])
        )
    return connections


async def _client(commands: Connection, url: str, tokens: list[str]) -> None:
    arrivals = Arrivals()
    connections = await subscribe_all(url, tokens, arrivals)
    commands.send(len(connections))
    while await asyncio.to_thread(commands.recv) == "expect":
        arrivals.expect(len(connections))
        used = time.process_time()
        commands.send("ready")
        with contextlib.suppress(TimeoutError):  # the main process reports who is missing
            await asyncio.wait_for(arrivals.complete.wait(), 60)
        commands.send((list(arrivals.times), arrivals.refused, time.process_time() - used))
    for connection in connections:
        connection.close()


def raise_file_limit() -> int:
    """The soft limit on open files raised to the hard one (inherited by the server)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


async def run(
    subscribers: int, events: int, url: str, workdir: Path, options: argparse.Namespace
) -> dict[str, object]:
    tokens = await prepare(url, events, -(-subscribers // options.per_token))
    subscriber_tokens = [tokens["subscribers"][n // options.per_token] for n in range(subscribers)]
    port = free_port()
    env = {
        **os.environ,
        "CLUBJUSTICE_DATABASE_URL": url,
        "CLUBJUSTICE_LOG_LEVEL": "WARNING",
        "CLUBJUSTICE_INVITATION_QUOTA": "1000",
    }
    server = await asyncio.create_subprocess_exec(
        CLUBJUSTICE,
        "serve",
        "--port",
        str(port),
        cwd=workdir,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base, ws = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/graphql"
    spawn = multiprocessing.get_context("spawn")
    pipes: list[Connection] = []
    clients = []
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            while True:
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            await asyncio.sleep(1)
            rss_before = rss_kib(server.pid)
            for share in range(options.clients):
                ours, theirs = spawn.Pipe()
                process = spawn.Process(
                    target=client_process,
                    args=(theirs, ws, subscriber_tokens[share :: options.clients]),
                    daemon=True,
                )
                process.start()
                pipes.append(ours)
                clients.append(process)
            connected = sum([await asyncio.to_thread(pipe.recv) for pipe in pipes])
            await asyncio.sleep(2)
            rss_after = rss_kib(server.pid)

            profiler = None
            if options.profile:
                # py-spy (the bench extra) samples the server during the events only.
                profiler = await asyncio.create_subprocess_exec(
                    str(Path(sys.executable).with_name("py-spy")), "record", "--nonblocking",
                    "--rate", "500", "--format", "raw", "--output", options.profile,
                    "--pid", str(server.pid),
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.DEVNULL,
                )  # fmt: skip
                await asyncio.sleep(2)
            latencies: list[float] = []
            server_cpu: list[tuple[float, float]] = []  # user, system
            load_cpu: list[float] = []  # the load processes' together
            member = {"authorization": f"Bearer {tokens['member']}"}
            for guest_id, guest_token in tokens["guests"]:
                sent = await http.post(
                    "/graphql",
                    json={"query": INVITE, "variables": {"g": encode_id("Organization", guest_id)}},
                    headers=member,
                )
                invitation = sent.json()["data"]["inviteOrganization"]["invitation"]["id"]
                for pipe in pipes:
                    pipe.send("expect")
                for pipe in pipes:
                    await asyncio.to_thread(pipe.recv)
                cpu_before = cpu_seconds(server.pid)
                started = time.monotonic()
                await http.post(
                    "/graphql",
                    json={"query": ACCEPT, "variables": {"id": invitation}},
                    headers={"authorization": f"Bearer {guest_token}"},
                )
                arrived: list[float] = []
                refused = 0
                load_cpu.append(0.0)
                for pipe in pipes:
                    times, errors, used = await asyncio.to_thread(pipe.recv)
                    arrived += times
                    refused += errors
                    load_cpu[-1] += used
                if len(arrived) < subscribers:
                    raise RuntimeError(
                        f"only {len(arrived)} of {subscribers} subscribers got the event "
                        f"({refused} subscriptions were refused)"
                    )
                latencies += [arrival - started for arrival in arrived]
                user, system = cpu_seconds(server.pid)
                server_cpu.append((user - cpu_before[0], system - cpu_before[1]))
            if profiler is not None:
                profiler.send_signal(signal.SIGINT)  # py-spy writes its samples and exits
                await profiler.wait()
            for pipe in pipes:
                pipe.send("close")
    finally:
        for process in clients:
            process.join(10)
            if process.is_alive():
                process.kill()
        server.terminate()
        await server.wait()
    latencies.sort()
    return {
        "subscribers": subscribers,
        "connections": connected,
        "tokens": len(tokens["subscribers"]),
        "events": events,
        "deliveries": len(latencies),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        "server_cpu_ms_per_event": round(
            statistics.median(sum(cpu) for cpu in server_cpu) * 1000, 1
        ),
        "server_user_cpu_ms_per_event": round(
            statistics.median(u for u, _ in server_cpu) * 1000, 1
        ),
        "server_system_cpu_ms_per_event": round(
            statistics.median(s for _, s in server_cpu) * 1000, 1
        ),
        "load_cpu_ms_per_event": round(statistics.median(load_cpu) * 1000, 1),
        "server_rss_before_mib": round(rss_before / 1024, 1),
        "server_rss_with_subscribers_mib": round(rss_after / 1024, 1),
        "kib_per_idle_subscriber": round((rss_after - rss_before) / subscribers, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--events", type=int, default=5)
    parser.add_argument("--database-url", help="default: a fresh SQLite file per run")
    parser.add_argument(
        "--per-token", type=int, default=50, help="subscriptions per token (default 50)"
    )
    parser.add_argument(
        "--clients", type=int, default=4, help="load processes holding the connections"
    )
    parser.add_argument("--label", default="", help="added to the results file's name")
    parser.add_argument(
        "--profile", help="write py-spy's raw samples of the server, during the events only, here"
    )
    arguments = parser.parse_args()
    file_limit = raise_file_limit()
    results = []
    for subscribers in arguments.subscribers:
        with tempfile.TemporaryDirectory() as directory:
            url = arguments.database_url or f"sqlite+aiosqlite:///{directory}/bench.db"
            result = asyncio.run(
                run(subscribers, arguments.events, url, Path(directory), arguments)
            )
            print(json.dumps(result), flush=True)
            results.append(result)
    record = {
        "benchmark": "fanout",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "open_files_limit": file_limit,
        },
        "database": "sqlite"
        if not arguments.database_url
        else arguments.database_url.split(":")[0],
        "per_token": arguments.per_token,
        "clients": arguments.clients,
        "results": results,
    }
    label = f"-{arguments.label}" if arguments.label else ""
    out = (
        ROOT
        / "bench"
        / "results"
        / f"fanout-{record['database']}-{datetime.now(UTC):%Y%m%d}{label}.json"
    )
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
