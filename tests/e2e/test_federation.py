"""Federation end to end, with the commands of docker-compose.yml: our service on
PostgreSQL (two processes behind one address, as the compose file's two replicas sit behind
the name `api`), the example national-portal subgraph and Hive Gateway, on loopback ports.
Everything goes through the gateway: queries in both directions, mutations of both
subgraphs, and a subscription whose events carry a portal field."""

import asyncio
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import connect

from club.enums import Role
from db.tokens import create_token
from schema.ids import encode_id
from tests.e2e.servers import CLUBJUSTICE, free_port, wait_for
from tests.factories import guests_of_a_member

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
FEDERATION = ROOT / "federation"
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def command_of(service: str) -> list[str]:
    """The service's command from docker-compose.yml, runnable here."""
    command = list(COMPOSE[service]["command"])
    return [CLUBJUSTICE, *command[1:]] if command[0] == "clubjustice" else command


def environment_of(service: str, **overrides: str) -> dict[str, str]:
    """The service's environment from docker-compose.yml, with host-specific values replaced
    (each replaced key must exist there, so that the two cannot drift apart)."""
    environment = {key: str(value) for key, value in COMPOSE[service]["environment"].items()}
    unknown = (
        set(overrides)
        - set(environment)
        - {"CLUBJUSTICE_WORKERS", "CLUBJUSTICE_LOG_LEVEL", "CLUBJUSTICE_RATE_LIMIT_KEY_PREFIX"}
    )
    assert not unknown, f"{service} has no {unknown} in docker-compose.yml"
    return {**os.environ, **environment, **overrides}


@contextmanager
def process(
    name: str, command: list[str], env: dict[str, str], cwd: Path, logs: Path
) -> Iterator[subprocess.Popen[bytes]]:
    log = (logs / f"{name}.log").open("wb")
    started = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield started
    finally:
        started.terminate()
        try:
            started.wait(timeout=10)
        except subprocess.TimeoutExpired:
            started.kill()
            started.wait()
        log.close()


@pytest.fixture
def federation_tools() -> None:
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    if not (FEDERATION / "node_modules" / ".bin" / "hive-gateway").exists():
        pytest.skip("federation tooling not installed (scripts/bootstrap runs npm ci)")


