"""Each operation limit over HTTP, at its default: just under it runs, just over it is
refused before execution with its own code; and the bombs of the issue, each refused
while the server keeps serving."""

from typing import Any

import httpx
import pytest

from club.enums import Role
from club.settings import Settings
from tests.http.conftest import MakeToken, bearer, open_client
from tests.limit_cases import CASES, DECLARED_SIZES, PARSER_LIMITS, LimitCase, over


async def post(client: httpx.AsyncClient, headers: dict[str, str], query: str) -> Any:
    response = await client.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.code)
async def test_just_under_the_limit_runs_and_just_over_is_refused(
    settings: Settings, session_factory: Any, partner: dict[str, str], case: LimitCase
) -> None:
    async for client in open_client(settings.model_copy(update=case.settings)):
        under = await post(client, partner, case.query(case.limit))
        refused = await post(client, partner, case.query(over(case, case.limit)))
    assert "errors" not in under, under
    assert under["data"] is not None

    assert refused["data"] is None
    [error] = refused["errors"]
    assert error["extensions"]["code"] == case.code
    if case.code not in PARSER_LIMITS:  # the parser stops before it can measure
        assert error["extensions"]["limit"] == case.limit
        assert error["extensions"]["measured"] == over(case, case.limit)


async def test_the_cost_budget_is_per_role(
    settings: Settings, session_factory: Any, make_token: MakeToken
) -> None:
    query = "{ countries { organizations(first: 39) { name } } }"  # 250 x 40 = 10,000
    async for client in open_client(settings.model_copy(update=DECLARED_SIZES)):
        partner = await post(client, bearer(await make_token(Role.PARTNER)), query)
        admin = await post(client, bearer(await make_token(Role.ADMIN)), query)
    assert partner["errors"][0]["extensions"] == {
        "code": "COST_LIMIT_EXCEEDED",
        "limit": 5000,
        "measured": 10_000,
    }
    assert "errors" not in admin


async def test_every_operation_of_a_document_is_measured(
    client: httpx.AsyncClient, partner: dict[str, str]
) -> None:
    # Aliases in an operation that is not run still cost validation: refused too.
    bomb = " ".join(f"a{i}: role" for i in range(16))
    document = f"query Small {{ viewer {{ role }} }} query Bomb {{ viewer {{ {bomb} }} }}"
    response = await client.post(
        "/graphql", json={"query": document, "operationName": "Small"}, headers=partner
    )
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": "`Bomb` uses 16 aliases; the limit is 15.",
                "extensions": {"code": "ALIAS_LIMIT_EXCEEDED", "limit": 15, "measured": 16},
            }
        ],
    }


BOMBS = {
    # 100 levels of nesting (past 200, graphql-core's parser refuses it: GRAPHQL_PARSE_FAILED)
    "depth bomb": (
        '{ country(code: "KE") { '
        + "organizations(first: 1) { country { " * 50
        + "name"
        + " } }" * 50
        + " } }",
        "DEPTH_LIMIT_EXCEEDED",
    ),
    "alias bomb": (
        "{ viewer { " + " ".join(f"a{i}: role" for i in range(600)) + " } }",
        "ALIAS_LIMIT_EXCEEDED",
    ),
    # each fragment spreads the one before twice: 2^30 viewers once expanded
    "fragment bomb": (
        " ".join(
            ["fragment F0 on Query { viewer { role } }"]
            + [f"fragment F{k} on Query {{ ...F{k - 1} ...F{k - 1} }}" for k in range(1, 31)]
        )
        + " { ...F30 }",
        "ROOT_FIELD_LIMIT_EXCEEDED",
    ),
    "fragment cycle": (
        "fragment A on Query { viewer { role } ...B } fragment B on Query { ...A } { ...A }",
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "nested fragment cycle": (
        "fragment A on Organization { country { organizations { ...A } } } "
        '{ organization(slug: "irf") { ...A } }',
        "GRAPHQL_VALIDATION_FAILED",
    ),
    # every country's organizations' attendances' events' guests: about 2.6 million rows
    "a million rows": (
        "{ countries { organizations { attendances { event { guests { name } } } } } }",
        "COST_LIMIT_EXCEEDED",
    ),
    "tokens": ("{ viewer { " + "r " * 20_000 + "} }", "TOKEN_LIMIT_EXCEEDED"),
    "a long document": ("{ viewer { role } } #" + "x" * 1_000_000, "DOCUMENT_TOO_LARGE"),
    # the same field many times over: quadratic work for validation without a single alias
    "a wide selection": (
        "{ viewer { " + " ".join(["organization { name }"] * 490) + " } }",
        "FIELD_LIMIT_EXCEEDED",
    ),
    "an unused fragment": (
        "fragment Bomb on Viewer { " + " ".join(f"a{i}: role" for i in range(600)) + " }"
        " { viewer { role } }",
        "ALIAS_LIMIT_EXCEEDED",
    ),
}


@pytest.mark.parametrize("bomb", BOMBS, ids=list(BOMBS))
async def test_bombs_are_refused_and_the_server_keeps_serving(
    client: httpx.AsyncClient, partner: dict[str, str], bomb: str
) -> None:
    query, code = BOMBS[bomb]
    response = await post(client, partner, query)
    assert response["data"] is None
    assert [error["extensions"]["code"] for error in response["errors"]][:1] == [code]
    assert await post(client, partner, "{ viewer { role } }") == {
        "data": {"viewer": {"role": "PARTNER"}}
    }


async def test_a_ten_megabyte_body_is_refused_before_it_is_read(
    client: httpx.AsyncClient, partner: dict[str, str]
) -> None:
    body = b'{"query": "{ viewer { role } }", "variables": {"pad": "' + b"x" * 10_000_000 + b'"}}'
    response = await client.post(
        "/graphql", content=body, headers=partner | {"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": "The request body exceeds 1048576 bytes.",
                "extensions": {"code": "PAYLOAD_TOO_LARGE"},
            }
        ],
    }
    assert await post(client, partner, "{ viewer { role } }") == {
        "data": {"viewer": {"role": "PARTNER"}}
    }
