"""Anonymous public reads (CLUBJUSTICE_ANONYMOUS_READS) on a real server, on every transport:
HTTP POST and GET, graphql-sse, graphql-transport-ws and legacy graphql-ws. Every restricted
field is null and every mutation refused FORBIDDEN with nothing changed (the lists come from
the schema: tests/anonymous.py); public subscriptions run, private ones are refused; a bad
token is still refused; off by default."""

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from club.enums import Role
from club.settings import Settings
from db import models
from db.seed import seed
from tests.anonymous import MUTATIONS, RESTRICTED, probes, row_counts
from tests.http.test_graphql_over_http import MULTIPART, SSE, events
from tests.ws.conftest import EVENT_TIMEOUT, LiveServer, run_server, until_subscribed

FORBIDDEN_MUTATION = {
    "message": "A request without a token may only read public fields; send "
    "`Authorization: Bearer <token>` to run a mutation.",
    "extensions": {"code": "FORBIDDEN"},
}
MEMBER_JOINED = "subscription { memberJoined { organization { slug contactEmail } } }"
INVITATION_UPDATES = "subscription { invitationUpdates { kind } }"
JOINED = {
    "data": {
        "memberJoined": {"organization": {"slug": "skopje-klepp-graduates", "contactEmail": None}}
    }
}
STREAMS = {"sse": SSE, "multipart": MULTIPART}
TRANSPORTS = ["post", "get", *STREAMS, "graphql-transport-ws", "graphql-ws"]

Ask = Callable[[str], Awaitable[dict[str, Any]]]


@pytest.fixture
async def anonymous_server(
    live_settings: Settings, session_factory: Any
) -> AsyncIterator[LiveServer]:
    await seed(session_factory)
    async for server in run_server(live_settings.model_copy(update={"anonymous_reads": True})):
        yield server


def sse_events(text: str) -> list[Any]:
    blocks = [block for block in text.split("\r\n\r\n") if block]
    fields = [dict(line.split(": ", 1) for line in block.split("\r\n")) for block in blocks]
    return [json.loads(f["data"]) for f in fields if f.get("event") == "next"]


async def receive(connection: Any) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(connection.recv(), EVENT_TIMEOUT))  # type: ignore[no-any-return]


async def asker(
    transport: str, server: LiveServer, extra: dict[str, str] | None = None
) -> AsyncIterator[Ask]:
    """`ask(query)` → the response (data and errors) as the transport carried it, without a
    token; over WebSocket, on one connection opened without one."""
    headers = extra or {}
    if transport in ("post", "get", *STREAMS):
        async with httpx.AsyncClient(base_url=server.http) as client:

            async def ask_http(query: str) -> dict[str, Any]:
                if transport == "get":
                    response = await client.get(
                        "/graphql",
                        params={"query": query},
                        headers={"graphql-require-preflight": "1"} | headers,
                    )
                    return response.json()  # type: ignore[no-any-return]
                accept = {"accept": STREAMS[transport]} if transport in STREAMS else {}
                response = await client.post(
                    "/graphql", json={"query": query}, headers=accept | headers
                )
                if transport in STREAMS:
                    (event,) = events(response)
                    return event  # type: ignore[no-any-return]
                return response.json()  # type: ignore[no-any-return]

            yield ask_http
        return
    async with connect(server.ws, subprotocols=[transport]) as connection:  # type: ignore[list-item]
        await connection.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert await receive(connection) == {"type": "connection_ack"}
        counter = 0

        async def ask_ws(query: str) -> dict[str, Any]:
            nonlocal counter
            counter += 1
            start = "subscribe" if transport == "graphql-transport-ws" else "start"
            payload = {"query": query, "extensions": {"idempotencyKey": f"k{counter}"}}
            await connection.send(
                json.dumps({"id": str(counter), "type": start, "payload": payload})
            )
            message = await receive(connection)
            if message["type"] == "error":
                errors = message["payload"]
                return {"data": None, "errors": errors if isinstance(errors, list) else [errors]}
            assert message["type"] in ("next", "data"), message
            assert (await receive(connection))["type"] == "complete"
            return message["payload"]  # type: ignore[no-any-return]

        yield ask_ws


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_every_restricted_field_is_null_on_every_transport(
    anonymous_server: LiveServer, transport: str
) -> None:
    async for ask in asker(transport, anonymous_server):
        assert await ask("{ viewer { role } }") == {"data": {"viewer": {"role": "ANONYMOUS"}}}
        answers = {case.id: await ask(case.query) for case in RESTRICTED}
        for case_id, answer in answers.items():
            assert "errors" not in answer, (case_id, answer)
            values = list(probes(answer["data"]))
            assert values and values == [None] * len(values), (case_id, answer)
        # Public fields are there; the entity path hides what the root path hides.
        organization = await ask('{ organization(slug: "irf") { id name contactEmail } }')
        assert organization["data"]["organization"]["name"]
        assert organization["data"]["organization"]["contactEmail"] is None
        entity = await ask(
            '{ _entities(representations: [{__typename: "Organization", id: "'
            + organization["data"]["organization"]["id"]
            + '"}]) { ... on Organization { name contactEmail invitationQuota { used } } } }'
        )
        assert entity == {
            "data": {
                "_entities": [
                    {
                        "name": organization["data"]["organization"]["name"],
                        "contactEmail": None,
                        "invitationQuota": None,
                    }
                ]
            }
        }


