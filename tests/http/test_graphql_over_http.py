"""GraphQL over HTTP as the spec (and graphql-http's audit) has it: the media type each
`Accept` header gets, the status and body of each class of error in both JSON media types,
urql's own requests, and queries over graphql-sse and multipart run with every rule of a
plain POST. (The audit itself, and the clients against a real server: tests/clients.)"""

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

import resolvers.loaders
from club.cursors import activity_cursor
from club.enums import ActivityKind, Role
from club.persisted import sha256
from club.settings import Settings
from db.activity import Subject, append_activity
from db.models import Organization
from tests.factories import add, country_ids, organization
from tests.http.conftest import MakeToken, bearer, open_client, slow_loader_fetch
from tests.ws.conftest import LiveServer, run_server, until_subscribed

GR = "application/graphql-response+json"
JSON = "application/json"
GR_TYPE = "application/graphql-response+json; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
SSE = "text/event-stream"
MULTIPART = "multipart/mixed;subscriptionSpec=1.0"
# @urql/core 6.0.3, makeFetchOptions: the Accept of every query and mutation (subscriptions
# send "text/event-stream, multipart/mixed"); Content-Type only with a body.
URQL_ACCEPT = (
    "application/graphql-response+json, application/graphql+json, application/json, "
    "text/event-stream, multipart/mixed"
)

VIEWER = "{ viewer { role } }"
AS_PARTNER = {"data": {"viewer": {"role": "PARTNER"}}}
KENYA = "query Kenya($code: String!) { country(code: $code) { name } }"
KENYA_DATA = {"data": {"country": {"name": "Kenya"}}}
TOO_COSTLY = "{ countries { organizations(first: 100) { name } } }"
COST_LIMIT_EXCEEDED = {
    "message": "The operation could return about 25250 objects; the budget of PARTNER tokens "
    "is 5000. Ask for smaller pages (`first`) or fewer nested lists.",
    "extensions": {"code": "COST_LIMIT_EXCEEDED", "limit": 5000, "measured": 25250},
}
PERSISTED_QUERY_NOT_FOUND = {
    "message": "PersistedQueryNotFound",
    "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The declared list sizes: TOO_COSTLY is refused on them whatever the test data holds
    (observed, the test database's empty relations would make it cheap)."""
    return settings.model_copy(update={"list_size_refresh_seconds": 0})


def answer(response: httpx.Response) -> tuple[int, str, Any]:
    """A response whole: status, content type and body."""
    return response.status_code, response.headers["content-type"], response.json()


def persisted(query: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}}


# Accept


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        (None, JSON_TYPE),
        ("*/*", JSON_TYPE),
        (JSON, JSON_TYPE),
        (GR, GR_TYPE),
        (f"{GR}, {JSON};q=0.9", GR_TYPE),
        (f"{JSON}, {GR}", JSON_TYPE),
        (f"{JSON};q=0.5, {GR}", GR_TYPE),
        ("application/*", JSON_TYPE),
        (URQL_ACCEPT, GR_TYPE),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", JSON_TYPE),
    ],
)
async def test_the_response_takes_the_media_type_the_client_prefers(
    client: httpx.AsyncClient, partner: dict[str, str], accept: str | None, content_type: str
) -> None:
    request = client.build_request("POST", "/graphql", json={"query": VIEWER}, headers=partner)
    if accept is None:
        del request.headers["accept"]  # httpx sends */* unless told otherwise
    else:
        request.headers["accept"] = accept
    response = await client.send(request)
    assert answer(response) == (200, content_type, AS_PARTNER)
    assert response.headers["vary"] == "Accept"


NOT_ACCEPTABLE = {
    "data": None,
    "errors": [
        {
            "message": "`Accept` names no media type this endpoint answers with: "
            "application/graphql-response+json, application/json, text/event-stream "
            "(graphql-sse) or multipart/mixed;subscriptionSpec=1.0.",
            "extensions": {"code": "NOT_ACCEPTABLE"},
        }
    ],
}


