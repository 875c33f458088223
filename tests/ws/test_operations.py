"""Queries and mutations over a real WebSocket (graphql-transport-ws and legacy graphql-ws):
each with a context of its own and the rules of an HTTP request — limits, budget, timeout,
cache, authorization, a token revoked since connection_init, metrics and the access log."""

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

import resolvers.loaders
from club.enums import Role
from club.settings import Settings
from db.tokens import authenticate, revoke_token
from schema.ids import encode_id
from tests.factories import add, country_ids, organization
from tests.limit_cases import CASES, DECLARED_SIZES, over
from tests.ws.conftest import (
    EVENT_TIMEOUT,
    LiveServer,
    Subscriber,
    legacy_graphql_ws,
    run_server,
    until_subscribed,
)

ORGANIZATION = "query($id: ID!) { organization(id: $id) { slug name status } }"
VIEWER = "{ viewer { role organization { slug } } }"
RENAME = """
mutation($id: ID!, $name: String!) {
  updateOrganization(id: $id, input: {name: $name}) { organization { name } errors { code } }
}
"""
SCHEDULE = """
mutation($title: String!) {
  scheduleEvent(input: {title: $title, kind: ONLINE_MEETING,
                        startsAt: "2031-03-01T10:00:00Z", endsAt: "2031-03-01T11:00:00Z"}) {
    event { id title status host { slug } }
    errors { code }
  }
}
"""
MEETING_UPDATES = "subscription { meetingUpdates { cursor kind event { id title host { slug } } } }"


@pytest.fixture
async def member(session_factory: Any) -> Any:
    countries = await country_ids(session_factory, "MD")
    row = organization(countries["MD"], member=True, slug="md-member", name="Moldova Member")
    await add(session_factory, row)
    return row


async def answer(
    subscriber: Subscriber, query: str, variables: dict[str, Any] | None = None
) -> Any:
    """The messages that answer one query or mutation: `next` and `complete`, or `error`."""
    operation = await subscriber.subscribe(query, variables)
    first = await subscriber.receive()
    assert first["id"] == operation, first
    if first["type"] == "error":
        return first["payload"]
    assert await subscriber.receive() == {"id": operation, "type": "complete"}
    assert first["type"] == "next", first
    return first["payload"]


async def test_a_query_over_graphql_transport_ws(
    live_server: LiveServer, make_token: Any, member: Any
) -> None:
    subscriber = await Subscriber.open(
        live_server.ws, await make_token(Role.ORGANIZATION, member.id)
    )
    operation = await subscriber.subscribe(
        "query Both($id: ID!) { viewer { role organization { slug } } "
        "organization(id: $id) { slug name status } }",
        {"id": encode_id("Organization", member.id)},
    )
    assert await subscriber.receive() == {
        "id": operation,
        "type": "next",
        "payload": {
            "data": {
                "viewer": {"role": "ORGANIZATION", "organization": {"slug": "md-member"}},
                "organization": {"slug": "md-member", "name": "Moldova Member", "status": "MEMBER"},
            }
        },
    }
    assert await subscriber.receive() == {"id": operation, "type": "complete"}
    await subscriber.close()


async def test_a_query_over_the_legacy_graphql_ws_protocol(
    live_server: LiveServer, make_token: Any, member: Any
) -> None:
    token = await make_token(Role.ORGANIZATION, member.id)
    async with legacy_graphql_ws(live_server.ws, token) as connection:
        await connection.send(
            json.dumps(
                {
                    "id": "q",
                    "type": "start",
                    "payload": {
                        "query": ORGANIZATION,
                        "variables": {"id": encode_id("Organization", member.id)},
                    },
                }
            )
        )
        received = [
            json.loads(await asyncio.wait_for(connection.recv(), EVENT_TIMEOUT)) for _ in range(2)
        ]
        assert received == [
            {
                "id": "q",
                "type": "data",
                "payload": {
                    "data": {
                        "organization": {
                            "slug": "md-member",
                            "name": "Moldova Member",
                            "status": "MEMBER",
                        }
                    }
                },
            },
            {"id": "q", "type": "complete"},
        ]


