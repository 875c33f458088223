"""Error codes on every GraphQL error, and masking of the unexpected ones.

Clients branch on `extensions.code`: parse and validation failures, bad input, and our own
typed errors keep their message; anything else is replaced by a generic message (no stack
trace, no SQL) and logged with its traceback.
"""

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension

from club.errors import RequestError
from resolvers.context import Context, context_of
from schema.strawberry_private import CannotGetOperationTypeError, InvalidOperationTypeError

WRONG_OPERATION = (InvalidOperationTypeError, CannotGetOperationTypeError, MissingQueryError)

logger = logging.getLogger("clubjustice.errors")

INTERNAL_MESSAGE = "Internal server error."
COUNTED = "_clubjustice_counted"


def as_graphql_error(error: RequestError) -> GraphQLError:
    """A refusal found before execution (a limit, say), as graphql-core reports errors."""
    return GraphQLError(error.message, extensions=error.extensions, original_error=error)


def _is_client_error(error: GraphQLError) -> bool:
    """Errors the request caused: graphql-core's refusals before execution (syntax,
    validation: no cause; variable coercion: a GraphQLError cause and no path) and our own
    RequestErrors. A GraphQLError raised while completing a field (e.g. a value that does not
    serialize) is the server's fault, however graphql-core words it."""
    original = error.original_error
    if original is None or isinstance(original, RequestError):
        return True
    return isinstance(original, GraphQLError) and error.path is None


def classify(error: GraphQLError, *, phase: str, request_id: str | None = None) -> GraphQLError:
    """Return the error as the client should see it, with `extensions.code` set."""
    original = error.original_error
    if isinstance(original, RequestError):
        error.extensions = {**(original.extensions or {}), **(error.extensions or {})}
        return error
    if isinstance(original, WRONG_OPERATION):
        # e.g. a query sent where only subscriptions run (HTTP streaming)
        error.extensions = {**(error.extensions or {}), "code": "BAD_REQUEST"}
        return error
    if _is_client_error(error):
        if error.extensions and "code" in error.extensions:
            return error
        if isinstance(error, GraphQLSyntaxError):
            code = "GRAPHQL_PARSE_FAILED"
        elif phase == "validation":
            code = "GRAPHQL_VALIDATION_FAILED"
        else:
            code = "BAD_USER_INPUT"
        error.extensions = {**(error.extensions or {}), "code": code}
        return error
    logger.error(
        "unexpected error at %s: %s",
        ".".join(map(str, error.path or [])) or "<operation>",
        original,
        exc_info=(type(original), original, original.__traceback__) if original else None,
        extra={"request_id": request_id} if request_id else None,
    )
    return GraphQLError(
        INTERNAL_MESSAGE,
        nodes=error.nodes,
        path=error.path,
        # The id is in the server's log line with the traceback: support can find it.
        extensions={"code": "INTERNAL_SERVER_ERROR"}
        | ({"requestId": request_id} if request_id else {}),
    )


def classify_all(errors: list[GraphQLError], phase: str, context: Context) -> list[GraphQLError]:
    """`classify` each error, and count it by code once (several hooks see the same error).
    Classifying again what was classified changes nothing: a masked error has its code."""
    classified = []
    for error in errors:
        shown = classify(error, phase=phase, request_id=context.request_id)
        if context.metrics is not None and not getattr(error, COUNTED, False):
            # Marked on the error itself: several hooks see the same error.
            setattr(error, COUNTED, True)
            setattr(shown, COUNTED, True)
            code = (shown.extensions or {}).get("code", "UNKNOWN")
            context.metrics.errors.labels(code).inc()
        classified.append(shown)
    return classified


class ErrorCodes(SchemaExtension):
    """Sets `extensions.code` on every error, masks unexpected ones, and counts them by code
    (each error once, however many hooks see it)."""

    def classify(self, errors: list[GraphQLError], phase: str) -> list[GraphQLError]:
        return classify_all(errors, phase, context_of(self.execution_context))

    def on_validate(self) -> Iterator[None]:
        yield
        errors = self.execution_context.pre_execution_errors
        if errors:
            self.execution_context.pre_execution_errors = self.classify(errors, "validation")

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = self.classify(result.errors, "execution")

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each event of a subscription, before it is sent."""
        if result.errors:
            result.errors = self.classify(result.errors, "execution")
        yield
