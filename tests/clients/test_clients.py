"""The GraphQL clients people use, each with its default settings, against a real
`clubjustice serve` process on the demo data: urql, Apollo Client, graphql-request,
graphql-ws and graphql-sse (the Node.js programs beside this file, pinned by its
package-lock.json) and Python's gql. Each answers the same query, asserted whole; the
streaming ones also receive a live event. graphql-http's audits of the GraphQL-over-HTTP
specification run against the same server and must report no error and no warning."""

import asyncio
import json
import shutil
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from club.cursors import activity_cursor
from club.enums import Role
from db.engine import create_session_factory
from db.models import ActivityLogEntry, Organization
from db.seed import seed
from db.tokens import create_token
from tests.conftest import clean_tables
from tests.e2e.servers import servers
from tests.node_programs import NodeProgram
from tests.node_programs import node_program as run_program

# One worker runs the module: its module-scoped fixture starts a server (or tool) once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("clients")]

CLIENTS = Path(__file__).parent
NODE = shutil.which("node")
# A guard against a client that hangs, not a measure: a line comes in well under a second.
LINE_TIMEOUT = 20.0

QUERY = """
query Country($code: String!) {
  country(code: $code) {
    __typename
    code
    name
    region
    memberCount
    organizations { __typename slug name kind status sponsor { __typename name } }
  }
}
"""
VARIABLES = {"code": "MN"}
# Every selection names __typename: Apollo's cache adds it to what it sends, and the other
# clients then return the same response.
ANSWER = {
    "data": {
        "country": {
            "__typename": "Country",
            "code": "MN",
            "name": "Mongolia",
            "region": "Asia",
            "memberCount": 1,
            "organizations": [
                {
                    "__typename": "Organization",
                    "slug": "mongolia-legal-aid",
                    "name": "Mongolian Legal Aid Institute",
                    "kind": "LEGAL_AID_PROVIDER",
                    "status": "MEMBER",
                    "sponsor": {
                        "__typename": "Organization",
                        "name": "Kyrgyz Community Paralegals",
                    },
                }
            ],
        }
    }
}

MEETING_UPDATES = """
subscription MeetingUpdates($after: String) {
  meetingUpdates(after: $after) {
    __typename
    kind
    event { __typename title kind status startsAt host { __typename name } }
  }
}
"""
SCHEDULE = """
mutation Schedule($input: ScheduleEventInput!) {
  scheduleEvent(input: $input) { event { title } errors { code } }
}
"""
HOST = "kyrgyz-paralegals"  # a member of the demo club: it schedules the meetings
STARTS_AT = "2031-03-05T10:00:00Z"
CONNECTED = {"connected": True}  # what the streaming programs print once connected


def meeting_scheduled(title: str) -> dict[str, Any]:
    return {
        "data": {
            "meetingUpdates": {
                "__typename": "MeetingUpdate",
                "kind": "SCHEDULED",
                "event": {
                    "__typename": "Event",
                    "title": title,
                    "kind": "ONLINE_MEETING",
                    "status": "SCHEDULED",
                    "startsAt": "2031-03-05T10:00:00+00:00",
                    "host": {"__typename": "Organization", "name": "Kyrgyz Community Paralegals"},
                },
            }
        }
    }


@dataclass(frozen=True)
class Server:
    http: str  # the GraphQL endpoint
    ws: str  # the same, for WebSocket clients
    token: str  # ADMIN: what every client sends
    host_token: str  # the member that schedules the meetings of the subscription tests
    engine: AsyncEngine


@pytest.fixture(scope="module")
async def server(
    engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Server]:
    """One server process for the module, on the demo data (on each database)."""
    await clean_tables(engine)
    session_factory = create_session_factory(engine)
    await seed(session_factory)
    async with session_factory() as session, session.begin():
        _, admin = await create_token(session, Role.ADMIN, label="clients")
        host_id = await session.scalar(select(Organization.id).where(Organization.slug == HOST))
        _, host = await create_token(session, Role.ORGANIZATION, organization_id=host_id)
    url = engine.url.render_as_string(hide_password=False)
    with servers(1, url, tmp_path_factory.mktemp("clients")) as (base,):
        yield Server(
            http=f"{base}/graphql",
            ws=f"{base.replace('http', 'ws', 1)}/graphql",
            token=admin,
            host_token=host,
            engine=engine,
        )