@pytest.mark.parametrize(
    "accept",
    ["text/html", "application/graphql+json", f"{JSON}; charset=iso-8859-1", "*/*;q=0"],
)
async def test_an_accept_header_we_cannot_satisfy_gets_406(
    client: httpx.AsyncClient, partner: dict[str, str], accept: str
) -> None:
    headers = partner | {"accept": accept}
    for response in (
        await client.post("/graphql", json={"query": VIEWER}, headers=headers),
        await client.get("/graphql", params={"query": VIEWER}, headers=headers),
    ):
        assert answer(response) == (406, JSON_TYPE, NOT_ACCEPTABLE)


# Each class of error, in both JSON media types

MUTATION = 'mutation { cancelEvent(id: "RXZlbnQ6MQ==") { errors { code } } }'
SUBSCRIPTION = "subscription { memberJoined { cursor } }"


def refused(message: str, code: str, **more: Any) -> list[dict[str, Any]]:
    return [{"message": message, "extensions": {"code": code}} | more]


# name, request (method and httpx arguments), status with application/json, status with
# graphql-response+json, errors. Request errors: no `data` with graphql-response+json.
REQUEST_ERRORS = [
    (
        "json-parse-failure",
        ("POST", {"content": b'{"query":', "headers": {"content-type": JSON}}),
        400,
        400,
        refused("Unable to parse request body as JSON", "BAD_REQUEST"),
    ),
    (
        "query-not-a-string",
        ("POST", {"json": {"query": 5}}),
        400,
        400,
        refused(
            "The GraphQL operation's `query` must be a string or null, if provided.", "BAD_REQUEST"
        ),
    ),
    (
        "variables-not-a-map",
        ("POST", {"json": {"query": VIEWER, "variables": [7]}}),
        400,
        400,
        refused(
            "The GraphQL operation's `variables` must be an object or null, if provided.",
            "BAD_REQUEST",
        ),
    ),
    (
        "operation-name-not-a-string",
        ("POST", {"json": {"query": VIEWER, "operationName": {"a": 1}}}),
        400,
        400,
        refused(
            "The GraphQL operation's `operationName` must be a string or null, if provided.",
            "BAD_REQUEST",
        ),
    ),
    (
        "missing-query",
        ("POST", {"json": {"qeury": VIEWER}}),
        400,
        400,
        refused("No GraphQL query found in the request.", "BAD_REQUEST"),
    ),
    (
        "document-parse-failure",
        ("POST", {"json": {"query": "{"}}),
        200,
        400,
        refused(
            "Syntax Error: Expected Name, found <EOF>.",
            "GRAPHQL_PARSE_FAILED",
            locations=[{"line": 1, "column": 2}],
        ),
    ),
    (
        "validation-failure",
        ("POST", {"json": {"query": "{ nope }"}}),
        200,
        400,
        refused(
            "Cannot query field 'nope' on type 'Query'.",
            "GRAPHQL_VALIDATION_FAILED",
            locations=[{"line": 1, "column": 3}],
        ),
    ),
    (
        "own-validation-rule",
        ("POST", {"json": {"query": TOO_COSTLY}}),
        200,
        400,
        [COST_LIMIT_EXCEEDED],
    ),
    (
        "operation-not-determined",
        ("POST", {"json": {"query": "query A { viewer { role } } query B { viewer { role } }"}}),
        200,
        400,
        refused(
            "Must provide operation name if query contains multiple operations.",
            "OPERATION_RESOLUTION_FAILURE",
        ),
    ),
    (
        "unknown-operation-name",
        ("POST", {"json": {"query": "query A { viewer { role } }", "operationName": "B"}}),
        200,
        400,
        refused('Unknown operation named "B".', "OPERATION_RESOLUTION_FAILURE"),
    ),
    (
        "variable-coercion-failure",
        ("POST", {"json": {"query": KENYA, "variables": {"code": None}}}),
        200,
        400,
        refused(
            "Variable '$code' has invalid value: Expected value of non-null type 'String!' not "
            "to be None.",
            "BAD_USER_INPUT",
            locations=[{"line": 1, "column": 13}],
        ),
    ),
    (
        "persisted-query-not-found",
        ("POST", {"json": {"extensions": persisted(VIEWER)}}),
        200,
        400,
        [PERSISTED_QUERY_NOT_FOUND],
    ),
    (
        "subscription-without-a-stream",
        ("POST", {"json": {"query": SUBSCRIPTION}}),
        406,
        406,
        refused(
            "A subscription answers with a stream of events: accept text/event-stream "
            "(graphql-sse) or multipart/mixed;subscriptionSpec=1.0, or subscribe over the "
            "WebSocket.",
            "NOT_ACCEPTABLE",
        ),
    ),
    (
        "unauthenticated",
        ("POST", {"json": {"query": VIEWER}, "headers": {"authorization": "Bearer cj_unknown"}}),
        401,
        401,
        refused("The token is unknown or revoked.", "UNAUTHENTICATED"),
    ),
]


