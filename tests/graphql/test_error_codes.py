"""What reaches a client when something fails: codes always, details only for its own
mistakes. A small schema with our error extension stands in for failures the real one
should never have."""

import logging
from collections.abc import AsyncGenerator
from typing import Any

import pytest
import strawberry

from club.errors import RequestError
from schema import limits
from schema.errors import ErrorCodes


@strawberry.type
class Query:
    @strawberry.field
    def too_large(self) -> int:
        return 2**40  # not a GraphQL Int: fails while serializing

    @strawberry.field
    def broken(self) -> str:
        raise RuntimeError("connection to server at 10.0.0.5 failed: SELECT secret FROM t")

    @strawberry.field
    def refused(self) -> str:
        raise RequestError.bad_input("That is not allowed here.", field="x")


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def ticks(self) -> AsyncGenerator[int, None]:
        yield 1
        raise RuntimeError("listener at 10.0.0.5 lost: SELECT secret FROM t")


SCHEMA = strawberry.Schema(query=Query, subscription=Subscription, extensions=[ErrorCodes])


@pytest.mark.parametrize("field", ["tooLarge", "broken"])
async def test_server_faults_are_masked_and_logged(
    field: str, caplog: pytest.LogCaptureFixture, make_context: Any
) -> None:
    with caplog.at_level(logging.ERROR, logger="clubjustice.errors"):
        result = await SCHEMA.execute(f"{{ {field} }}", context_value=make_context())
    assert result.data is None
    assert [error.formatted for error in result.errors or []] == [
        {
            "message": "Internal server error.",
            "locations": [{"line": 1, "column": 3}],
            "path": [field],
            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
        }
    ]
    (record,) = [r for r in caplog.records if r.name == "clubjustice.errors"]
    assert record.message.startswith(f"unexpected error at {field}:")
    assert record.exc_info is not None  # the traceback is in the log, not the response


async def test_client_errors_keep_their_message_and_field(make_context: Any) -> None:
    result = await SCHEMA.execute("{ refused }", context_value=make_context())
    assert [error.formatted for error in result.errors or []] == [
        {
            "message": "That is not allowed here.",
            "locations": [{"line": 1, "column": 3}],
            "path": ["refused"],
            "extensions": {"code": "BAD_USER_INPUT", "field": "x"},
        }
    ]


async def test_a_subscription_that_fails_mid_stream_is_masked_too(make_context: Any) -> None:
    stream = await SCHEMA.subscribe("subscription { ticks }", context_value=make_context())
    results = [result async for result in stream]
    assert [(r.data, [e.formatted for e in r.errors or []]) for r in results] == [
        ({"ticks": 1}, []),
        (
            None,
            [
                {
                    "message": "Internal server error.",
                    "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                }
            ],
        ),
    ]


async def test_a_failure_in_an_extension_hook_is_masked_and_logged(
    run: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The project's schema: a failure raised in the limits' hook (before execution) skips
    the extensions after it; strawberry would answer its message as it is."""

    def failing(*args: Any) -> None:
        raise RuntimeError("connection to server at 10.0.0.5 failed: SELECT secret FROM t")

    monkeypatch.setattr(limits, "operation_refusals", failing)
    with caplog.at_level(logging.ERROR, logger="clubjustice.errors"):
        response = await run("{ countries { code } }")
    assert response == {
        "data": None,
        "errors": [
            {"message": "Internal server error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
        ],
    }
    (record,) = [r for r in caplog.records if r.name == "clubjustice.errors"]
    assert record.exc_info is not None