@pytest.fixture
def node_clients() -> str:
    if NODE is None:
        pytest.skip("Node.js is not installed (the client programs run on it)")
    if not (CLIENTS / "node_modules" / "graphql-http").is_dir():
        pytest.skip(
            "client packages not installed (scripts/bootstrap runs npm ci in tests/clients)"
        )
    return NODE


@asynccontextmanager
async def node_program(
    node: str, program: str, *args: str, token: str, logs: Path
) -> AsyncIterator[NodeProgram]:
    async with run_program(
        node,
        CLIENTS / program,
        *args,
        logs=logs,
        env={"CLUBJUSTICE_TOKEN": token},
        line_timeout=LINE_TIMEOUT,
    ) as running:
        yield running


async def run_node(node: str, program: str, *args: str, token: str, logs: Path) -> list[Any]:
    async with node_program(node, program, *args, token=token, logs=logs) as running:
        return await running.rest()


async def cursor_now(engine: AsyncEngine) -> str:
    """The activity log's current end: a subscription from here gets the next event whether
    it is registered before the event (live) or after it (replayed)."""
    async with engine.connect() as connection:
        last = await connection.scalar(select(func.max(ActivityLogEntry.id)))
    return activity_cursor(last or 0)


async def schedule_meeting(server: Server, title: str) -> None:
    ends_at = STARTS_AT.replace("T10", "T11")
    async with httpx.AsyncClient(
        headers={"authorization": f"Bearer {server.host_token}"}
    ) as client:
        response = await client.post(
            server.http,
            json={
                "query": SCHEDULE,
                "variables": {
                    "input": {
                        "title": title,
                        "kind": "ONLINE_MEETING",
                        "startsAt": STARTS_AT,
                        "endsAt": ends_at,
                    }
                },
            },
        )
    assert response.json() == {"data": {"scheduleEvent": {"event": {"title": title}, "errors": []}}}


@pytest.mark.parametrize(
    ("program", "transport"),
    [
        pytest.param("urql.mjs", "http", id="urql"),
        pytest.param("apollo.mjs", "http", id="apollo-client"),
        pytest.param("graphql-request.mjs", "http", id="graphql-request"),
        pytest.param("graphql-sse.mjs", "sse", id="graphql-sse"),
        # graphql-ws sends the query over the socket (`client.iterate`).
        pytest.param("graphql-ws.mjs", "ws", id="graphql-ws"),
    ],
)
async def test_a_node_client_answers_a_query(
    program: str, transport: str, server: Server, node_clients: str, tmp_path: Path
) -> None:
    url = server.ws if transport == "ws" else server.http
    lines = await run_node(
        node_clients, program, url, QUERY, json.dumps(VARIABLES), token=server.token, logs=tmp_path
    )
    # The streaming clients say when they are connected, then print the answer.
    expected = [CONNECTED, ANSWER] if transport in {"sse", "ws"} else [ANSWER]
    assert lines == expected


REGISTER = """
mutation Register($input: RegisterOrganizationInput!) {
  registerOrganization(input: $input) {
    __typename
    organization { __typename name kind status country { __typename code } }
    errors { __typename code }
  }
}
"""


async def test_urql_runs_a_mutation_over_post(
    server: Server, node_clients: str, tmp_path: Path
) -> None:
    """urql POSTs mutations with an Accept header that lists the streaming types after the
    JSON ones: the answer must be JSON."""
    # In Poland: the query every client answers is about Mongolia, and must not change.
    variables = {"input": {"name": "Warsaw Urql Clinic", "countryCode": "PL", "kind": "NGO"}}
    lines = await run_node(
        node_clients,
        "urql.mjs",
        server.http,
        REGISTER,
        json.dumps(variables),
        token=server.token,
        logs=tmp_path,
    )
    assert lines == [
        {
            "data": {
                "registerOrganization": {
                    "__typename": "OrganizationPayload",
                    "organization": {
                        "__typename": "Organization",
                        "name": "Warsaw Urql Clinic",
                        "kind": "NGO",
                        "status": "GUEST",
                        "country": {"__typename": "Country", "code": "PL"},
                    },
                    "errors": [],
                }
            }
        }
    ]