@pytest.mark.parametrize("media", [JSON, GR])
@pytest.mark.parametrize(
    ("request_", "json_status", "gr_status", "errors"),
    [pytest.param(*case[1:], id=case[0]) for case in REQUEST_ERRORS],
)
async def test_request_errors(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    media: str,
    request_: tuple[str, dict[str, Any]],
    json_status: int,
    gr_status: int,
    errors: list[dict[str, Any]],
) -> None:
    method, arguments = request_
    headers = partner | {"accept": media} | arguments.get("headers", {})
    response = await client.request(method, "/graphql", **(arguments | {"headers": headers}))
    if media == GR:
        assert answer(response) == (gr_status, GR_TYPE, {"errors": errors})
    else:
        assert answer(response) == (json_status, JSON_TYPE, {"data": None, "errors": errors})


@pytest.mark.parametrize(("media", "content_type"), [(JSON, JSON_TYPE), (GR, GR_TYPE)])
async def test_a_mutation_over_get_is_405_with_allow_post(
    client: httpx.AsyncClient, admin_headers: dict[str, str], media: str, content_type: str
) -> None:
    response = await client.get(
        "/graphql", params={"query": MUTATION}, headers=admin_headers | {"accept": media}
    )
    errors = refused("mutations are not allowed when using GET", "METHOD_NOT_ALLOWED")
    body = {"errors": errors} if media == GR else {"data": None, "errors": errors}
    assert answer(response) == (405, content_type, body)
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize(("media", "content_type"), [(JSON, JSON_TYPE), (GR, GR_TYPE)])
async def test_field_errors_keep_data_and_200(
    client: httpx.AsyncClient, partner: dict[str, str], media: str, content_type: str
) -> None:
    bad_id = "T3JnYW5pemF0aW9uOjMwMDAwMDAwMDA="
    partial = await client.post(
        "/graphql",
        json={"query": f'{{ organization(id: "{bad_id}") {{ name }} viewer {{ role }} }}'},
        headers=partner | {"accept": media},
    )
    assert answer(partial) == (
        200,
        content_type,
        {
            "data": {"organization": None, "viewer": {"role": "PARTNER"}},
            "errors": [
                {
                    "message": f"`{bad_id}` is not a valid Organization ID.",
                    "locations": [{"line": 1, "column": 3}],
                    "path": ["organization"],
                    "extensions": {"code": "BAD_USER_INPUT", "field": "id"},
                }
            ],
        },
    )
    # A field error that nulls the whole result is still no request error: `data` is there.
    null = await client.post(
        "/graphql",
        json={"query": "{ organizations(first: 1000) { totalCount } }"},
        headers=partner | {"accept": media},
    )
    assert answer(null) == (
        200,
        content_type,
        {
            "data": None,
            "errors": [
                {
                    "message": "`first` must be between 0 and 100.",
                    "locations": [{"line": 1, "column": 3}],
                    "path": ["organizations"],
                    "extensions": {"code": "BAD_USER_INPUT", "field": "first"},
                }
            ],
        },
    )


