"""Every refusal the service makes, on every transport it applies to, against a real server:
each has a specific code (a 4xx status where the answer is a plain HTTP response) and
leaves no stack trace in the log. docs/security.md ("Refusals, transport by transport")
has the table."""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from club.enums import Role
from club.persisted import sha256
from club.settings import Settings
from tests.http.conftest import MakeToken
from tests.limit_cases import CASES, over
from tests.ws.conftest import LiveServer, Subscriber, legacy_graphql_ws, run_server

GR = "application/graphql-response+json"
SSE = "text/event-stream"
MULTIPART = "multipart/mixed;subscriptionSpec=1.0"

# What a transport answered: the HTTP status (None over WebSocket), and the codes of the
# errors, or the WebSocket's close code.
Answer = tuple[int | None, tuple[str, ...] | str]
Send = Callable[[LiveServer, str, str], Awaitable[Answer]]


def codes(errors: list[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(error["extensions"]["code"] for error in errors)


async def http_post(server: LiveServer, token: str, query: str, **more: Any) -> Answer:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            f"{server.http}/graphql",
            json={"query": query, **more},
            headers={"authorization": f"Bearer {token}", "accept": GR},
        )
    return response.status_code, codes(response.json()["errors"])


async def http_get(server: LiveServer, token: str, query: str) -> Answer:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(
            f"{server.http}/graphql",
            params={"query": query},
            headers={"authorization": f"Bearer {token}", "accept": GR},
        )
    return response.status_code, codes(response.json()["errors"])


async def apq(server: LiveServer, token: str, query: str) -> Answer:
    """The query with its hash (APQ's second request): the persisted-query path."""
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}}
    return await http_post(server, token, query, extensions=extensions)


async def streamed(server: LiveServer, token: str, query: str, accept: str) -> tuple[int, str]:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            f"{server.http}/graphql",
            json={"query": query},
            headers={"authorization": f"Bearer {token}", "accept": accept},
        )
    return response.status_code, response.text


async def sse(server: LiveServer, token: str, query: str) -> Answer:
    status, text = await streamed(server, token, query, SSE)
    data = text[text.index("data: {") + len("data: ") :].split("\r\n")[0]
    return status, codes(json.loads(data)["errors"])


async def multipart(server: LiveServer, token: str, query: str) -> Answer:
    status, text = await streamed(server, token, query, MULTIPART)
    [part] = [line for line in text.split("\r\n") if '"errors"' in line]
    body = json.loads(part)
    return status, codes(body.get("payload", body)["errors"])


async def transport_ws(server: LiveServer, token: str, query: str) -> Answer:
    subscriber = await Subscriber.open(server.ws, token)
    try:
        operation = await subscriber.subscribe(query)
        message = await subscriber.receive()
    except ConnectionClosed as closed:
        return None, f"close {closed.rcvd.code if closed.rcvd else None}"
    finally:
        await subscriber.close()
    assert message["id"] == operation, message
    if message["type"] == "error":
        return None, codes(message["payload"])
    assert message["type"] == "next", message
    return None, codes(message["payload"]["errors"])


async def legacy_ws(server: LiveServer, token: str, query: str) -> Answer:
    async with legacy_graphql_ws(server.ws, token) as connection:
        await connection.send(json.dumps({"id": "1", "type": "start", "payload": {"query": query}}))
        message = json.loads(await asyncio.wait_for(connection.recv(), 5))
    assert message["id"] == "1", message
    if message["type"] == "error":
        return None, codes([message["payload"]])
    assert message["type"] == "data", message
    return None, codes(message["payload"]["errors"])


TRANSPORTS: dict[str, Send] = {
    "POST": http_post,
    "GET": http_get,
    "APQ": apq,
    "SSE": sse,
    "multipart": multipart,
    "graphql-transport-ws": transport_ws,
    "graphql-ws": legacy_ws,
}


def everywhere(code: str) -> dict[str, Answer]:
    """The answer of a request error on each transport: 400 over plain HTTP (asked as
    graphql-response+json); 200 and the error in the one event of a stream, as graphql-sse
    and Apollo's multipart protocol have it; an error message over WebSocket."""
    return {
        "POST": (400, (code,)),
        "GET": (400, (code,)),
        "APQ": (400, (code,)),
        "SSE": (200, (code,)),
        "multipart": (200, (code,)),
        "graphql-transport-ws": (None, (code,)),
        "graphql-ws": (None, (code,)),
    }


