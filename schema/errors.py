"""Error codes on every GraphQL error, and masking of the unexpected ones.

Clients branch on `extensions.code`: parse and validation failures, bad input, and our own
typed errors keep their message; anything else is replaced by a generic message (no stack
trace, no SQL) and logged with its traceback.
"""

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from graphql import BREAK, GraphQLError, GraphQLSyntaxError, StringValueNode, Visitor, visit
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import ParserCache, SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionContext

from schema.limits import OperationLimits, count_tokens

WRONG_OPERATION = (InvalidOperationTypeError, CannotGetOperationTypeError, MissingQueryError)

logger = logging.getLogger("clubjustice.errors")

INTERNAL_MESSAGE = "Internal server error."
COUNTED = "_clubjustice_counted"


class ClientError(GraphQLError):
    """An error the client caused and can fix; its message is safe to show."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        extensions: dict[str, object] = {"code": self.code}
        if field is not None:
            extensions["field"] = field
        super().__init__(message, extensions=extensions)


class BadUserInput(ClientError):
    code = "BAD_USER_INPUT"


def _is_client_error(error: GraphQLError) -> bool:
    """Errors the request caused: graphql-core's refusals before execution (syntax,
    validation: no cause; variable coercion: a GraphQLError cause and no path) and our own
    ClientErrors. A GraphQLError raised while completing a field (e.g. a value that does not
    serialize) is the server's fault, however graphql-core words it."""
    original = error.original_error
    if original is None or isinstance(original, ClientError):
        return True
    return isinstance(original, GraphQLError) and error.path is None


def classify(error: GraphQLError, *, phase: str, request_id: str | None = None) -> GraphQLError:
    """Return the error as the client should see it, with `extensions.code` set."""
    original = error.original_error
    if isinstance(original, ClientError):
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


class ErrorCodes(SchemaExtension):
    """Sets `extensions.code` on every error, masks unexpected ones, and counts them by code
    (each error once, however many hooks see it)."""

    def classify(self, errors: list[GraphQLError], phase: str) -> list[GraphQLError]:
        context = self.execution_context.context
        request_id = getattr(context, "request_id", None)
        metrics = getattr(context, "metrics", None)
        classified = []
        for error in errors:
            shown = classify(error, phase=phase, request_id=request_id)
            if metrics is not None and not getattr(error, COUNTED, False):
                # Marked on the error itself: several hooks see the same error.
                setattr(error, COUNTED, True)
                setattr(shown, COUNTED, True)
                metrics.errors.labels((shown.extensions or {}).get("code", "UNKNOWN")).inc()
            classified.append(shown)
        return classified

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


class ParseCache(ParserCache):
    """strawberry's ParserCache, with the document length and token limits, except that a
    syntax error is left to strawberry's own parse step, where it becomes an ordinary error
    result: raised from the cache's hook it would skip every extension's `on_operation`, so
    it would leave without an error code."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        settings = context.context.settings
        tokens, length = settings.max_tokens, settings.max_document_length
        # graphql-core refuses a longer document before reading it, and stops parsing at the
        # token limit; strawberry's own parse uses these options too. (The length bounds the
        # memory of the parse, validation and persisted-query caches: comments are not
        # tokens.)
        context.parse_options["max_lexical_tokens"] = tokens  # type: ignore[typeddict-unknown-key]
        context.parse_options["max_source_length"] = length  # type: ignore[typeddict-unknown-key]
        # On a syntax error strawberry parses again and reports it like any other error.
        with contextlib.suppress(GraphQLSyntaxError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield
        errors = context.pre_execution_errors
        query = context.query
        if context.graphql_document is not None or not errors or query is None:
            return
        if len(query) > length:
            refusal = (
                "DOCUMENT_TOO_LARGE",
                f"The document has {len(query)} characters; the limit is {length}.",
                length,
            )
        elif count_tokens(query, tokens) > tokens:
            refusal = (
                "TOKEN_LIMIT_EXCEEDED",
                f"The document has more than {tokens} tokens; the limit is {tokens}.",
                tokens,
            )
        else:
            return
        code, message, limit = refusal
        # strawberry already holds this error in the result it returns: change it in place
        # into the refusal it is. Not a syntax error any more, or the WebSocket transport
        # would close the connection as if sent garbage.
        for error in errors:
            error.__class__ = LimitExceeded
            error.message = message
            error.extensions = {"code": code, "limit": limit}


class LimitExceeded(GraphQLError):
    """The parser stopped at a limit (it raised a syntax error)."""


class _FindNul(Visitor):
    found = False

    def enter_string_value(self, node: StringValueNode, *_: Any) -> Any:
        if "\x00" in node.value:
            self.found = True
            return BREAK
        return None


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def reject_nul_characters(context: ExecutionContext) -> None:
    """No input string may hold U+0000: PostgreSQL cannot store or compare it, so it would
    fail deep in a query (failing the other lookups batched with it), while SQLite would
    accept it. Refused up front, the same way on both (added to what was refused before)."""
    finder = _FindNul()
    # The lexer refuses a raw NUL in a string: only an escape (`\u0000`, `\u{0}`) makes
    # one, so a document without `\u` needs no walk.
    if context.graphql_document is not None and (context.query is None or "\\u" in context.query):
        visit(context.graphql_document, finder)
    if finder.found or _has_nul(context.variables):
        context.pre_execution_errors = [
            *(context.pre_execution_errors or []),
            GraphQLError(
                "Strings may not contain the NUL character (U+0000).",
                extensions={"code": "BAD_USER_INPUT"},
            ),
        ]


class Forbidden(ClientError):
    """The caller's role may not do this at all (a partner calling a mutation, say)."""

    code = "FORBIDDEN"


class OperationChecks(OperationLimits):
    """Every refusal before validation, in one extension: the operation's limits
    (OperationLimits), then NUL characters. (Strawberry
    spends about fifty calls per request on each extension, whatever its hooks do:
    docs/request-path.md.)"""

    def on_validate(self) -> Iterator[None]:
        self.refuse_before_validation()
        reject_nul_characters(self.execution_context)
        yield