# urql 6 with its default settings


async def test_urql_s_query_over_get(client: httpx.AsyncClient, partner: dict[str, str]) -> None:
    # preferGetMethod "within-url-limit": query, operationName and variables in the URL;
    # no Content-Type (no body), no preflight header.
    response = await client.get(
        "/graphql",
        params={
            "query": KENYA,
            "operationName": "Kenya",
            "variables": json.dumps({"code": "KE"}),
        },
        headers={"accept": URQL_ACCEPT, "authorization": partner["authorization"]},
    )
    assert answer(response) == (200, GR_TYPE, KENYA_DATA)
    # Its error comes as a graphql-response+json 400, which urql reads as a GraphQL error.
    response = await client.get(
        "/graphql",
        params={"query": "query Kenya { nope }", "operationName": "Kenya"},
        headers={"accept": URQL_ACCEPT, "authorization": partner["authorization"]},
    )
    assert answer(response) == (
        400,
        GR_TYPE,
        {
            "errors": refused(
                "Cannot query field 'nope' on type 'Query'.",
                "GRAPHQL_VALIDATION_FAILED",
                locations=[{"line": 1, "column": 15}],
            )
        },
    )


async def test_urql_s_query_and_mutation_over_post(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    urql = {
        "accept": URQL_ACCEPT,
        "content-type": "application/json",
        "authorization": admin_headers["authorization"],
    }
    body = {"query": KENYA, "operationName": "Kenya", "variables": {"code": "KE"}}
    response = await client.post("/graphql", content=json.dumps(body), headers=urql)
    assert answer(response) == (200, GR_TYPE, KENYA_DATA)
    register = (
        'mutation Register { registerOrganization(input: {name: "Tbilisi Legal Aid Lab", '
        'countryCode: "GE", kind: NGO}) { organization { name status } errors { code } } }'
    )
    response = await client.post(
        "/graphql",
        content=json.dumps({"query": register, "operationName": "Register"}),
        headers=urql,
    )
    assert answer(response) == (
        200,
        GR_TYPE,
        {
            "data": {
                "registerOrganization": {
                    "organization": {"name": "Tbilisi Legal Aid Lab", "status": "GUEST"},
                    "errors": [],
                }
            }
        },
    )


# Queries and mutations over graphql-sse and multipart: every rule of a plain POST


def events(response: httpx.Response) -> list[Any]:
    """The results a stream carried, in order, without heartbeats; it must have completed."""
    if response.headers["content-type"] == SSE:
        blocks = [block for block in response.text.split("\r\n\r\n") if block]
        fields = [dict(line.split(": ", 1) for line in block.split("\r\n")) for block in blocks]
        fields = [message for message in fields if "event" in message]  # ": ping" comments
        assert fields[-1] == {"event": "complete", "data": ""}
        assert all(message["event"] == "next" for message in fields[:-1])
        return [json.loads(message["data"]) for message in fields[:-1]]
    assert response.headers["content-type"] == (
        "multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/json"
    )
    assert response.text.endswith("\r\n--graphql--\r\n")
    parts = [
        json.loads(segment.split("\r\n\r\n", 1)[1])
        for segment in response.text.split("--graphql")
        if "\r\n\r\n" in segment
    ]
    return [part["payload"] for part in parts if part != {}]  # {} is a heartbeat


STREAMS = [pytest.param(SSE, id="sse"), pytest.param(MULTIPART, id="multipart")]


@pytest.mark.parametrize("stream", STREAMS)
async def test_a_query_over_a_stream_the_client_prefers(
    client: httpx.AsyncClient, partner: dict[str, str], stream: str
) -> None:
    headers = partner | {"accept": stream}
    for response in (
        await client.post("/graphql", json={"query": VIEWER}, headers=headers),
        await client.get("/graphql", params={"query": VIEWER}, headers=headers),
    ):
        assert response.status_code == 200
        assert events(response) == [AS_PARTNER]


async def test_the_exact_sse_framing(client: httpx.AsyncClient, partner: dict[str, str]) -> None:
    response = await client.post(
        "/graphql", json={"query": VIEWER}, headers=partner | {"accept": SSE}
    )
    assert response.text == (
        'event: next\r\ndata: {"data":{"viewer":{"role":"PARTNER"}}}\r\n\r\n'
        "event: complete\r\ndata: \r\n\r\n"
    )


@pytest.mark.parametrize("stream", STREAMS)
async def test_a_mutation_over_a_stream(
    client: httpx.AsyncClient, admin_headers: dict[str, str], stream: str
) -> None:
    register = (
        'mutation { registerOrganization(input: {name: "Tbilisi Legal Aid Lab", '
        'countryCode: "GE", kind: NGO}) { organization { name } errors { code } } }'
    )
    response = await client.post(
        "/graphql", json={"query": register}, headers=admin_headers | {"accept": stream}
    )
    assert events(response) == [
        {
            "data": {
                "registerOrganization": {
                    "organization": {"name": "Tbilisi Legal Aid Lab"},
                    "errors": [],
                }
            }
        }
    ]
    # Never over GET, whatever the transport.
    response = await client.get(
        "/graphql", params={"query": register}, headers=admin_headers | {"accept": stream}
    )
    assert answer(response) == (
        405,
        JSON_TYPE,
        {
            "data": None,
            "errors": refused("mutations are not allowed when using GET", "METHOD_NOT_ALLOWED"),
        },
    )


@pytest.mark.parametrize("stream", STREAMS)
async def test_the_limits_apply_over_a_stream(
    client: httpx.AsyncClient, partner: dict[str, str], stream: str
) -> None:
    headers = partner | {"accept": stream}
    response = await client.post("/graphql", json={"query": TOO_COSTLY}, headers=headers)
    # graphql-sse: errors before execution come as a `next` event of the accepted stream.
    assert (response.status_code, events(response)) == (
        200,
        [{"data": None, "errors": [COST_LIMIT_EXCEEDED]}],
    )
    response = await client.post("/graphql", json={"query": "{"}, headers=headers)
    assert events(response) == [
        {
            "data": None,
            "errors": refused(
                "Syntax Error: Expected Name, found <EOF>.",
                "GRAPHQL_PARSE_FAILED",
                locations=[{"line": 1, "column": 2}],
            ),
        }
    ]


@pytest.mark.parametrize("stream", STREAMS)
async def test_automatic_persisted_queries_over_a_stream(
    client: httpx.AsyncClient, partner: dict[str, str], stream: str
) -> None:
    headers = partner | {"accept": stream}
    by_hash = {"extensions": persisted(KENYA), "variables": {"code": "KE"}}

    async def send(body: dict[str, Any]) -> list[Any]:
        return events(await client.post("/graphql", json=body, headers=headers))

    assert await send(by_hash) == [{"data": None, "errors": [PERSISTED_QUERY_NOT_FOUND]}]
    assert await send(by_hash | {"query": KENYA}) == [KENYA_DATA]
    assert await send(by_hash) == [KENYA_DATA]


@pytest.mark.parametrize("stream", STREAMS)
async def test_trusted_documents_over_a_stream(
    settings: Settings, make_token: MakeToken, tmp_path: Path, stream: str
) -> None:
    manifest = tmp_path / "trusted.json"
    manifest.write_text(json.dumps({sha256(KENYA): KENYA}))
    trusted = settings.model_copy(
        update={
            "trusted_documents_file": manifest,
            "trusted_documents_roles": frozenset({Role.PARTNER}),
        }
    )
    async for client in open_client(trusted):
        headers = bearer(await make_token(Role.PARTNER)) | {"accept": stream}
        response = await client.post("/graphql", json={"query": VIEWER}, headers=headers)
        assert events(response) == [
            {
                "data": None,
                "errors": refused(
                    "PARTNER tokens may run only registered operations; send a registered "
                    "document or its `persistedQuery` hash.",
                    "PERSISTED_QUERY_NOT_IN_LIST",
                ),
            }
        ]
        by_hash = {"extensions": persisted(KENYA), "variables": {"code": "KE"}}
        response = await client.post("/graphql", json=by_hash, headers=headers)
        assert events(response) == [KENYA_DATA]


@pytest.mark.parametrize("stream", STREAMS)
async def test_the_rate_limit_applies_over_a_stream(
    settings: Settings, make_token: MakeToken, stream: str
) -> None:
    async for client in open_client(settings.model_copy(update={"rate_limit_partner": 1})):
        headers = bearer(await make_token(Role.PARTNER)) | {"accept": stream}
        response = await client.post("/graphql", json={"query": VIEWER}, headers=headers)
        assert events(response) == [AS_PARTNER]
        response = await client.post("/graphql", json={"query": VIEWER}, headers=headers)
        # The wait is what is left of the minute: 60 s, or 59 when a slow run crossed a
        # second between the two requests; the message says the answer's own Retry-After.
        wait = int(response.headers["retry-after"])
        assert wait in (59, 60)
        assert answer(response) == (
            429,
            JSON_TYPE,
            {
                "data": None,
                "errors": refused(f"Too many requests; retry in {wait} s.", "RATE_LIMITED"),
            },
        )


def samples(text_: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text_)
        for sample in family.samples
    }