async def test_a_mutation_over_websocket_reaches_a_subscriber_on_the_same_connection(
    live_server: LiveServer, make_token: Any, member: Any
) -> None:
    subscriber = await Subscriber.open(
        live_server.ws, await make_token(Role.ORGANIZATION, member.id)
    )
    subscription = await subscriber.subscribe(MEETING_UPDATES)
    await until_subscribed(live_server.feed, 1)
    mutation = await subscriber.subscribe(SCHEDULE, {"title": "Paralegals in the field"})
    # The mutation's answer and the event it caused, in whichever order they come.
    received = {}
    for _ in range(3):
        message = await subscriber.receive()
        received[(message["id"], message["type"])] = message
    scheduled = received[(mutation, "next")]["payload"]["data"]["scheduleEvent"]
    event_id = scheduled["event"]["id"]
    assert received == {
        (mutation, "next"): {
            "id": mutation,
            "type": "next",
            "payload": {
                "data": {
                    "scheduleEvent": {
                        "event": {
                            "id": event_id,
                            "title": "Paralegals in the field",
                            "status": "SCHEDULED",
                            "host": {"slug": "md-member"},
                        },
                        "errors": [],
                    }
                }
            },
        },
        (mutation, "complete"): {"id": mutation, "type": "complete"},
        (subscription, "next"): {
            "id": subscription,
            "type": "next",
            "payload": {
                "data": {
                    "meetingUpdates": {
                        "cursor": received[(subscription, "next")]["payload"]["data"][
                            "meetingUpdates"
                        ]["cursor"],
                        "kind": "SCHEDULED",
                        "event": {
                            "id": event_id,
                            "title": "Paralegals in the field",
                            "host": {"slug": "md-member"},
                        },
                    }
                }
            },
        },
    }
    # Committed: a query on the connection reads it.
    assert await answer(
        subscriber, "query($id: ID!) { event(id: $id) { title } }", {"id": event_id}
    ) == {"data": {"event": {"title": "Paralegals in the field"}}}
    await subscriber.close()


async def test_operations_on_one_connection_do_not_share_loaders_or_cached_answers(
    live_server: LiveServer, make_token: Any, member: Any
) -> None:
    subscriber = await Subscriber.open(
        live_server.ws, await make_token(Role.ORGANIZATION, member.id)
    )
    variables = {"id": encode_id("Organization", member.id)}
    before = {
        "data": {
            "organization": {"slug": "md-member", "name": "Moldova Member", "status": "MEMBER"}
        }
    }
    assert await answer(subscriber, ORGANIZATION, variables) == before
    assert await answer(subscriber, ORGANIZATION, variables) == before  # from the cache
    assert await answer(subscriber, RENAME, {**variables, "name": "Moldova Renamed"}) == {
        "data": {"updateOrganization": {"organization": {"name": "Moldova Renamed"}, "errors": []}}
    }
    assert await answer(subscriber, ORGANIZATION, variables) == {
        "data": {
            "organization": {"slug": "md-member", "name": "Moldova Renamed", "status": "MEMBER"}
        }
    }
    await subscriber.close()


@pytest.mark.parametrize(
    "case",
    [case for case in CASES if case.code in ("COST_LIMIT_EXCEEDED", "DEPTH_LIMIT_EXCEEDED")],
    ids=lambda case: case.code,
)
async def test_a_query_over_the_limit_is_refused_with_its_code(
    live_settings: Settings, session_factory: Any, make_token: Any, case: Any
) -> None:
    async for server in run_server(live_settings.model_copy(update=case.settings)):
        subscriber = await Subscriber.open(server.ws, await make_token(Role.PARTNER))
        payload = await answer(subscriber, case.query(case.limit))
        assert "errors" not in payload, payload
        [error] = await answer(subscriber, case.query(over(case, case.limit)))
        assert error["extensions"]["code"] == case.code
        assert error["extensions"]["limit"] == case.limit
        assert error["extensions"]["measured"] > case.limit
        await subscriber.close()


