"""Executing operations against the real schema with a real context."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from strawberry.federation import Schema

from club.access import Principal
from schema.root import build_schema


@pytest.fixture(scope="session")
def schema() -> Schema:
    return build_schema()


@pytest.fixture
def run(schema: Schema, make_context: Any) -> Any:
    """`await run(QUERY, variables, principal=..., now=...)` → the response as a client sees
    it; `now` is the request's clock (default: the real one), `clock` the clock a mutation
    reads once it holds its locks (default: `now`, when given)."""

    async def execute(
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        principal: Principal | None = None,
        now: datetime | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> dict[str, Any]:
        result = await schema.execute(
            query, variable_values=variables, context_value=make_context(principal, now, clock)
        )
        response: dict[str, Any] = {"data": result.data}
        if result.errors:
            response["errors"] = [error.formatted for error in result.errors]
        return response

    return execute
