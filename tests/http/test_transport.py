"""HTTP transport rules: CSRF prevention, the body size limit, batching, CORS, request ids,
rate limits, the execution timeout, masking and suggestions."""

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from starlette.middleware.errors import ServerErrorMiddleware

import resolvers.loaders
from club.enums import Role
from club.settings import Settings
from schema.countries import Country
from server.pages import CONTENT_SECURITY_POLICY
from tests.e2e.servers import free_port
from tests.http.conftest import PREFLIGHT, MakeToken, bearer, error, open_client, slow_loader_fetch

VIEWER = "{ viewer { role } }"
AS_PARTNER = {"data": {"viewer": {"role": "PARTNER"}}}


async def client_with(settings: Settings, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    async for client in open_client(settings.model_copy(update=changes)):
        yield client


# CSRF prevention: a bearer token is enough; without one, Apollo's preflight rule

PREFLIGHT_REQUIRED = error(
    "PREFLIGHT_REQUIRED",
    "This request could have been sent by a page on another site (it has neither a bearer "
    "token nor a JSON content type); send `Authorization: Bearer <token>`, or for a request "
    "without a token, `Content-Type: application/json` or the header "
    "`GraphQL-Require-Preflight: 1`.",
)
NOT_JSON = error("UNSUPPORTED_MEDIA_TYPE", "Send the operation as application/json.")
NO_TOKEN = error("UNAUTHENTICATED", "Send `Authorization: Bearer <token>`.")
SIMPLE_CONTENT_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]


@pytest.mark.parametrize("content_type", SIMPLE_CONTENT_TYPES)
async def test_simple_requests_without_a_token_need_a_preflight_header(
    client: httpx.AsyncClient, content_type: str
) -> None:
    body = b'{"query": "{ viewer { role } }"}'
    response = await client.post("/graphql", content=body, headers={"content-type": content_type})
    assert (response.status_code, response.json()) == (400, PREFLIGHT_REQUIRED)
    # With the header, the content type is still not one we read.
    response = await client.post(
        "/graphql", content=body, headers=PREFLIGHT | {"content-type": content_type}
    )
    assert (response.status_code, response.json()) == (415, NOT_JSON)


@pytest.mark.parametrize("content_type", SIMPLE_CONTENT_TYPES)
async def test_a_bearer_token_needs_no_preflight_header(
    client: httpx.AsyncClient, partner: dict[str, str], content_type: str
) -> None:
    # No browser sends a bearer token to another site without a CORS preflight: the body's
    # type is all that is wrong here.
    response = await client.post(
        "/graphql",
        content=b'{"query": "{ viewer { role } }"}',
        headers=partner | {"content-type": content_type},
    )
    assert (response.status_code, response.json()) == (415, NOT_JSON)


async def test_get_with_a_bearer_token_runs_without_a_preflight_header(
    client: httpx.AsyncClient, partner: dict[str, str]
) -> None:
    response = await client.get("/graphql", params={"query": VIEWER}, headers=partner)
    assert (response.status_code, response.json()) == (200, AS_PARTNER)