async def test_a_slow_query_is_stopped_and_the_connection_goes_on(
    live_settings: Settings,
    session_factory: Any,
    make_token: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = resolvers.loaders._fetch

    async def slow_fetch(factory: Any, statement: Any) -> Any:
        await asyncio.sleep(30)
        return await original(factory, statement)

    query = '{ country(code: "KE") { name } }'
    settings = live_settings.model_copy(update={"execution_timeout": 0.5, "response_cache_size": 0})
    async for server in run_server(settings):
        subscriber = await Subscriber.open(server.ws, await make_token(Role.PARTNER))
        monkeypatch.setattr(resolvers.loaders, "_fetch", slow_fetch)
        assert await answer(subscriber, query) == {
            "data": None,
            "errors": [
                {
                    "message": "The operation ran longer than 0.5 s and was stopped; ask for less.",
                    "extensions": {"code": "OPERATION_TIMEOUT"},
                }
            ],
        }
        monkeypatch.setattr(resolvers.loaders, "_fetch", original)
        assert await answer(subscriber, query) == {"data": {"country": {"name": "Kenya"}}}
        await subscriber.close()


async def test_each_query_spends_one_request_of_the_token_budget(
    live_settings: Settings, session_factory: Any, make_token: Any
) -> None:
    settings = live_settings.model_copy(update={"rate_limit_partner": 3})
    async for server in run_server(settings):
        subscriber = await Subscriber.open(server.ws, await make_token(Role.PARTNER))
        for _ in range(3):  # the second and third from the cache: they count all the same
            assert await answer(subscriber, VIEWER) == {
                "data": {"viewer": {"role": "PARTNER", "organization": None}}
            }
        [error] = await answer(subscriber, VIEWER)
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert error["extensions"]["retryAfter"] >= 1
        assert error["message"] == (
            f"Too many requests; retry in {error['extensions']['retryAfter']} s."
        )
        await subscriber.close()


async def test_a_partner_may_not_run_a_mutation(
    live_server: LiveServer, make_token: Any, member: Any, session_factory: Any
) -> None:
    subscriber = await Subscriber.open(live_server.ws, await make_token(Role.PARTNER))
    variables = {"id": encode_id("Organization", member.id), "name": "Taken Over"}
    assert await answer(subscriber, RENAME, variables) == {
        "data": None,
        "errors": [
            {
                "message": "The PARTNER role may not do this (it needs ADMIN, ORGANIZATION).",
                "locations": [{"line": 3, "column": 3}],
                "path": ["updateOrganization"],
                "extensions": {"code": "FORBIDDEN"},
            }
        ],
    }
    assert await answer(subscriber, ORGANIZATION, {"id": variables["id"]}) == {
        "data": {
            "organization": {"slug": "md-member", "name": "Moldova Member", "status": "MEMBER"}
        }
    }
    await subscriber.close()


async def test_a_token_revoked_after_connecting_runs_no_more_operations(
    live_server: LiveServer, make_token: Any, session_factory: Any
) -> None:
    token = await make_token(Role.PARTNER)
    subscriber = await Subscriber.open(live_server.ws, token)
    assert await answer(subscriber, VIEWER) == {
        "data": {"viewer": {"role": "PARTNER", "organization": None}}
    }
    async with session_factory() as session, session.begin():
        owner = await authenticate(session, token)
        assert owner is not None
        await revoke_token(session, owner.token_id)
    assert await answer(subscriber, VIEWER) == [
        {"message": "The token was revoked.", "extensions": {"code": "UNAUTHENTICATED"}}
    ]
    await subscriber.close()


async def metric_samples(
    server: LiveServer,
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{server.http}/metrics")).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name
        in ("clubjustice_graphql_operations_total", "clubjustice_graphql_errors_total")
    }


@pytest.fixture
async def declared_sizes_server(
    live_settings: Settings, session_factory: Any
) -> AsyncIterator[LiveServer]:
    """A server whose cost estimate assumes the declared list sizes (tests/limit_cases.py)."""
    async for server in run_server(live_settings.model_copy(update=DECLARED_SIZES)):
        yield server


async def test_operations_are_counted_and_logged_each_with_its_own_request_id(
    declared_sizes_server: LiveServer, make_token: Any, caplog: pytest.LogCaptureFixture
) -> None:
    live_server = declared_sizes_server
    subscriber = await Subscriber.open(live_server.ws, await make_token(Role.PARTNER))
    with caplog.at_level(logging.INFO, logger="clubjustice.access"):
        await answer(subscriber, "query Me { viewer { role } }")
        cost = next(case for case in CASES if case.code == "COST_LIMIT_EXCEEDED")
        await answer(subscriber, cost.query(over(cost, cost.limit)))
    lines = [record for record in caplog.records if record.name == "clubjustice.access"]
    assert [
        (r.method, r.path, r.status, r.role, r.operation_type, r.operation_name)  # type: ignore[attr-defined]
        for r in lines
    ] == [
        ("WS", "/graphql", None, "PARTNER", "query", "Me"),
        ("WS", "/graphql", None, "PARTNER", "query", None),
    ]
    assert len({r.request_id for r in lines}) == 2  # type: ignore[attr-defined]
    assert await metric_samples(live_server) == {
        (
            "clubjustice_graphql_operations_total",
            (("operation_name", "Me"), ("operation_type", "query")),
        ): 1.0,
        (
            "clubjustice_graphql_operations_total",
            (("operation_name", "__refused__"), ("operation_type", "query")),
        ): 1.0,
        ("clubjustice_graphql_errors_total", (("code", "COST_LIMIT_EXCEEDED"),)): 1.0,
    }
    await subscriber.close()


async def test_a_cached_answer_is_never_served_to_another_visibility(
    live_server: LiveServer, make_token: Any, member: Any
) -> None:
    query = "query($id: ID!) { organization(id: $id) { slug contactEmail } }"
    variables = {"id": encode_id("Organization", member.id)}
    own = await Subscriber.open(live_server.ws, await make_token(Role.ORGANIZATION, member.id))
    partner = await Subscriber.open(live_server.ws, await make_token(Role.PARTNER))
    for _ in range(2):  # the second time from the cache, each its own entry
        assert await answer(own, query, variables) == {
            "data": {"organization": {"slug": "md-member", "contactEmail": member.contact_email}}
        }
        assert await answer(partner, query, variables) == {
            "data": {"organization": {"slug": "md-member", "contactEmail": None}}
        }
    await own.close()
    await partner.close()


async def test_a_persisted_query_hash_is_checked_over_websocket(
    live_server: LiveServer, make_token: Any
) -> None:
    subscriber = await Subscriber.open(live_server.ws, await make_token(Role.PARTNER))
    for digest, expected in (
        ("0" * 64, None),
        (
            hashlib.sha256(VIEWER.encode()).hexdigest(),
            {"data": {"viewer": {"role": "PARTNER", "organization": None}}},
        ),
    ):
        subscriber.next_id += 1
        operation = str(subscriber.next_id)
        await subscriber.send(
            {
                "id": operation,
                "type": "subscribe",
                "payload": {
                    "query": VIEWER,
                    "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}},
                },
            }
        )
        message = await subscriber.receive()
        if expected is None:
            assert message == {
                "id": operation,
                "type": "error",
                "payload": [
                    {
                        "message": "`sha256Hash` is not the hash of `query`.",
                        "extensions": {"code": "PERSISTED_QUERY_HASH_MISMATCH"},
                    }
                ],
            }
        else:
            assert message == {"id": operation, "type": "next", "payload": expected}
            assert await subscriber.receive() == {"id": operation, "type": "complete"}
    await subscriber.close()


async def test_refusals_over_the_legacy_graphql_ws_protocol(
    live_server: LiveServer, make_token: Any, session_factory: Any
) -> None:
    token = await make_token(Role.PARTNER)

    async def receive(connection: Any) -> Any:
        return json.loads(await asyncio.wait_for(connection.recv(), EVENT_TIMEOUT))

    async with legacy_graphql_ws(live_server.ws, token) as connection:
        # A hash alone: refused, and the connection goes on.
        await connection.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "start",
                    "payload": {
                        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
                    },
                }
            )
        )
        assert await receive(connection) == {
            "type": "error",
            "id": "1",
            "payload": {
                "message": "A `start` message needs a `query`: over WebSocket, send the "
                "document's text.",
                "extensions": {"code": "BAD_REQUEST"},
            },
        }
        await connection.send(
            json.dumps({"id": "2", "type": "start", "payload": {"query": VIEWER}})
        )
        assert [await receive(connection) for _ in range(2)] == [
            {
                "type": "data",
                "id": "2",
                "payload": {"data": {"viewer": {"role": "PARTNER", "organization": None}}},
            },
            {"type": "complete", "id": "2"},
        ]
        async with session_factory() as session, session.begin():
            owner = await authenticate(session, token)
            assert owner is not None
            await revoke_token(session, owner.token_id)
        await connection.send(
            json.dumps({"id": "3", "type": "start", "payload": {"query": VIEWER}})
        )
        assert await receive(connection) == {
            "type": "error",
            "id": "3",
            "payload": {
                "message": "The token was revoked.",
                "extensions": {"code": "UNAUTHENTICATED"},
            },
        }