@pytest.mark.parametrize("stream", STREAMS)
async def test_the_response_cache_and_metrics_over_a_stream(
    client: httpx.AsyncClient, partner: dict[str, str], stream: str
) -> None:
    headers = partner | {"accept": stream}
    query = "query Directory { viewer { role } }"
    for _ in range(2):
        response = await client.post("/graphql", json={"query": query}, headers=headers)
        assert events(response) == [AS_PARTNER]
    after = samples((await client.get("/metrics")).text)
    directory = (("operation_name", "Directory"), ("operation_type", "query"))
    # As over a plain POST: the first ran (and was counted), the cache answered the second.
    assert after[("clubjustice_graphql_operations_total", directory)] == 1
    assert after[("clubjustice_response_cache_total", (("result", "miss"),))] == 1
    assert after[("clubjustice_response_cache_total", (("result", "hit"),))] == 1


@pytest.mark.parametrize("stream", STREAMS)
async def test_the_execution_timeout_applies_over_a_stream(
    settings: Settings,
    make_token: MakeToken,
    monkeypatch: pytest.MonkeyPatch,
    engine: Any,
    stream: str,
) -> None:
    slow_fetch = slow_loader_fetch(engine)

    async for client in open_client(settings.model_copy(update={"execution_timeout": 0.5})):
        headers = bearer(await make_token(Role.PARTNER)) | {"accept": stream}
        monkeypatch.setattr(resolvers.loaders, "_fetch", slow_fetch)
        response = await client.post(
            "/graphql", json={"query": KENYA, "variables": {"code": "KE"}}, headers=headers
        )
        assert events(response) == [
            {
                "data": None,
                "errors": refused(
                    "The operation ran longer than 0.5 s and was stopped; ask for less.",
                    "OPERATION_TIMEOUT",
                ),
            }
        ]