@pytest.mark.parametrize("transport", ["post", *STREAMS, "graphql-transport-ws", "graphql-ws"])
async def test_every_mutation_is_refused_on_every_transport_and_changes_nothing(
    anonymous_server: LiveServer, session_factory: Any, transport: str
) -> None:
    before = await row_counts(session_factory)
    # Over HTTP with an Idempotency-Key too (WebSocket: in each message's extensions).
    async for ask in asker(transport, anonymous_server, {"idempotency-key": "retry-1"}):
        answers = {case.name: await ask(case.query) for case in MUTATIONS}
    assert answers == {
        case.name: {"data": None, "errors": [FORBIDDEN_MUTATION]} for case in MUTATIONS
    }
    assert await row_counts(session_factory) == before


async def test_a_mutation_by_get_is_refused_as_always(anonymous_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=anonymous_server.http) as client:
        response = await client.get(
            "/graphql",
            params={"query": MUTATIONS[0].query},
            headers={"graphql-require-preflight": "1"},
        )
    assert response.status_code == 405


@pytest.mark.parametrize("transport", ["graphql-transport-ws", "graphql-ws", "sse"])
async def test_public_subscriptions_run_and_private_ones_are_refused(
    anonymous_server: LiveServer, make_token: Any, session_factory: Any, transport: str
) -> None:
    admin = await make_token(Role.ADMIN)
    if transport == "sse":
        async with httpx.AsyncClient(base_url=anonymous_server.http, timeout=EVENT_TIMEOUT) as c:
            refused = await c.post(
                "/graphql",
                json={"query": INVITATION_UPDATES},
                headers={"accept": "text/event-stream"},
            )
            assert sse_events(refused.text) == [
                {
                    "data": None,
                    "errors": [
                        {
                            "message": "The ANONYMOUS role may not do this (it needs "
                            "ORGANIZATION).",
                            "locations": [{"line": 1, "column": 16}],
                            "path": ["invitationUpdates"],
                            "extensions": {"code": "FORBIDDEN"},
                        }
                    ],
                }
            ]
            async with c.stream(
                "POST",
                "/graphql",
                json={"query": MEMBER_JOINED},
                headers={"accept": "text/event-stream"},
            ) as stream:
                await until_subscribed(anonymous_server.feed, 1)
                await _member_joins(anonymous_server, admin, make_token, session_factory)
                async for line in stream.aiter_lines():
                    if line.startswith("data: "):
                        assert json.loads(line[6:]) == JOINED
                        break
        return
    async with connect(anonymous_server.ws, subprotocols=[transport]) as connection:  # type: ignore[list-item]
        await connection.send(json.dumps({"type": "connection_init"}))
        assert await receive(connection) == {"type": "connection_ack"}
        start = "subscribe" if transport == "graphql-transport-ws" else "start"
        await connection.send(
            json.dumps({"id": "private", "type": start, "payload": {"query": INVITATION_UPDATES}})
        )
        message = await receive(connection)
        assert message["id"] == "private"
        payload = message["payload"]
        # graphql-transport-ws: a list; legacy graphql-ws: one error, or a result's errors.
        errors = payload if isinstance(payload, list) else payload.get("errors", [payload])
        assert [error["extensions"]["code"] for error in errors] == ["FORBIDDEN"], message
        await connection.send(
            json.dumps({"id": "public", "type": start, "payload": {"query": MEMBER_JOINED}})
        )
        await until_subscribed(anonymous_server.feed, 1)
        # A guest that attended the launch accepts an invitation: it joins (db/seed.py has
        # skopje-klepp-graduates as a guest of the launch meeting; irf is a member).
        await _member_joins(anonymous_server, admin, make_token, session_factory)
        message = await receive(connection)
        while message["id"] != "public":
            message = await receive(connection)
        assert message["payload"] == JOINED