async def test_refused_operations_spend_the_budget_as_over_http(
    live_settings: Settings, make_token: Any, session_factory: Any
) -> None:
    """A document that does not parse spends the token's budget, and a revoked token the
    client address's, as over HTTP: refusals cost the server a statement or a parse each."""
    settings = live_settings.model_copy(update={"rate_limit_partner": 2, "rate_limit_anonymous": 1})
    async for server in run_server(settings):
        token = await make_token(Role.PARTNER)
        async with legacy_graphql_ws(server.ws, token) as connection:
            codes = []
            for number, query in enumerate(["{ viewer {", "{ viewer {", VIEWER], start=1):
                await connection.send(
                    json.dumps({"id": str(number), "type": "start", "payload": {"query": query}})
                )
                message = json.loads(await asyncio.wait_for(connection.recv(), EVENT_TIMEOUT))
                codes.append(message["payload"]["extensions"]["code"])
            assert codes == ["GRAPHQL_PARSE_FAILED", "GRAPHQL_PARSE_FAILED", "RATE_LIMITED"]
        subscriber = await Subscriber.open(server.ws, await make_token(Role.PARTNER))
        async with session_factory() as session, session.begin():
            owner = await authenticate(session, subscriber_token := await make_token(Role.ADMIN))
            assert owner is not None
        revoked = await Subscriber.open(server.ws, subscriber_token)
        async with session_factory() as session, session.begin():
            await revoke_token(session, owner.token_id)
        answers = [await answer(revoked, VIEWER) for _ in range(2)]
        assert [error["extensions"]["code"] for [error] in answers] == [
            "UNAUTHENTICATED",
            "RATE_LIMITED",
        ]
        await revoked.close()
        await subscriber.close()


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"query": VIEWER, "variables": "x"}, "BAD_REQUEST"),
        ({"query": VIEWER, "variables": [1]}, "BAD_REQUEST"),
        ({"query": 5}, "BAD_REQUEST"),
        ({"query": VIEWER, "operationName": 7}, "BAD_REQUEST"),
        ({"query": "query A { viewer { role } } query B { viewer { role } }"}, None),
        ({"query": VIEWER, "operationName": "B"}, None),
    ],
)
async def test_a_malformed_or_unresolvable_operation_is_refused_with_a_code(
    live_server: LiveServer, make_token: Any, payload: dict[str, Any], code: str | None
) -> None:
    """Over HTTP these get 400 with a code; over WebSocket, an `error` with the same code,
    and the connection (and its other operations) goes on."""
    subscriber = await Subscriber.open(live_server.ws, await make_token(Role.PARTNER))
    await subscriber.send({"id": "bad", "type": "subscribe", "payload": payload})
    message = await subscriber.receive()
    assert (message["type"], message["id"]) == ("error", "bad"), message
    [error] = message["payload"]
    assert error["extensions"]["code"] == (code or "OPERATION_RESOLUTION_FAILURE"), error
    assert await answer(subscriber, VIEWER) == {
        "data": {"viewer": {"role": "PARTNER", "organization": None}}
    }
    await subscriber.close()