@pytest.mark.parametrize(("media", "content_type"), [(JSON, JSON_TYPE), (GR, GR_TYPE)])
async def test_a_timeout_is_no_request_error(
    settings: Settings,
    make_token: MakeToken,
    monkeypatch: pytest.MonkeyPatch,
    media: str,
    content_type: str,
) -> None:
    # Execution began: `data` is null (the GraphQL spec), and the status 200.
    async def never(factory: Any, statement: Any) -> Any:
        await asyncio.sleep(30)

    async for client in open_client(settings.model_copy(update={"execution_timeout": 0.2})):
        headers = bearer(await make_token(Role.PARTNER)) | {"accept": media}
        monkeypatch.setattr(resolvers.loaders, "_fetch", never)
        response = await client.post(
            "/graphql", json={"query": KENYA, "variables": {"code": "KE"}}, headers=headers
        )
        assert answer(response) == (
            200,
            content_type,
            {
                "data": None,
                "errors": refused(
                    "The operation ran longer than 0.2 s and was stopped; ask for less.",
                    "OPERATION_TIMEOUT",
                ),
            },
        )


async def test_a_batch_cannot_be_streamed(settings: Settings, make_token: MakeToken) -> None:
    async for client in open_client(settings.model_copy(update={"max_batch_operations": 2})):
        partner = bearer(await make_token(Role.PARTNER))
        response = await client.post(
            "/graphql", json=[{"query": VIEWER}] * 2, headers=partner | {"accept": SSE}
        )
        assert answer(response) == (
            400,
            JSON_TYPE,
            {
                "data": None,
                "errors": refused(
                    "A batch cannot be streamed; ask for JSON in `Accept`.", "BAD_REQUEST"
                ),
            },
        )
        # urql's Accept lists streams after JSON: a batch is JSON, each item shaped by it.
        response = await client.post(
            "/graphql",
            json=[{"query": VIEWER}, {"query": "{"}],
            headers=partner | {"accept": URQL_ACCEPT},
        )
        assert answer(response) == (
            200,
            GR_TYPE,
            [
                AS_PARTNER,
                {
                    "errors": refused(
                        "Syntax Error: Expected Name, found <EOF>.",
                        "GRAPHQL_PARSE_FAILED",
                        locations=[{"line": 1, "column": 2}],
                    )
                },
            ],
        )