@pytest.mark.parametrize(
    ("program", "transport"),
    [
        pytest.param("graphql-sse.mjs", "sse", id="graphql-sse"),
        pytest.param("graphql-ws.mjs", "ws", id="graphql-ws"),
    ],
)
async def test_a_node_client_receives_a_subscription_event(
    program: str, transport: str, server: Server, node_clients: str, tmp_path: Path
) -> None:
    url = server.ws if transport == "ws" else server.http
    variables = json.dumps({"after": await cursor_now(server.engine)})
    title = f"Clients meeting ({program})"
    async with node_program(
        node_clients, program, url, MEETING_UPDATES, variables, token=server.token, logs=tmp_path
    ) as client:
        assert await client.next() == CONNECTED
        await schedule_meeting(server, title)
        assert await client.next() == meeting_scheduled(title)
        assert await client.rest() == []


def gql_response(result: Any) -> dict[str, Any]:
    return {key: value for key, value in result.formatted.items() if value is not None}


async def test_python_gql_answers_a_query_over_http(server: Server) -> None:
    transport = HTTPXAsyncTransport(
        url=server.http, headers={"authorization": f"Bearer {server.token}"}
    )
    async with Client(transport=transport) as session:
        try:
            result = await session.execute(
                GraphQLRequest(QUERY, variable_values=VARIABLES), get_execution_result=True
            )
            response = gql_response(result)
        except TransportQueryError as refused:
            response = {"data": refused.data, "errors": refused.errors}
    assert response == ANSWER


WEBSOCKET_PROTOCOLS = pytest.mark.parametrize(
    "subprotocols",
    [
        # gql offers legacy graphql-ws first, then graphql-transport-ws; the server picks.
        pytest.param(None, id="default"),
        pytest.param(["graphql-transport-ws"], id="graphql-transport-ws"),
    ],
)


@WEBSOCKET_PROTOCOLS
async def test_python_gql_answers_a_query_over_websocket(
    server: Server, subprotocols: list[str] | None
) -> None:
    transport = WebsocketsTransport(
        url=server.ws,
        init_payload={"authorization": f"Bearer {server.token}"},
        subprotocols=subprotocols,
    )
    async with Client(transport=transport) as session:
        result = await session.execute(
            GraphQLRequest(QUERY, variable_values=VARIABLES), get_execution_result=True
        )
    assert gql_response(result) == ANSWER


@WEBSOCKET_PROTOCOLS
async def test_python_gql_receives_a_subscription_event_over_websocket(
    server: Server, subprotocols: list[str] | None
) -> None:
    transport = WebsocketsTransport(
        url=server.ws,
        init_payload={"authorization": f"Bearer {server.token}"},
        subprotocols=subprotocols,
    )
    title = f"Clients meeting (gql, {subprotocols or 'default'})"
    request = GraphQLRequest(
        MEETING_UPDATES, variable_values={"after": await cursor_now(server.engine)}
    )
    async with Client(transport=transport) as session:
        events = session.subscribe(request, get_execution_result=True)
        first = asyncio.ensure_future(anext(events))
        await schedule_meeting(server, title)
        event = await asyncio.wait_for(first, LINE_TIMEOUT)
        await events.aclose()
    assert gql_response(event) == meeting_scheduled(title)


async def test_graphql_http_audits_report_no_error_and_no_warning(
    server: Server, node_clients: str, tmp_path: Path
) -> None:
    results = await run_node(
        node_clients, "audit.mjs", server.http, token=server.token, logs=tmp_path
    )
    failures = [
        f"{r['status']} {r['id']} {r['name']}: {r['reason']}"
        for r in results
        if r["status"] in {"error", "warn"}
    ]
    counts = Counter(r["status"] for r in results)
    assert failures == [], f"{len(results)} audits, {dict(counts)}:\n" + "\n".join(failures)
    # graphql-http 1.23.1 has 61 server audits; "notice" is what the specification allows.
    assert set(counts) <= {"ok", "notice"} and counts.total() == 61
