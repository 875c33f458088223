"""Observability: /metrics moving with requests, one log line per request (JSON on
request), and Apollo federated tracing when a gateway asks for it."""

import base64
import json
import logging
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from club.enums import Role
from schema.countries import Country
from server.logs import JsonFormatter, RequestIdFilter
from tests.factories import guests_of_a_member
from tests.http.conftest import MakeToken, bearer, open_client

INVITE = """
mutation Invite($input: InviteOrganizationInput!) {
  inviteOrganization(input: $input) { errors { code } }
}
"""


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_move_with_requests(
    client: httpx.AsyncClient, make_token: MakeToken, session_factory: Any
) -> None:
    before = await scrape(client)
    partner = bearer(await make_token(Role.PARTNER))
    for _ in range(3):
        response = await client.post(
            "/graphql", json={"query": "query Directory { viewer { role } }"}, headers=partner
        )
        assert response.json() == {"data": {"viewer": {"role": "PARTNER"}}}
    await client.post("/graphql", json={"query": "{ nope }"}, headers=partner)
    await client.post("/graphql", json={"query": "{ viewer { role } }"})  # no token

    member, _ = await guests_of_a_member(session_factory, 1)
    organization = bearer(await make_token(Role.ORGANIZATION, member.id))
    response = await client.post(
        "/graphql",
        json={"query": INVITE, "variables": {"input": {"inviteeId": "T3JnYW5pemF0aW9uOjk5OTk="}}},
        headers=organization,
    )
    assert response.json()["data"]["inviteOrganization"]["errors"] == [{"code": "NOT_FOUND"}]

    after = await scrape(client)
    moved = {
        key: after[key] - before.get(key, 0.0)
        for key in after
        if after[key] != before.get(key, 0.0) and not key[0].endswith("_created")
    }
    directory = (("operation_name", "Directory"), ("operation_type", "query"))
    # The first ran; the response cache answered the other two.
    assert moved[("clubjustice_graphql_operations_total", directory)] == 1
    assert moved[("clubjustice_graphql_operation_duration_seconds_count", directory)] == 1
    # misses: the first Directory, and `{ nope }` (looked up, refused, not stored)
    assert value(after, "clubjustice_response_cache_total", result="miss") == 2
    assert value(after, "clubjustice_response_cache_total", result="hit") == 2
    assert value(after, "clubjustice_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED") == 1
    assert value(after, "clubjustice_graphql_errors_total", code="UNAUTHENTICATED") == 1
    assert (
        value(
            after,
            "clubjustice_mutation_refusals_total",
            mutation="inviteOrganization",
            code="NOT_FOUND",
        )
        == 1
    )
    assert value(after, "clubjustice_websocket_connections") == 0
    assert value(after, "clubjustice_subscriptions") == 0


async def test_one_json_log_line_per_request(
    client: httpx.AsyncClient, make_token: MakeToken, caplog: pytest.LogCaptureFixture
) -> None:
    partner = bearer(await make_token(Role.PARTNER))
    with caplog.at_level(logging.INFO, logger="clubjustice.access"):
        response = await client.post(
            "/graphql", json={"query": "query Directory { viewer { role } }"}, headers=partner
        )
    [record] = [r for r in caplog.records if r.name == "clubjustice.access"]
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line.pop("time")
    assert line.pop("duration_ms") >= 0
    assert line == {
        "level": "INFO",
        "logger": "clubjustice.access",
        "request_id": response.headers["x-request-id"],
        "message": line["message"],
        "method": "POST",
        "path": "/graphql",
        "status": 200,
        "role": "PARTNER",
        "operation_type": "query",
        "operation_name": "Directory",
    }
    assert line["message"].startswith("POST /graphql 200 ")
    assert line["message"].endswith(" PARTNER query Directory")


async def test_federated_tracing_when_the_gateway_asks(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    partner = bearer(await make_token(Role.PARTNER))
    plain = await client.post("/graphql", json={"query": "{ viewer { role } }"}, headers=partner)
    assert plain.json() == {"data": {"viewer": {"role": "PARTNER"}}}
    traced = await client.post(
        "/graphql",
        json={"query": "{ viewer { role } }"},
        headers=partner | {"apollo-federation-include-trace": "ftv1"},
    )
    body = traced.json()
    assert body["data"] == {"viewer": {"role": "PARTNER"}}
    trace = base64.b64decode(body["extensions"]["ftv1"])
    assert b"viewer" in trace  # the protobuf names the traced (resolved) fields


async def test_metrics_say_which_path_answered(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    """The directory is answered from its plan; the same query asked with a trace (a field
    middleware), and a query the planner does not cover, by the reference executor."""
    partner = bearer(await make_token(Role.PARTNER))
    directory = {"query": "{ organizations(first: 2) { edges { node { name } } } }"}
    before = await scrape(client)
    await client.post("/graphql", json=directory, headers=partner)
    traced = partner | {"apollo-federation-include-trace": "ftv1"}
    assert (
        "ftv1"
        in (await client.post("/graphql", json=directory, headers=traced)).json()["extensions"]
    )
    await client.post("/graphql", json={"query": "{ viewer { role } }"}, headers=partner)
    after = await scrape(client)

    def moved(path: str) -> float:
        name = "clubjustice_query_executions_total"
        return value(after, name, path=path) - value(before, name, path=path)

    assert (moved("compiled"), moved("reference")) == (1, 2)


async def test_traces_mask_unexpected_errors_too(
    client: httpx.AsyncClient, make_token: MakeToken, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(row: Any) -> Any:
        raise RuntimeError("connection to 10.0.0.5 failed: SELECT secret FROM countries")

    monkeypatch.setattr(Country, "from_row", broken)
    response = await client.post(
        "/graphql",
        json={"query": '{ country(code: "KE") { name } }'},
        headers=bearer(await make_token(Role.PARTNER))
        | {"apollo-federation-include-trace": "ftv1"},
    )
    body = response.json()
    assert body["errors"][0]["message"] == "Internal server error."
    trace = base64.b64decode(body["extensions"]["ftv1"])
    assert b"Internal server error." in trace
    assert b"SELECT secret" not in trace


async def test_refused_operations_do_not_name_metric_series(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    partner = bearer(await make_token(Role.PARTNER))
    for n in range(5):
        await client.post("/graphql", json={"query": f"query Junk{n} {{ nope }}"}, headers=partner)
    long_name = "L" * 500
    await client.post(
        "/graphql", json={"query": f"query {long_name} {{ viewer {{ role }} }}"}, headers=partner
    )
    samples = await scrape(client)
    names = {
        dict(labels).get("operation_name")
        for (name, labels) in samples
        if name == "clubjustice_graphql_operations_total"
    }
    assert names == {"__refused__", "__too_long__"}


async def test_opentelemetry_spans_when_turned_on(
    settings: Any, make_token: MakeToken, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    import server.tracing

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(server.tracing, "tracer_provider", lambda: provider)
    partner = bearer(await make_token(Role.PARTNER))
    async for client in open_client(settings.model_copy(update={"opentelemetry": True})):
        response = await client.post(
            "/graphql", json={"query": "query Directory { viewer { role } }"}, headers=partner
        )
        assert response.json() == {"data": {"viewer": {"role": "PARTNER"}}}
    names = {span.name for span in exporter.get_finished_spans()}
    assert "GraphQL Query: Directory" in names