async def test_through_the_gateway(
    engine: AsyncEngine, session_factory: Any, tmp_path: Path, federation_tools: None
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the replicas share a PostgreSQL database")
    database_url = engine.url.render_as_string(hide_password=False)
    member, guests = await guests_of_a_member(session_factory, 3)
    async with session_factory() as session, session.begin():
        _, member_token = await create_token(session, Role.ORGANIZATION, organization_id=member.id)
        _, guest_token = await create_token(
            session, Role.ORGANIZATION, organization_id=guests[0].id
        )
        _, partner_token = await create_token(session, Role.PARTNER)

    api_port, portal_port, gateway_port = free_port(), free_port(), free_port()
    with ExitStack() as stack:
        migrate = await asyncio.to_thread(
            subprocess.run,
            command_of("migrate"),
            env=environment_of("migrate", CLUBJUSTICE_DATABASE_URL=database_url),
            capture_output=True,
            text=True,
            check=False,
        )
        assert migrate.returncode == 0, migrate.stderr
        api = stack.enter_context(
            process(
                "api",
                command_of("api"),
                environment_of(
                    "api",
                    CLUBJUSTICE_DATABASE_URL=database_url,
                    CLUBJUSTICE_HOST="127.0.0.1",
                    CLUBJUSTICE_PORT=str(api_port),
                    CLUBJUSTICE_WORKERS="2",
                    CLUBJUSTICE_LOG_LEVEL="INFO",
                    # The test Redis when there is one (keys of this run's own, gone two
                    # minutes after), else none: each process then limits on its own.
                    CLUBJUSTICE_REDIS_URL=os.environ.get("CLUBJUSTICE_TEST_REDIS_URL", ""),
                    CLUBJUSTICE_RATE_LIMIT_KEY_PREFIX=f"clubjustice-test:{uuid.uuid4().hex}",
                ),
                tmp_path,
                tmp_path,
            )
        )
        wait_for(f"http://127.0.0.1:{api_port}/readyz", api, tmp_path / "api.log")
        portal = stack.enter_context(
            process(
                "portal",
                command_of("portal"),
                environment_of("portal", HOST="127.0.0.1", PORT=str(portal_port)),
                FEDERATION,
                tmp_path,
            )
        )
        wait_for(f"http://127.0.0.1:{portal_port}/healthz", portal, tmp_path / "portal.log")
        gateway = stack.enter_context(
            process(
                "gateway",
                command_of("gateway"),
                environment_of(
                    "gateway",
                    CLUBJUSTICE_URL=f"http://127.0.0.1:{api_port}/graphql",
                    PORTAL_URL=f"http://127.0.0.1:{portal_port}/graphql",
                    SUPERGRAPH=str(tmp_path / "supergraph.graphql"),
                    HOST="127.0.0.1",
                    PORT=str(gateway_port),
                ),
                FEDERATION,
                tmp_path,
            )
        )
        wait_for(
            f"http://127.0.0.1:{gateway_port}/healthcheck", gateway, tmp_path / "gateway.log", 60
        )
        await _check_the_graph(
            f"http://127.0.0.1:{gateway_port}/graphql",
            tmp_path / "api.log",
            member_token=member_token,
            guest_token=guest_token,
            partner_token=partner_token,
            guest_ids=[encode_id("Organization", guest.id) for guest in guests],
        )


ADD_PROGRAM = """
mutation($organizationId: ID!, $name: String!) {
  addLocalProgram(organizationId: $organizationId, name: $name) { id name }
}
"""
RECORD_CASES = """
mutation($organizationId: ID!, $count: Int!) {
  recordLocalCases(organizationId: $organizationId, count: $count) { id localCaseCount }
}
"""
DIRECTORY = """
query Directory {
  organizations(first: 10, filter: {status: GUEST}) {
    edges { node { name status localCaseCount localPrograms { name } } }
  }
}
"""
PROGRAMS = "query Programs { localPrograms { name organization { name country { code } } } }"
INVITE = """
mutation($guest: ID!) {
  inviteOrganization(input: {inviteeId: $guest}) { invitation { id } errors { code } }
}
"""
ACCEPT = (
    "mutation($id: ID!) { acceptInvitation(id: $id) { invitation { status } errors { code } } }"
)
# Completing each event takes the portal's fields, then ours again (a second hop over HTTP,
# which needs the subscriber's token too).
MEMBER_JOINED = """
subscription {
  memberJoined {
    organization { name localCaseCount localPrograms { name organization { country { code } } } }
  }
}
"""


async def _check_the_graph(
    gateway: str,
    api_log: Path,
    *,
    member_token: str,
    guest_token: str,
    partner_token: str,
    guest_ids: list[str],
) -> None:
    async def run(token: str, query: str, **variables: Any) -> Any:
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(
                gateway,
                json={"query": query, "variables": variables},
                headers={"authorization": f"Bearer {token}"},
            )
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        return body["data"]

    # Mutations of the portal, through the gateway: programs of our organizations.
    for n, organization_id in enumerate(guest_ids):
        await run(partner_token, ADD_PROGRAM, organizationId=organization_id, name=f"Clinic {n}")
    await run(partner_token, RECORD_CASES, organizationId=guest_ids[0], count=12)

    # Rooted in our graph, with the portal's fields on each organization.
    directory = await run(partner_token, DIRECTORY)
    nodes = {edge["node"]["name"]: edge["node"] for edge in directory["organizations"]["edges"]}
    assert len(nodes) == 3
    cases = sorted(node["localCaseCount"] for node in nodes.values())
    assert cases == [0, 0, 12]
    assert sorted(p["name"] for node in nodes.values() for p in node["localPrograms"]) == [
        "Clinic 0",
        "Clinic 1",
        "Clinic 2",
    ]

    # Rooted in the portal, needing our `_entities`: one batched fetch for the three.
    before = await _settled_count(api_log)
    programs = await run(partner_token, PROGRAMS)
    assert [p["organization"]["country"]["code"] for p in programs["localPrograms"]] == ["MD"] * 3
    assert sorted(p["organization"]["name"] for p in programs["localPrograms"]) == sorted(nodes)
    assert await _settled_count(api_log) - before == 1

    # A subscription through the gateway; the event carries the portal's field.
    async with connect(
        gateway.replace("http", "ws", 1),
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
    ) as socket:
        await socket.send(
            json.dumps(
                {"type": "connection_init", "payload": {"authorization": f"Bearer {partner_token}"}}
            )
        )
        assert json.loads(await asyncio.wait_for(socket.recv(), 10)) == {"type": "connection_ack"}
        await socket.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": MEMBER_JOINED}})
        )
        await asyncio.sleep(1)  # the gateway opens its own subscription to our subgraph
        # Our mutations, through the gateway: the member invites, the guest accepts.
        invited = await run(member_token, INVITE, guest=guest_ids[0])
        invitation = invited["inviteOrganization"]["invitation"]["id"]
        accepted = await run(guest_token, ACCEPT, id=invitation)
        assert accepted == {
            "acceptInvitation": {"invitation": {"status": "ACCEPTED"}, "errors": []}
        }
        event = json.loads(await asyncio.wait_for(socket.recv(), 15))
    guest_name = next(name for name, node in nodes.items() if node["localCaseCount"] == 12)
    assert event == {
        "id": "1",
        "type": "next",
        "payload": {
            "data": {
                "memberJoined": {
                    "organization": {
                        "name": guest_name,
                        "localCaseCount": 12,
                        "localPrograms": [
                            {"name": "Clinic 0", "organization": {"country": {"code": "MD"}}}
                        ],
                    }
                }
            }
        },
    }


async def _settled_count(api_log: Path) -> int:
    """The count once it stops moving: a request's line is written after its response."""
    count = _requests_to_us(api_log)
    for _ in range(50):
        await asyncio.sleep(0.1)
        again = _requests_to_us(api_log)
        if again == count:
            return count
        count = again
    raise AssertionError("the access log kept growing")


def _requests_to_us(api_log: Path) -> int:
    """GraphQL requests our service answered, from its access log lines (JSON)."""
    count = 0
    for line in api_log.read_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("logger") == "clubjustice.access" and entry.get("path") == "/graphql":
                count += 1
    return count
