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
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect

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


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


async def subscribe(url: str, token: str, arrivals: Arrivals) -> ClientConnection:
    connection = await connect(url, subprotocols=["graphql-transport-ws"], compression=None)  # type: ignore[list-item]
    await connection.send(
        json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    )
    assert json.loads(await connection.recv())["type"] == "connection_ack"
    await connection.send(
        json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
    )

    async def read() -> None:
        # The load generator must cost less than the server: a timestamp, and no JSON parse.
        async for message in connection:
            if '"type":"next"' in message:
                arrivals.record()
            elif '"type":"error"' in message:
                arrivals.refused += 1

    asyncio.get_running_loop().create_task(read())
    return connection


def client_process(commands: Connection, url: str, tokens: list[str]) -> None:
    """One load process: a connection and subscription per token in `tokens` (a token may
    come more than once), then, per command, the arrival times of one event at all of them."""
    asyncio.run(_client(commands, url, tokens))


async def _client(commands: Connection, url: str, tokens: list[str]) -> None:
    arrivals = Arrivals()
    connections: list[ClientConnection] = []
    for start in range(0, len(tokens), 250):  # connect in waves, as a crowd arrives
        connections += await asyncio.gather(
            *(subscribe(url, token, arrivals) for token in tokens[start : start + 250])
        )
    commands.send(len(connections))
    while await asyncio.to_thread(commands.recv) == "expect":
        arrivals.expect(len(connections))
        commands.send("ready")
        with contextlib.suppress(TimeoutError):  # the main process reports who is missing
            await asyncio.wait_for(arrivals.complete.wait(), 60)
        commands.send((list(arrivals.times), arrivals.refused))
    for connection in connections:
        await connection.close()


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

            latencies: list[float] = []
            server_cpu: list[float] = []
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
                for pipe in pipes:
                    times, errors = await asyncio.to_thread(pipe.recv)
                    arrived += times
                    refused += errors
                if len(arrived) < subscribers:
                    raise RuntimeError(
                        f"only {len(arrived)} of {subscribers} subscribers got the event "
                        f"({refused} subscriptions were refused)"
                    )
                latencies += [arrival - started for arrival in arrived]
                server_cpu.append(cpu_seconds(server.pid) - cpu_before)
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
        "server_cpu_ms_per_event": round(statistics.median(server_cpu) * 1000, 1),
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