@pytest.mark.parametrize(
    "authorization", [None, "Basic cGFydG5lcjpzZWNyZXQ=", "Bearer ", "cj_a-token-without-scheme"]
)
async def test_get_without_a_bearer_token_needs_a_preflight_header(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    # Basic credentials are what a browser does attach by itself (cached by a proxy's login
    # prompt): they are no reason to skip the rule.
    headers = {"authorization": authorization} if authorization is not None else {}
    response = await client.get("/graphql", params={"query": VIEWER}, headers=headers)
    assert (response.status_code, response.json()) == (400, PREFLIGHT_REQUIRED)
    for header in (
        "graphql-require-preflight",
        "apollo-require-preflight",
        "x-apollo-operation-name",
    ):
        response = await client.get(
            "/graphql", params={"query": VIEWER}, headers=headers | {header: "1"}
        )
        # Past the CSRF rule; then there is no token to run with.
        assert (response.status_code, response.json()) == (401, NO_TOKEN)


async def test_a_json_post_without_a_token_passes_the_rule(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": VIEWER})
    assert (response.status_code, response.json()) == (401, NO_TOKEN)


async def test_graphiql_s_page_loads_without_a_token_but_may_not_be_framed(
    client: httpx.AsyncClient,
) -> None:
    # It keeps the token typed into it: no other site may frame it and trick a click.
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["x-frame-options"] == "DENY"
    # All it loads is ours (server/pages.py), and nobody may frame it.
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    # Only the page: an operation gets neither the page nor these headers.
    response = await client.post("/graphql", json={"query": VIEWER})
    assert response.status_code == 401
    assert "x-frame-options" not in response.headers


# Body size


async def test_a_body_just_under_the_limit_runs_and_one_just_over_is_refused(
    client: httpx.AsyncClient, partner: dict[str, str], settings: Settings
) -> None:
    def body(size: int) -> bytes:
        start, end = b'{"query": "{ viewer { role } }", "variables": {"pad": "', b'"}}'
        return start + b"x" * (size - len(start) - len(end)) + end

    headers = partner | {"content-type": "application/json"}
    under = await client.post("/graphql", content=body(settings.max_body_bytes), headers=headers)
    assert (under.status_code, under.json()) == (200, AS_PARTNER)
    over = await client.post("/graphql", content=body(settings.max_body_bytes + 1), headers=headers)
    assert (over.status_code, over.json()["errors"][0]["extensions"]["code"]) == (
        413,
        "PAYLOAD_TOO_LARGE",
    )


async def test_a_streamed_body_is_cut_off_at_the_limit(
    client: httpx.AsyncClient, partner: dict[str, str], settings: Settings
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ viewer { role } }", "variables": {"pad": "'
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b"x" * 65536
        yield b'"}}'

    # No Content-Length: the size is only known while reading.
    response = await client.post(
        "/graphql", content=chunks(), headers=partner | {"content-type": "application/json"}
    )
    assert (response.status_code, response.json()["errors"][0]["extensions"]["code"]) == (
        413,
        "PAYLOAD_TOO_LARGE",
    )


# Batching


async def test_batches_are_off_by_default(
    client: httpx.AsyncClient, partner: dict[str, str]
) -> None:
    response = await client.post("/graphql", json=[{"query": VIEWER}], headers=partner)
    assert (response.status_code, response.json()) == (
        400,
        error("BATCHING_DISABLED", "Send one operation per request."),
    )


async def test_batches_are_capped_and_spend_one_request_each(
    settings: Settings, make_token: MakeToken
) -> None:
    async for client in client_with(settings, max_batch_operations=3, rate_limit_partner=4):
        partner = bearer(await make_token(Role.PARTNER))
        response = await client.post("/graphql", json=[{"query": VIEWER}] * 3, headers=partner)
        assert (response.status_code, response.json()) == (200, [AS_PARTNER] * 3)
        response = await client.post("/graphql", json=[{"query": VIEWER}] * 4, headers=partner)
        assert (response.status_code, response.json()) == (
            400,
            error("BATCH_LIMIT_EXCEEDED", "A batch holds 1 to 3 operations; this one holds 4."),
        )
        # 3 + 1 requests spent: the budget of 4 is gone
        response = await client.post("/graphql", json=[{"query": VIEWER}] * 2, headers=partner)
        assert response.status_code == 429


# CORS


async def test_no_cross_origin_access_by_default(
    client: httpx.AsyncClient, partner: dict[str, str]
) -> None:
    response = await client.options(
        "/graphql",
        headers={"origin": "https://portal.example", "access-control-request-method": "POST"},
    )
    assert "access-control-allow-origin" not in response.headers


async def test_allowed_origins_get_cors_headers(settings: Settings, make_token: MakeToken) -> None:
    async for client in client_with(settings, cors_origins=("https://portal.example",)):
        preflight = await client.options(
            "/graphql",
            headers={
                "origin": "https://portal.example",
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://portal.example"
        other = await client.options(
            "/graphql",
            headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
        )
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers
        response = await client.post(
            "/graphql",
            json={"query": VIEWER},
            headers=bearer(await make_token(Role.PARTNER)) | {"origin": "https://portal.example"},
        )
        assert response.headers["access-control-allow-origin"] == "https://portal.example"
        assert response.json() == AS_PARTNER


# Rate limits


async def test_a_token_over_its_budget_gets_429_with_retry_after(
    settings: Settings, make_token: MakeToken
) -> None:
    async for client in client_with(settings, rate_limit_partner=3):
        partner = bearer(await make_token(Role.PARTNER))
        other_partner = bearer(await make_token(Role.PARTNER))
        for _ in range(3):
            response = await client.post("/graphql", json={"query": VIEWER}, headers=partner)
            assert response.json() == AS_PARTNER
        response = await client.post("/graphql", json={"query": VIEWER}, headers=partner)
        assert response.status_code == 429
        # 3 a minute: one more in 20 seconds
        assert response.headers["retry-after"] == "20"
        assert response.json() == error("RATE_LIMITED", "Too many requests; retry in 20 s.")
        # Each token has its own bucket.
        response = await client.post("/graphql", json={"query": VIEWER}, headers=other_partner)
        assert response.json() == AS_PARTNER


async def test_requests_without_a_valid_token_spend_their_address_budget(
    settings: Settings, make_token: MakeToken
) -> None:
    async for client in client_with(settings, rate_limit_anonymous=2):
        bad = bearer("cj_not-a-real-token")
        for _ in range(2):
            response = await client.post("/graphql", json={"query": VIEWER}, headers=bad)
            assert response.status_code == 401
        response = await client.post("/graphql", json={"query": VIEWER}, headers=bad)
        assert (response.status_code, response.json()["errors"][0]["extensions"]["code"]) == (
            429,
            "RATE_LIMITED",
        )
        # A valid token from the same address is not held back by others' failures.
        partner = bearer(await make_token(Role.PARTNER))
        response = await client.post("/graphql", json={"query": VIEWER}, headers=partner)
        assert response.json() == AS_PARTNER


async def test_an_unreachable_redis_never_fails_a_request(
    settings: Settings, make_token: MakeToken, caplog: pytest.LogCaptureFixture
) -> None:
    """CLUBJUSTICE_REDIS_URL names a port where nothing listens: the process's own buckets
    decide, with one warning, and requests get their usual answers."""
    unreachable = f"redis://127.0.0.1:{free_port()}/0"
    async for client in client_with(settings, rate_limit_partner=2, redis_url=unreachable):
        partner = bearer(await make_token(Role.PARTNER))
        for _ in range(2):
            response = await client.post("/graphql", json={"query": VIEWER}, headers=partner)
            assert response.json() == AS_PARTNER
        response = await client.post("/graphql", json={"query": VIEWER}, headers=partner)
        assert (response.status_code, response.headers["retry-after"]) == (429, "30")
        assert response.json() == error("RATE_LIMITED", "Too many requests; retry in 30 s.")
    warnings = [
        record.getMessage()
        for record in caplog.records
        if record.name == "clubjustice.ratelimit" and record.levelno >= logging.WARNING
    ]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(f"Redis at {unreachable} did not answer (ConnectionError: ")


async def test_two_apps_on_one_redis_share_a_budget(
    settings: Settings, make_token: MakeToken, redis_url: str, redis_key_prefix: str
) -> None:
    """Two apps in this process stand for two replicas: with one Redis and key prefix, a
    token's budget is spent through either."""
    shared = {
        "rate_limit_partner": 3,
        "redis_url": redis_url,
        "rate_limit_key_prefix": redis_key_prefix,
    }
    partner = bearer(await make_token(Role.PARTNER))
    async for first in client_with(settings, **shared):
        async for second in client_with(settings, **shared):
            statuses = [
                (await client.post("/graphql", json={"query": VIEWER}, headers=partner))
                for client in (first, second, first, second, first)
            ]
    assert [response.status_code for response in statuses] == [200, 200, 200, 429, 429]
    for refused in statuses[3:]:
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


# Request ids, masking, suggestions, introspection


async def test_every_response_carries_a_request_id(
    client: httpx.AsyncClient, partner: dict[str, str]
) -> None:
    first = await client.post("/graphql", json={"query": VIEWER}, headers=partner)
    second = await client.post("/graphql", json={"query": VIEWER}, headers=partner)
    assert len(first.headers["x-request-id"]) == 32
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    given = await client.post(
        "/graphql", json={"query": VIEWER}, headers=partner | {"x-request-id": "portal-42"}
    )
    assert given.headers["x-request-id"] == "portal-42"
    refused = await client.post("/graphql", json={"query": VIEWER})
    assert refused.status_code == 401
    assert len(refused.headers["x-request-id"]) == 32


async def test_an_unexpected_failure_is_masked_with_the_request_id_of_its_log_line(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(row: Any) -> Country:
        raise RuntimeError("connection to 10.0.0.5 failed: SELECT secret FROM countries")

    monkeypatch.setattr(Country, "from_row", broken)
    with caplog.at_level(logging.ERROR, logger="clubjustice.errors"):
        response = await client.post(
            "/graphql", json={"query": '{ country(code: "KE") { name } }'}, headers=partner
        )
    request_id = response.headers["x-request-id"]
    assert response.json() == {
        "data": {"country": None},
        "errors": [
            {
                "message": "Internal server error.",
                "locations": [{"line": 1, "column": 3}],
                "path": ["country"],
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
            }
        ],
    }
    [record] = caplog.records
    assert record.request_id == request_id  # type: ignore[attr-defined]
    assert record.exc_info is not None
    assert "SELECT secret" in record.getMessage()


async def test_suggestions_and_introspection_follow_the_introspection_setting(
    settings: Settings, make_token: MakeToken
) -> None:
    async for client in client_with(settings, introspection_roles=frozenset({Role.ADMIN})):
        admin = bearer(await make_token(Role.ADMIN))
        partner = bearer(await make_token(Role.PARTNER))

        async def run(
            headers: dict[str, str],
            query: str,
            client: httpx.AsyncClient = client,
            **variables: Any,
        ) -> Any:
            response = await client.post(
                "/graphql", json={"query": query, "variables": variables}, headers=headers
            )
            return response.json()

        typo = "{ viewr { role } }"
        assert (await run(admin, typo))["errors"][0]["message"] == (
            "Cannot query field 'viewr' on type 'Query'. Did you mean 'viewer'?"
        )
        assert (await run(partner, typo))["errors"][0]["message"] == (
            "Cannot query field 'viewr' on type 'Query'."
        )
        by_status = (
            "query($status: OrganizationStatus) "
            "{ organizations(filter: {status: $status}) { totalCount } }"
        )
        assert (
            "Did you mean" in (await run(admin, by_status, status="MEMBR"))["errors"][0]["message"]
        )
        assert (
            "Did you mean"
            not in (await run(partner, by_status, status="MEMBR"))["errors"][0]["message"]
        )

        introspection = "{ __schema { queryType { name } } }"
        assert await run(admin, introspection) == {
            "data": {"__schema": {"queryType": {"name": "Query"}}}
        }
        assert await run(partner, introspection) == error(
            "INTROSPECTION_DISABLED", "Introspection is off for PARTNER tokens."
        )
        # The federation's `_service { sdl }` is the whole schema too.
        assert await run(partner, "{ _service { sdl } }") == error(
            "INTROSPECTION_DISABLED", "Introspection is off for PARTNER tokens."
        )


# Execution timeout


async def test_a_slow_operation_is_stopped_and_leaves_no_work_behind(
    settings: Settings,
    make_token: MakeToken,
    monkeypatch: pytest.MonkeyPatch,
    engine: Any,
    session_factory: Any,
) -> None:
    original = resolvers.loaders._fetch
    on_postgresql = engine.dialect.name == "postgresql"
    slow_fetch = slow_loader_fetch(engine)

    async for client in client_with(settings, execution_timeout=0.5):
        partner = bearer(await make_token(Role.PARTNER))
        monkeypatch.setattr(resolvers.loaders, "_fetch", slow_fetch)
        response = await client.post(
            "/graphql", json={"query": '{ country(code: "KE") { name } }'}, headers=partner
        )
        assert response.json() == error(
            "OPERATION_TIMEOUT",
            "The operation ran longer than 0.5 s and was stopped; ask for less.",
        )
        monkeypatch.setattr(resolvers.loaders, "_fetch", original)
        response = await client.post(
            "/graphql", json={"query": '{ country(code: "KE") { name } }'}, headers=partner
        )
        assert response.json() == {"data": {"country": {"name": "Kenya"}}}
        if on_postgresql:
            # The cancelled statement is cancelled in the server too (waiting at most 5 s
            # for PostgreSQL to report it gone).
            deadline = asyncio.get_running_loop().time() + 5
            while True:
                async with session_factory() as session:
                    sleeping = await session.scalar(
                        text(
                            "SELECT count(*) FROM pg_stat_activity "
                            "WHERE query = 'SELECT pg_sleep(30)' AND state = 'active' "
                            "AND datname = current_database()"
                        )
                    )
                if sleeping == 0:
                    break
                assert asyncio.get_running_loop().time() < deadline, "pg_sleep still running"
                await asyncio.sleep(0.05)


# Odd requests (found in review)


@pytest.mark.parametrize("body", [b"1", b'"x"', b"null", b"[1, 2]"])
async def test_json_that_is_not_an_object_is_a_bad_request(
    client: httpx.AsyncClient, partner: dict[str, str], body: bytes
) -> None:
    response = await client.post(
        "/graphql", content=body, headers=partner | {"content-type": "application/json"}
    )
    assert (response.status_code, response.json()) == (
        400,
        error("BAD_REQUEST", "Unable to parse request body as JSON"),
    )


async def test_batch_items_must_be_operations(settings: Settings, make_token: MakeToken) -> None:
    async for client in client_with(settings, max_batch_operations=3):
        partner = bearer(await make_token(Role.PARTNER))
        response = await client.post(
            "/graphql", json=[{"query": VIEWER}, {"query": 5}], headers=partner
        )
        assert (response.status_code, response.json()["errors"][0]["extensions"]["code"]) == (
            400,
            "BAD_REQUEST",
        )


async def test_an_encoded_query_parameter_still_needs_the_preflight_header(
    client: httpx.AsyncClient,
) -> None:
    # A browser's navigation (or an <img>) from another site: no token, HTML first. The URL
    # carries an operation (read as the app reads it), so it is not GraphiQL's page.
    response = await client.get(
        "/graphql?%71uery=%7Bviewer%7Brole%7D%7D",
        headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
    )
    assert (response.status_code, response.json()) == (400, PREFLIGHT_REQUIRED)


async def test_a_content_length_that_is_not_a_number_is_a_bad_request(
    client: httpx.AsyncClient, partner: dict[str, str]
) -> None:
    response = await client.post(
        "/graphql",
        content=b'{"query": "{ viewer { role } }"}',
        headers=partner | {"content-type": "application/json", "content-length": "abc"},
    )
    assert (response.status_code, response.json()["errors"][0]["extensions"]["code"]) == (
        400,
        "BAD_REQUEST",
    )


# The endpoint without Starlette's middleware stack


@pytest.mark.parametrize("cors", [False, True])
async def test_a_graphql_request_passes_starlettes_stack_only_with_cors(
    settings: Settings, make_token: MakeToken, monkeypatch: pytest.MonkeyPatch, cors: bool
) -> None:
    """A request to /graphql goes straight to its route (ClubJusticeApp): Starlette's error
    middlewares and router do nothing for it (docs/request-path.md). With CORS set, its
    middleware must see every request, and the stack runs as before; other paths always
    take it."""
    passed: list[str] = []
    call = ServerErrorMiddleware.__call__

    async def counting(self: Any, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            passed.append(scope["path"])
        await call(self, scope, receive, send)

    monkeypatch.setattr(ServerErrorMiddleware, "__call__", counting)
    token = await make_token(Role.PARTNER)
    origins = ("https://portal.example",) if cors else ()
    async for client in client_with(settings, cors_origins=origins):
        response = await client.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers=bearer(token) | {"origin": "https://portal.example"},
        )
        assert response.json() == {"data": {"__typename": "Query"}}
        assert ("access-control-allow-origin" in response.headers) is cors
        assert (await client.get("/healthz")).status_code == 200
    assert passed == (["/graphql", "/healthz"] if cors else ["/healthz"])
