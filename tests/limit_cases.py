"""Operations just under and just over each operation limit, at the default settings, for a
PARTNER token: as queries (HTTP) and as subscriptions (WebSocket)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from club.settings import Settings

DEFAULTS = Settings()


@dataclass(frozen=True)
class LimitCase:
    code: str
    # operation(n) is an operation that measures n against the limit
    query: Callable[[int], str]
    subscription: Callable[[int], str] | None
    limit: int
    settings: dict[str, Any] = field(default_factory=dict)
    # over WebSocket, when the limit must differ (a subscription has one root field)
    ws_limit: int | None = None


LINKS = ["organizations(first: 1) {", "country {"]


def _chain(levels: int, *, start: int) -> str:
    """`levels` nested fields alternating between a country's organizations and an
    organization's country, ending with a leaf (`name`, which both have)."""
    opened = [LINKS[(start + i) % 2] for i in range(levels - 1)]
    return " ".join(opened) + " name " + "}" * len(opened)


def depth_query(depth: int) -> str:
    # country(1) → organizations(2) → country(3) → …
    return '{ country(code: "KE") { ' + _chain(depth - 1, start=0) + " } }"


def depth_subscription(depth: int) -> str:
    # memberJoined(1) → organization(2) → country(3) → organizations(4) → …
    return "subscription { memberJoined { organization { " + _chain(depth - 2, start=1) + " } } }"


def aliases_query(count: int) -> str:
    return "{ viewer { " + " ".join(f"a{i}: role" for i in range(count)) + " } }"


def aliases_subscription(count: int) -> str:
    return (
        "subscription { memberJoined { " + " ".join(f"a{i}: cursor" for i in range(count)) + " } }"
    )


def _spreads(count: int, leaf: str) -> str:
    """`count` tokens of fragment spreads (2 tokens each) and at most one leaf field. (The
    same field a thousand times over would exceed graphql-core's own validation budget.)"""
    return " ".join(["...F"] * (count // 2) + [leaf] * (count % 2))


def tokens_query(count: int) -> str:
    # `{ viewer {`, `} }` and `fragment F on Viewer { role }`: 12 tokens
    return "{ viewer { " + _spreads(count - 12, "role") + " } } fragment F on Viewer { role }"


def tokens_subscription(count: int) -> str:
    # `subscription { memberJoined {`, `} }` and the fragment: 13 tokens
    return (
        "subscription { memberJoined { "
        + _spreads(count - 13, "cursor")
        + " } } fragment F on MemberJoined { cursor }"
    )


def _directed(count: int, field: str) -> str:
    """`count` directives, two per field (so the fields stay under their own limit)."""
    fields = [f"{field} @include(if: true) @skip(if: false)"] * (count // 2)
    return " ".join(fields + [f"{field} @include(if: true)"] * (count % 2))


def directives_query(count: int) -> str:
    return "{ viewer { " + _directed(count, "role") + " } }"


def directives_subscription(count: int) -> str:
    return "subscription { memberJoined { " + _directed(count, "cursor") + " } }"


def fields_query(count: int) -> str:
    return "{ viewer { " + " ".join(["role"] * count) + " } }"


def fields_subscription(count: int) -> str:
    return "subscription { memberJoined { " + " ".join(["cursor"] * count) + " } }"


def _padded(document: str, length: int) -> str:
    """`document`, then a comment that makes it `length` characters long."""
    return document + "\n#" + "x" * (length - len(document) - 2)


def length_query(length: int) -> str:
    return _padded("{ viewer { role } }", length)


def length_subscription(length: int) -> str:
    return _padded("subscription { memberJoined { cursor } }", length)


def root_fields_query(count: int) -> str:
    return "{ " + " ".join(f"r{i}: viewer {{ role }}" for i in range(count)) + " }"


def root_fields_subscription(count: int) -> str:
    return (
        "subscription { "
        + " ".join(f"r{i}: memberJoined {{ cursor }}" for i in range(count))
        + " }"
    )


def introspection_query(count: int) -> str:
    return "{ " + " ".join(f'i{i}: __type(name: "Query") {{ name }}' for i in range(count)) + " }"


# The cost case measures the estimate's arithmetic on the declared list sizes, with
# observation of the data off: observed, a test database's empty relations would make these
# queries cheap (tests/http/test_list_sizes.py tests the estimate on observed sizes).
DECLARED_SIZES = {"list_size_refresh_seconds": 0}


def cost_query(cost: int) -> str:
    # 250 countries x (1 + first): exactly `cost` when cost is a multiple of 250
    return f"{{ countries {{ organizations(first: {cost // 250 - 1}) {{ name }} }} }}"


def cost_subscription(cost: int) -> str:
    # memberJoined, organization, country: 3; then 100 x (organization, country, `m` more)
    per_organization = (cost - 3) // 100 - 2
    return (
        "subscription { memberJoined { organization { country { organizations(first: 100) {"
        f" country {{ organizations(first: {per_organization}) {{ name }} }} }} }} }} }} }}"
    )


# Refused by the parser, which stops at the limit: the refusal names the limit only.
PARSER_LIMITS = ("TOKEN_LIMIT_EXCEEDED", "DOCUMENT_TOO_LARGE")

CASES = [
    LimitCase("DEPTH_LIMIT_EXCEEDED", depth_query, depth_subscription, DEFAULTS.max_depth),
    LimitCase("ALIAS_LIMIT_EXCEEDED", aliases_query, aliases_subscription, DEFAULTS.max_aliases),
    LimitCase("TOKEN_LIMIT_EXCEEDED", tokens_query, tokens_subscription, DEFAULTS.max_tokens),
    LimitCase(
        "DOCUMENT_TOO_LARGE", length_query, length_subscription, DEFAULTS.max_document_length
    ),
    LimitCase(
        "FIELD_LIMIT_EXCEEDED", fields_query, fields_subscription, DEFAULTS.max_fields_per_selection
    ),
    LimitCase(
        "DIRECTIVE_LIMIT_EXCEEDED",
        directives_query,
        directives_subscription,
        DEFAULTS.max_directives,
    ),
    LimitCase(
        "ROOT_FIELD_LIMIT_EXCEEDED",
        root_fields_query,
        root_fields_subscription,
        DEFAULTS.max_root_fields,
        ws_limit=1,
    ),
    # Subscriptions cannot select `__schema` or `__type`: HTTP only.
    LimitCase(
        "INTROSPECTION_LIMIT_EXCEEDED",
        introspection_query,
        None,
        DEFAULTS.max_introspection_fields,
    ),
    LimitCase(
        "COST_LIMIT_EXCEEDED",
        cost_query,
        cost_subscription,
        DEFAULTS.cost_budget_partner,
        settings=DECLARED_SIZES,
    ),
]


def over(case: LimitCase, limit: int) -> int:
    """The smallest measure over the limit that the builders can express."""
    if case.code == "COST_LIMIT_EXCEEDED":
        return limit + 250  # the query's steps; the subscription's are 100
    return limit + 1