async def _member_joins(
    server: LiveServer, admin: str, make_token: Any, session_factory: Any
) -> None:
    """skopje-klepp-graduates (a guest of the launch meeting, db/seed.py) is invited by irf (a
    member) and accepts with its own token: it joins."""
    async with session_factory() as session:
        invitee = await session.scalar(
            select(models.Organization.id).where(
                models.Organization.slug == "skopje-klepp-graduates"
            )
        )
    invitee_token = await make_token(Role.ORGANIZATION, invitee)
    async with httpx.AsyncClient(base_url=server.http) as client:

        async def run(token: str, query: str, variables: dict[str, Any] | None = None) -> Any:
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": variables or {}},
                headers={"authorization": f"Bearer {token}"},
            )
            body = response.json()
            assert "errors" not in body, body
            return body["data"]

        ids = await run(
            admin,
            '{ a: organization(slug: "irf") { id } b: organization(slug: "skopje-klepp-graduates") '
            "{ id } }",
        )
        sent = await run(
            admin,
            "mutation($a: ID!, $b: ID!) { inviteOrganization(input: {inviterId: $a, "
            "inviteeId: $b}) { invitation { id } errors { code message } } }",
            {"a": ids["a"]["id"], "b": ids["b"]["id"]},
        )
        invitation = sent["inviteOrganization"]["invitation"]
        assert invitation is not None, sent
        accepted = await run(
            invitee_token,
            "mutation($id: ID!) { acceptInvitation(id: $id) { errors { code } } }",
            {"id": invitation["id"]},
        )
        assert accepted == {"acceptInvitation": {"errors": []}}