# (code, the query refused, settings): every refusal of an operation, whatever carries it.
OPERATION_REFUSALS: list[tuple[str, str, dict[str, Any]]] = [
    *((case.code, case.query(over(case, case.limit)), case.settings) for case in CASES),
    ("GRAPHQL_PARSE_FAILED", "{ viewer { role }", {}),
    ("GRAPHQL_VALIDATION_FAILED", "{ viewer { nope } }", {}),
    ("BAD_USER_INPUT", "query Kenya($code: String!) { country(code: $code) { name } }", {}),
    ("OPERATION_RESOLUTION_FAILURE", "query A { viewer { role } } query B { viewer { role } }", {}),
    ("INTROSPECTION_DISABLED", "{ __schema { queryType { name } } }", {"introspection_roles": []}),
]


def no_stack_trace(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.exc_info is not None or "Traceback" in record.getMessage()
    ]


@pytest.mark.parametrize(
    ("code", "query", "settings_update"),
    OPERATION_REFUSALS,
    ids=[code for code, _, _ in OPERATION_REFUSALS],
)
async def test_an_operation_refusal_has_its_code_on_every_transport(
    settings: Settings,
    make_token: MakeToken,
    session_factory: Any,
    caplog: pytest.LogCaptureFixture,
    code: str,
    query: str,
    settings_update: dict[str, Any],
) -> None:
    caplog.set_level(logging.INFO)
    answers = {}
    async for server in run_server(settings.model_copy(update=settings_update)):
        token = await make_token(Role.PARTNER)
        for name, send in TRANSPORTS.items():
            if not (name == "GET" and code == "DOCUMENT_TOO_LARGE"):
                answers[name] = await send(server, token, query)
    expected = everywhere(code)
    if code == "DOCUMENT_TOO_LARGE":
        del expected["GET"]  # 64 KiB do not fit in a URL (httpx refuses to send it)
    if code == "GRAPHQL_PARSE_FAILED":
        # strawberry closes the connection on a syntax error, its reason the error's message
        # (docs/security.md); our own parser limits get an `error` message with their code.
        expected["graphql-transport-ws"] = (None, "close 4400")
    assert answers == expected
    assert no_stack_trace(caplog) == []


SUBSCRIPTION = "subscription { memberJoined { cursor } }"


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("accept", [GR, "application/json"])
async def test_a_subscription_without_a_stream_is_refused_with_406(
    settings: Settings,
    make_token: MakeToken,
    session_factory: Any,
    caplog: pytest.LogCaptureFixture,
    method: str,
    accept: str,
) -> None:
    caplog.set_level(logging.INFO)
    async for server in run_server(settings):
        token = await make_token(Role.PARTNER)
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.request(
                method,
                f"{server.http}/graphql",
                json={"query": SUBSCRIPTION} if method == "POST" else None,
                params={"query": SUBSCRIPTION} if method == "GET" else None,
                headers={"authorization": f"Bearer {token}", "accept": accept},
            )
    assert (response.status_code, codes(response.json()["errors"])) == (406, ("NOT_ACCEPTABLE",))
    assert no_stack_trace(caplog) == []


