"""The ANONYMOUS role's own budgets: requests per client address (apart from the budget of
requests refused without a valid token, and keyed by the address's digest), and a stricter
cost budget than PARTNER's."""

from typing import Any

from club.access import ANONYMOUS, Principal
from club.enums import Role
from club.ratelimit import ProcessBuckets, address_digest
from club.settings import Settings
from server.auth import caller_key
from tests.http.conftest import open_client

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
                    "ANONYMOUS tokens is 2000. Ask for smaller pages (`first`) or fewer nested "
                    "lists.",
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