async def test_a_bad_token_is_still_refused_when_anonymous_reads_are_on(
    anonymous_server: LiveServer, make_token: Any, session_factory: Any
) -> None:
    async with httpx.AsyncClient(base_url=anonymous_server.http) as client:
        for authorization in ("Bearer nope", "Bearer", "Token abc", "bearer x y"):
            response = await client.post(
                "/graphql",
                json={"query": "{ viewer { role } }"},
                headers={"authorization": authorization},
            )
            assert response.status_code == 401, authorization
            assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
        # HTTP Basic is a proxy's, never ours: no credential of this API, so ANONYMOUS.
        response = await client.post(
            "/graphql",
            json={"query": "{ viewer { role } }"},
            headers={"authorization": "Basic dXNlcjpwYXNz"},
        )
        assert response.json() == {"data": {"viewer": {"role": "ANONYMOUS"}}}
    for payload in ({"authorization": "Bearer nope"}, {"authorization": 7}):
        async with connect(anonymous_server.ws, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            with pytest.raises(ConnectionClosed) as closed:
                await receive(ws)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_the_csrf_rule_still_guards_anonymous_reads(anonymous_server: LiveServer) -> None:
    """A page on another site can make a browser send a "simple" request: a form post or a
    GET without a custom header. Neither runs."""
    async with httpx.AsyncClient(base_url=anonymous_server.http) as client:
        form = await client.post(
            "/graphql",
            content="query={ viewer { role } }",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        get = await client.get("/graphql", params={"query": "{ viewer { role } }"})
        plain = await client.post(
            "/graphql",
            content=json.dumps({"query": "{ viewer { role } }"}),
            headers={"content-type": "text/plain"},
        )
    for response in (form, get, plain):
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"] == {"code": "PREFLIGHT_REQUIRED"}


async def test_the_access_log_names_the_role(
    anonymous_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="clubjustice.access"):
        async with httpx.AsyncClient(base_url=anonymous_server.http) as client:
            await client.post("/graphql", json={"query": "query Who { viewer { role } }"})
    (record,) = [r for r in caplog.records if r.name == "clubjustice.access"]
    assert (record.role, record.operation_name) == ("ANONYMOUS", "Who")  # type: ignore[attr-defined]


async def test_off_by_default_a_request_without_a_token_is_refused(
    live_server: LiveServer,
) -> None:
    assert Settings().anonymous_reads is False
    async with httpx.AsyncClient(base_url=live_server.http) as client:
        response = await client.post("/graphql", json={"query": "{ viewer { role } }"})
    assert (response.status_code, response.json()) == (
        401,
        {
            "data": None,
            "errors": [
                {
                    "message": "Send `Authorization: Bearer <token>`.",
                    "extensions": {"code": "UNAUTHENTICATED"},
                }
            ],
        },
    )
    for protocol in ("graphql-transport-ws", "graphql-ws"):
        async with connect(live_server.ws, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            if protocol == "graphql-ws":
                message = await receive(ws)
                assert message["type"] == "connection_error", message
                continue
            with pytest.raises(ConnectionClosed) as closed:
                await receive(ws)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


@pytest.mark.parametrize("authorization", [0, False, [], {}, 7, "Bearer nope"])
@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
async def test_an_authorization_that_is_not_a_string_is_refused_never_anonymous(
    anonymous_server: LiveServer, protocol: str, authorization: Any
) -> None:
    """An `authorization` given in connection_init is a credential, whatever its type: one
    that is no header's value (falsy ones too: 0, false, [], {}) cannot be valid and is
    refused, never read as the absence of one."""
    async with connect(anonymous_server.ws, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
        payload = {"authorization": authorization}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        if protocol == "graphql-ws":
            message = await receive(ws)
            assert message["type"] == "connection_error", message
            assert message["payload"]["code"] == "UNAUTHENTICATED"
            return
        with pytest.raises(ConnectionClosed) as closed:
            await receive(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_a_credential_beside_an_empty_or_basic_authorization_header_is_checked(
    anonymous_server: LiveServer,
) -> None:
    """Two `Authorization` headers, the first without a credential of ours (empty, Basic) and
    another with a bad token: the token is a credential, so 401, never ANONYMOUS."""
    async with httpx.AsyncClient(base_url=anonymous_server.http) as client:
        for first in ("", "Basic dXNlcjpwYXNz"):
            response = await client.post(
                "/graphql",
                json={"query": "{ viewer { role } }"},
                headers=[("authorization", first), ("authorization", "Bearer nope")],
            )
            assert response.status_code == 401, first
            assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
        # Two without a credential are still none.
        response = await client.post(
            "/graphql",
            json={"query": "{ viewer { role } }"},
            headers=[("authorization", "Basic dXNlcjpwYXNz"), ("authorization", "Basic eDp5")],
        )
        assert response.json() == {"data": {"viewer": {"role": "ANONYMOUS"}}}


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
async def test_an_anonymous_connection_init_spends_the_addresss_anonymous_budget(
    live_settings: Settings, protocol: str
) -> None:
    """A connection_init without a token is a request without one (it costs a statement, the
    high-water mark): it spends the address's ANONYMOUS budget, as a refused one spends the
    budget of failed requests; beyond it, refused RATE_LIMITED, never free."""
    settings = live_settings.model_copy(
        update={"anonymous_reads": True, "rate_limit_anonymous_reads": 2}
    )
    outcomes = []
    async for server in run_server(settings):
        for _ in range(3):
            async with connect(server.ws, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
                await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
                try:
                    message = await receive(ws)
                except ConnectionClosed as closed:
                    assert closed.rcvd is not None
                    outcomes.append(closed.rcvd.code)
                    continue
                outcomes.append(message["type"])
                if message["type"] == "connection_error":
                    assert message["payload"]["code"] == "RATE_LIMITED"
    refused = 4403 if protocol == "graphql-transport-ws" else "connection_error"
    assert outcomes == ["connection_ack", "connection_ack", refused]