# (name, request: method and httpx arguments, settings, status, code): refusals before
# GraphQL runs, over HTTP only (a WebSocket's are its close codes: tests/ws).
TOKEN = "<token>"
TRANSPORT_REFUSALS: list[tuple[str, str, dict[str, Any], dict[str, Any], int, str]] = [
    ("no-token", "POST", {"json": {"query": "{ viewer { role } }"}}, {}, 401, "UNAUTHENTICATED"),
    (
        "unknown-token",
        "POST",
        {"json": {"query": "{ viewer { role } }"}, "auth": "Bearer cj_unknown"},
        {},
        401,
        "UNAUTHENTICATED",
    ),
    (
        "rate-limited",
        "POST",
        {"json": {"query": "{ viewer { role } }"}, "auth": TOKEN, "twice": True},
        {"rate_limit_partner": 1},
        429,
        "RATE_LIMITED",
    ),
    (
        "body-too-large",
        "POST",
        {"json": {"query": "{ viewer { role } }" + " " * 200}, "auth": TOKEN},
        {"max_body_bytes": 100},
        413,
        "PAYLOAD_TOO_LARGE",
    ),
    (
        "no-preflight",
        "POST",
        {"content": b"query={viewer{role}}", "content_type": "text/plain"},
        {},
        400,
        "PREFLIGHT_REQUIRED",
    ),
    (
        "not-json",
        "POST",
        {"content": b"{}", "content_type": "text/plain", "auth": TOKEN},
        {},
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    (
        "bad-accept",
        "POST",
        {"json": {"query": "{ viewer { role } }"}, "auth": TOKEN, "accept": "text/html"},
        {},
        406,
        "NOT_ACCEPTABLE",
    ),
    (
        "mutation-over-get",
        "GET",
        {"params": {"query": "mutation { x }"}, "auth": TOKEN},
        {},
        405,
        "METHOD_NOT_ALLOWED",
    ),
    (
        "other-method",
        "PUT",
        {"json": {"query": "{ viewer { role } }"}, "auth": TOKEN},
        {},
        405,
        "METHOD_NOT_ALLOWED",
    ),
    ("bad-json", "POST", {"content": b'{"query":', "auth": TOKEN}, {}, 400, "BAD_REQUEST"),
    ("no-query", "POST", {"json": {}, "auth": TOKEN}, {}, 400, "BAD_REQUEST"),
    (
        "batch",
        "POST",
        {"json": [{"query": "{ viewer { role } }"}], "auth": TOKEN},
        {},
        400,
        "BATCHING_DISABLED",
    ),
    (
        "batch-too-large",
        "POST",
        {"json": [{"query": "{ viewer { role } }"}] * 3, "auth": TOKEN},
        {"max_batch_operations": 2},
        400,
        "BATCH_LIMIT_EXCEEDED",
    ),
    (
        "persisted-query-not-found",
        "POST",
        {
            "json": {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}},
            "auth": TOKEN,
        },
        {},
        400,
        "PERSISTED_QUERY_NOT_FOUND",
    ),
    (
        "persisted-query-hash-mismatch",
        "POST",
        {
            "json": {
                "query": "{ viewer { role } }",
                "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}},
            },
            "auth": TOKEN,
        },
        {},
        400,
        "PERSISTED_QUERY_HASH_MISMATCH",
    ),
    (
        "persisted-queries-off",
        "POST",
        {
            "json": {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}},
            "auth": TOKEN,
        },
        {"apq_cache_size": 0},
        400,
        "PERSISTED_QUERY_NOT_SUPPORTED",
    ),
]


@pytest.mark.parametrize(
    ("method", "request_", "settings_update", "status", "code"),
    [pytest.param(*case[1:], id=case[0]) for case in TRANSPORT_REFUSALS],
)
async def test_a_transport_refusal_has_its_status_and_code(
    settings: Settings,
    make_token: MakeToken,
    session_factory: Any,
    caplog: pytest.LogCaptureFixture,
    method: str,
    request_: dict[str, Any],
    settings_update: dict[str, Any],
    status: int,
    code: str,
) -> None:
    caplog.set_level(logging.INFO)
    arguments = dict(request_)
    headers = {"accept": arguments.pop("accept", GR)}
    auth = arguments.pop("auth", None)
    if auth == TOKEN:
        auth = f"Bearer {await make_token(Role.PARTNER)}"
    if auth is not None:
        headers["authorization"] = auth
    content_type = arguments.pop("content_type", None)
    if content_type is not None:
        headers["content-type"] = content_type
    elif "content" in arguments:
        headers["content-type"] = "application/json"
    twice = arguments.pop("twice", False)
    async for server in run_server(settings.model_copy(update=settings_update)):
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(2 if twice else 1):
                response = await client.request(
                    method, f"{server.http}/graphql", headers=headers, **arguments
                )
    assert (response.status_code, codes(response.json()["errors"])) == (status, (code,))
    assert no_stack_trace(caplog) == []