# Subscriptions: a stream whenever the client accepts one


async def first_event(server: LiveServer, token: str, accept: str) -> tuple[str, Any]:
    """Subscribes over HTTP with `accept` and returns the content type and the first event
    (replayed from the activity log: `after` the log's beginning)."""
    query = "subscription($after: String) { memberJoined(after: $after) { organization { slug } } }"
    async with (
        httpx.AsyncClient(timeout=10) as client,
        client.stream(
            "POST",
            f"{server.http}/graphql",
            json={"query": query, "variables": {"after": activity_cursor(0)}},
            headers={"authorization": f"Bearer {token}", "accept": accept},
        ) as response,
    ):
        assert response.status_code == 200
        received = ""
        async for chunk in response.aiter_text():
            received += chunk
            if "joined-org" in received:
                break
        content_type = response.headers["content-type"]
    if content_type == SSE:
        data = received[received.index("data: {") + len("data: ") :].split("\r\n")[0]
        return content_type, json.loads(data)
    part = received[received.index('{"payload"') :].split("\r\n")[0]
    return content_type, json.loads(part)["payload"]


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        (URQL_ACCEPT, SSE),
        ("text/event-stream, multipart/mixed", SSE),  # urql's for subscriptions
        ("*/*", SSE),
        (
            'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json',
            "multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/json",
        ),
    ],
)
async def test_a_subscription_streams_whenever_a_stream_is_acceptable(
    settings: Settings,
    make_token: MakeToken,
    session_factory: Any,
    accept: str,
    content_type: str,
) -> None:
    md = (await country_ids(session_factory, "MD"))["MD"]
    joined = organization(md, member=True, slug="joined-org")
    await add(session_factory, joined)
    async with session_factory() as session, session.begin():
        await append_activity(
            session,
            ActivityKind.MEMBER_JOINED,
            occurred_at=datetime.now(UTC),
            subject=Subject.of(Organization, joined.id),
        )
    token = await make_token(Role.PARTNER)
    async for server in run_server(settings):
        assert await first_event(server, token, accept) == (
            content_type,
            {"data": {"memberJoined": {"organization": {"slug": "joined-org"}}}},
        )
        # The client went away: so did its subscription.
        await until_subscribed(server.feed, 0)
