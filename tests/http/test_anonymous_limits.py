"""The ANONYMOUS role's own budgets: requests per client address (apart from the budget of
requests refused without a valid token, and keyed by the address's digest), and a stricter
cost budget than PARTNER's; and its persisted queries."""

import json
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from club.access import ANONYMOUS, Principal
from club.enums import Role
from club.metrics import Metrics
from club.persisted import sha256
from club.ratelimit import ProcessBuckets, address_digest
from club.settings import Settings
from server.auth import caller_key
from server.shared_limits import SharedBuckets
from tests.anonymous import row_counts
from tests.conftest import wire_on
from tests.http.conftest import PREFLIGHT, open_client
from tests.http.test_request_cost import served

VIEWER = {"query": "{ viewer { role } }"}
# 250 countries x (1 + 19) on the declared sizes (list sizes not observed): 5,000, a PARTNER's
# whole budget (docs/security.md), over ANONYMOUS's 2,000.
COSTLY = "{ countries { organizations(first: 19) { name } } }"


def test_anonymous_budgets_are_keyed_by_the_address_digest() -> None:
    scope = {"type": "http", "client": ("203.0.113.7", 5000)}
    assert caller_key(ANONYMOUS, scope) == ("anonymous", address_digest("203.0.113.7"))
    assert "203.0.113.7" not in str(caller_key(ANONYMOUS, scope))
    assert caller_key(None, scope) == ("address", "203.0.113.7")
    assert caller_key(Principal(Role.PARTNER, token_id=3), scope) == ("token", 3)
    assert ProcessBuckets().buckets.keys() == {"token", "address", "anonymous"}


def test_the_defaults_are_stricter_than_a_partners() -> None:
    defaults = Settings()
    assert defaults.anonymous_reads is False
    assert defaults.cost_budget(Role.ANONYMOUS) == 2_000 < defaults.cost_budget(Role.PARTNER)
    assert defaults.rate_limit(Role.ANONYMOUS) == 60 < defaults.rate_limit(Role.PARTNER)


async def test_anonymous_reads_spend_their_own_budget(
    settings: Settings, session_factory: Any, partner: dict[str, str]
) -> None:
    on = settings.model_copy(
        update={"anonymous_reads": True, "rate_limit_anonymous_reads": 2, "rate_limit_anonymous": 1}
    )
    async for client in open_client(on):
        for _ in range(2):
            response = await client.post("/graphql", json=VIEWER)
            assert response.json() == {"data": {"viewer": {"role": "ANONYMOUS"}}}
        refused = await client.post("/graphql", json=VIEWER)
        assert refused.status_code == 429
        assert refused.json()["errors"][0]["extensions"] == {"code": "RATE_LIMITED"}
        assert refused.headers["retry-after"]
        # A bad token from the same address spends the other budget (one), not this one.
        bad = await client.post("/graphql", json=VIEWER, headers={"authorization": "Bearer x"})
        assert bad.status_code == 401
        bad = await client.post("/graphql", json=VIEWER, headers={"authorization": "Bearer x"})
        assert bad.status_code == 429
        # A token's budget is its own.
        response = await client.post("/graphql", json=VIEWER, headers=partner)
        assert response.json() == {"data": {"viewer": {"role": "PARTNER"}}}


async def test_anonymous_reads_have_a_stricter_cost_budget(
    settings: Settings, session_factory: Any, partner: dict[str, str]
) -> None:
    on = settings.model_copy(update={"anonymous_reads": True, "list_size_refresh_seconds": 0})
    async for client in open_client(on):
        refused = await client.post("/graphql", json={"query": COSTLY})
        assert refused.json() == {
            "data": None,
            "errors": [
                {
                    "message": "The operation could return about 5000 objects; the budget of "
                    "requests without a token is 2000. Ask for smaller pages (`first`) or fewer "
                    "nested lists.",
                    "extensions": {"code": "COST_LIMIT_EXCEEDED", "limit": 2000, "measured": 5000},
                }
            ],
        }
        allowed = await client.post("/graphql", json={"query": COSTLY}, headers=partner)
        assert "errors" not in allowed.json()


async def test_anonymous_answers_are_cached_apart(
    settings: Settings, session_factory: Any, partner: dict[str, str]
) -> None:
    """The response cache keys by role: an anonymous answer is never a partner's entry."""
    on = settings.model_copy(update={"anonymous_reads": True})
    async for client in open_client(on):
        for headers in ({}, partner, {}, partner):
            response = await client.post("/graphql", json=VIEWER, headers=headers)
            role = "PARTNER" if headers else "ANONYMOUS"
            assert response.json() == {"data": {"viewer": {"role": role}}}


async def test_anonymous_budgets_in_redis_hold_no_address(
    redis_url: str, redis_key_prefix: str
) -> None:
    limiter = SharedBuckets(redis_url, key_prefix=redis_key_prefix, timeout=1.0, metrics=Metrics())
    try:
        key = caller_key(ANONYMOUS, {"type": "http", "client": ("198.51.100.23", 1)})
        assert (await limiter.take(key, 1)).allowed
        assert not (await limiter.take(key, 1)).allowed
        client = Redis.from_url(redis_url)
        try:
            keys = [k.decode() async for k in client.scan_iter(match=f"{redis_key_prefix}:*")]
        finally:
            await client.aclose()
    finally:
        await limiter.close()
    assert keys and all(f"anonymous/{address_digest('198.51.100.23')}/" in k for k in keys)
    assert not any("198.51.100.23" in k for k in keys)


async def test_persisted_queries_work_without_a_token_and_mutations_do_not(
    settings: Settings, session_factory: Any
) -> None:
    on = settings.model_copy(update={"anonymous_reads": True})
    mutation = (
        'mutation { registerOrganization(input: {name: "X", countryCode: "GE", kind: NGO}) '
        "{ errors { code } } }"
    )
    async for client in open_client(on):
        before = await row_counts(session_factory)
        answers = []
        for document in (VIEWER["query"], mutation):
            extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha256(document)}}
            for body in ({"query": document, "extensions": extensions}, {"extensions": extensions}):
                response = await client.post("/graphql", json=body)
                answers.append((response.json().get("data"), response.json().get("errors")))
        assert [
            (data, [e["extensions"]["code"] for e in errors or []]) for data, errors in answers
        ] == [
            ({"viewer": {"role": "ANONYMOUS"}}, []),
            ({"viewer": {"role": "ANONYMOUS"}}, []),  # by its hash alone
            (None, ["FORBIDDEN"]),
            (None, ["PERSISTED_QUERY_NOT_FOUND"]),  # a refused operation is not remembered
        ]
        assert await row_counts(session_factory) == before
        by_get = await client.get(
            "/graphql",
            params={
                "extensions": json.dumps(
                    {"persistedQuery": {"version": 1, "sha256Hash": sha256(VIEWER["query"])}}
                )
            },
            headers=PREFLIGHT,
        )
        assert by_get.json() == {"data": {"viewer": {"role": "ANONYMOUS"}}}


async def test_trusted_documents_can_hold_anonymous_callers_to_registered_operations(
    settings: Settings, session_factory: Any, tmp_path: Path, partner: dict[str, str]
) -> None:
    """A public page's operations registered, and nothing else for requests without a token."""
    registered = "query Page { viewer { role } }"
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({sha256(registered): registered}))
    on = settings.model_copy(
        update={
            "anonymous_reads": True,
            "trusted_documents_file": manifest,
            "trusted_documents_roles": frozenset({Role.ANONYMOUS}),
        }
    )
    async for client in open_client(on):
        by_hash = {
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256(registered)}}
        }
        response = await client.post("/graphql", json=by_hash)
        assert response.json() == {"data": {"viewer": {"role": "ANONYMOUS"}}}
        refused = await client.post("/graphql", json=VIEWER)
        assert refused.json() == {
            "data": None,
            "errors": [
                {
                    "message": "Requests without a token may run only registered operations; "
                    "send a registered document or its `persistedQuery` hash.",
                    "extensions": {"code": "PERSISTED_QUERY_NOT_IN_LIST"},
                }
            ],
        }
        # Tokens' roles are not held to it.
        allowed = await client.post("/graphql", json=VIEWER, headers=partner)
        assert allowed.json() == {"data": {"viewer": {"role": "PARTNER"}}}


async def test_an_anonymous_request_costs_what_a_tokens_does(
    settings: Settings, session_factory: Any
) -> None:
    """One statement for the high-water mark in place of the token check: a cached answer
    costs that one statement, as for a token (tests/http/test_request_cost.py)."""
    on = settings.model_copy(update={"anonymous_reads": True, "response_cache_size": 1000})
    async with served(on) as (client, engine):
        await client.post("/graphql", json=VIEWER)  # connects; fills the cache
        for _ in range(3):
            with wire_on(engine) as wire:
                response = await client.post("/graphql", json=VIEWER)
            assert response.json() == {"data": {"viewer": {"role": "ANONYMOUS"}}}
            assert (len(wire.statements), wire.round_trips, wire.connections) == (1, 1, 0)
            assert "api_tokens" not in wire.statements[0]
