"""Refusals before execution, for every transport: a mutation without a token (ANONYMOUS),
trusted documents, introspection, the
size of the operation (depth, aliases, directives, root fields, introspection selections),
validation, and the cost budget; and the refusal of an operation over a WebSocket beyond its
rate limit (spent in server/app.py, for every transport, before the schema sees it).

Each refusal is one error with its own `extensions.code`, and nothing runs. The size
checks come before graphql-core's validation, whose overlapping-fields rule is quadratic
in the fields of a selection set: an alias bomb is refused before it can cost that.
"""

import contextlib
import functools
import hashlib
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import orjson
from graphql import (
    BREAK,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    Lexer,
    OperationType,
    Source,
    StringValueNode,
    TokenKind,
    Visitor,
    get_operation_ast,
    specified_rules,
    validate,
    visit,
)
from strawberry.extensions import ParserCache, SchemaExtension
from strawberry.types import ExecutionContext

from club.access import callers
from club.enums import Role
from club.errors import RequestError
from club.list_sizes import ObservedSizes
from club.ratelimit import Verdict
from club.settings import Settings
from resolvers.context import Context, context_of
from schema.cost import OperationSize, measure
from schema.errors import as_graphql_error
from schema.strawberry_private import (
    STRAWBERRY_VALIDATION_RULES,
    graphql_core_schema,
    set_parse_limits,
    shared_parse_cache,
    validate_instead,
)

VALIDATION_RULES = (*specified_rules, *STRAWBERRY_VALIDATION_RULES)


def limit_error(code: str, message: str, **details: object) -> GraphQLError:
    """A limit's refusal, before execution: a RequestError as graphql-core reports errors."""
    return as_graphql_error(RequestError(code, message, **details))


def rate_limit_refusal(verdict: Verdict) -> GraphQLError:
    """An operation over a WebSocket beyond its token's budget."""
    return limit_error(
        "RATE_LIMITED",
        f"Too many requests; retry in {verdict.retry_after_header} s.",
        retryAfter=int(verdict.retry_after_header),
    )


def count_tokens(query: str, limit: int) -> int:
    """Lexical tokens in `query` (comments excluded, as the parser counts), up to limit + 1."""
    lexer = Lexer(Source(query))
    count = 0
    try:
        while lexer.advance().kind is not TokenKind.EOF and count <= limit:
            count += 1
    except GraphQLError:
        pass  # a syntax error; the parser reports it
    return count


@functools.lru_cache(maxsize=256)
def _validate(
    schema: GraphQLSchema, query: str, document: DocumentNode, hide_suggestions: bool
) -> list[GraphQLError]:
    # Keyed by the query text (the document comes from the parse cache along with it).
    errors = validate(schema, document, VALIDATION_RULES, hide_suggestions=hide_suggestions)
    for error in errors:
        _without_tracebacks(error)
    return errors


def _without_tracebacks(error: BaseException) -> None:
    """An error kept by the cache above, without the tracebacks it and the exceptions it
    came from hold (a literal a scalar refused keeps the scalar's exception as
    `original_error`). A traceback holds its frames and, through them, every frame that
    called them, down to the request's: each cached refusal kept that request's Context,
    and all it held, alive for as long as the entry (tests/http/test_reference_cycles.py).
    A validation error's message, locations and code do not need them."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        pending += [current.__cause__, current.__context__]
        if isinstance(current, GraphQLError):
            pending.append(current.original_error)


def _validate_document(
    schema: GraphQLSchema, query: str | None, document: DocumentNode, hide_suggestions: bool
) -> list[GraphQLError]:
    if query is None:
        return validate(schema, document, VALIDATION_RULES, hide_suggestions=hide_suggestions)
    return _validate(schema, query, document, hide_suggestions)


def _measure(
    schema: GraphQLSchema,
    query: str | None,
    document: DocumentNode,
    variables: dict[str, Any] | None,
    page_sizes: tuple[int, int],
    observed: ObservedSizes | None = None,
) -> list[OperationSize]:
    if query is None:
        return _measure_now(schema, document, variables, page_sizes, observed)
    # The same text with the same variables measures the same: measured once. The key holds
    # the variables' digest, never the variables themselves (nor the document): a caller
    # sending large distinct variables must not fill the memory of the process with them.
    variables_json = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS) if variables else b""
    # A new snapshot of list sizes (each refresh) measures anew.
    key = (schema, query, hashlib.sha256(variables_json).digest(), page_sizes, observed)
    sizes = _MEASURED.get(key)
    if sizes is None:
        sizes = _measure_now(schema, document, variables, page_sizes, observed)
        _MEASURED[key] = sizes
        if len(_MEASURED) > _MEASURED_ENTRIES:
            _MEASURED.popitem(last=False)
    else:
        _MEASURED.move_to_end(key)
    return sizes


# The measurements of recent (query, variables) pairs, least recently used first.
_MEASURED: OrderedDict[
    tuple[GraphQLSchema, str, bytes, tuple[int, int], ObservedSizes | None], list[OperationSize]
] = OrderedDict()
_MEASURED_ENTRIES = 256


def _measure_now(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: dict[str, Any] | None,
    page_sizes: tuple[int, int],
    observed: ObservedSizes | None,
) -> list[OperationSize]:
    return measure(
        schema,
        document,
        variables,
        default_page_size=page_sizes[0],
        max_page_size=page_sizes[1],
        observed=observed,
    )


def size_refusals(size: OperationSize, settings: Settings) -> list[GraphQLError]:
    name = f"`{size.name}`" if size.name else "The operation"
    checks = [
        ("DEPTH_LIMIT_EXCEEDED", size.depth, settings.max_depth, "nests fields {} deep"),
        ("ALIAS_LIMIT_EXCEEDED", size.aliases, settings.max_aliases, "uses {} aliases"),
        (
            "FIELD_LIMIT_EXCEEDED",
            size.widest,
            settings.max_fields_per_selection,
            "selects {} fields in one selection set",
        ),
        ("DIRECTIVE_LIMIT_EXCEEDED", size.directives, settings.max_directives, "has {} directives"),
        (
            "ROOT_FIELD_LIMIT_EXCEEDED",
            size.root_fields,
            settings.max_root_fields,
            "has {} root fields",
        ),
        (
            "INTROSPECTION_LIMIT_EXCEEDED",
            size.introspection,
            settings.max_introspection_fields,
            "selects `__schema`, `__type` or `_service` {} times",
        ),
    ]
    return [
        limit_error(
            code,
            f"{name} {what.format(measured)}; the limit is {limit}.",
            limit=limit,
            measured=measured,
        )
        for code, measured, limit, what in checks
        if measured > limit
    ]


def anonymous_mutation_refusal(
    role: Role, document: DocumentNode, operation_name: str | None
) -> GraphQLError | None:
    """FORBIDDEN for a mutation without a token (ANONYMOUS), before anything else, whatever
    the mutation; each mutation's own role check (resolvers/mutations.py) would refuse it
    too, once it had started."""
    if role is not Role.ANONYMOUS:
        return None
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.MUTATION:
        return None
    return as_graphql_error(
        RequestError.forbidden(
            "A request without a token may only read public fields; send "
            "`Authorization: Bearer <token>` to run a mutation."
        )
    )


def operation_refusals(
    schema: GraphQLSchema,
    context: Context,
    query: str | None,
    document: DocumentNode,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> list[GraphQLError]:
    """Everything refused before execution, in order (the first kind found is reported):
    an anonymous mutation, a document not among the trusted ones, introspection, the
    operation's size, validation, the cost estimate. Empty: the operation may run. (The
    limits' extension below, and the compiled short path: server/app.py.)"""
    settings = context.settings
    role = context.principal.role

    refusal = anonymous_mutation_refusal(role, document, operation_name)
    if refusal is not None:
        return [refusal]

    persisted = context.persisted
    who = callers(role)
    if role in settings.trusted_documents_roles and (
        persisted is None or query is None or not persisted.is_trusted(query)
    ):
        return [
            limit_error(
                "PERSISTED_QUERY_NOT_IN_LIST",
                f"{who[:1].upper()}{who[1:]} may run only registered operations; send a "
                "registered document or its `persistedQuery` hash.",
            )
        ]

    sizes = _measure(
        schema,
        query,
        document,
        variables,
        (settings.default_page_size, settings.max_page_size),
        None if context.list_sizes is None else context.list_sizes.current,
    )
    may_introspect = role in settings.introspection_roles
    if not may_introspect and any(size.introspection for size in sizes):
        return [limit_error("INTROSPECTION_DISABLED", f"Introspection is off for {who}.")]
    refused = [error for size in sizes for error in size_refusals(size, settings)]
    if refused:
        return refused

    errors = _validate_document(schema, query, document, hide_suggestions=not may_introspect)
    if errors:
        return errors

    budget = settings.cost_budget(role)
    return [
        limit_error(
            "COST_LIMIT_EXCEEDED",
            f"{f'`{size.name}`' if size.name else 'The operation'} could return about "
            f"{size.cost} objects; the budget of {who} is {budget}. Ask for smaller "
            "pages (`first`) or fewer nested lists.",
            limit=budget,
            measured=size.cost,
        )
        for size in sizes
        if size.cost > budget
    ]


class OperationLimits(SchemaExtension):
    """Replaces strawberry's ValidationCache: validation is cached here too, by query text
    and by whether field suggestions are hidden."""

    def on_validate(self) -> Iterator[None]:
        self.refuse_before_validation()
        yield

    def refuse_before_validation(self) -> None:
        execution = self.execution_context
        document = execution.graphql_document
        if document is not None and execution.pre_execution_errors is None:
            refusals = operation_refusals(
                graphql_core_schema(execution.schema),
                context_of(execution),
                execution.query,
                document,
                execution.variables,
                execution.operation_name,
            )
            validate_instead(execution, refusals)


class _StoppedAtLimit(GraphQLError):
    """A syntax error that was a limit: the class only stops it counting as a syntax error
    (a GraphQLError's own layout differs from GraphQLSyntaxError's, so it cannot be one)."""


class ParseCache(ParserCache):
    """strawberry's ParserCache, with the document length and token limits, except that a
    syntax error is left to strawberry's own parse step, where it becomes an ordinary error
    result: raised from the cache's hook it would skip every extension's `on_operation`, so
    it would leave without an error code."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        settings = context_of(context).settings
        tokens, length = settings.max_tokens, settings.max_document_length
        # graphql-core refuses a longer document before reading it, and stops parsing at the
        # token limit; strawberry's own parse uses these options too. (The length bounds the
        # memory of the parse, validation and persisted-query caches: comments are not
        # tokens.)
        set_parse_limits(context, max_tokens=tokens, max_length=length)
        # On a syntax error strawberry parses again and reports it like any other error.
        with contextlib.suppress(GraphQLSyntaxError):
            context.graphql_document = shared_parse_cache(self)(
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
            error.__class__ = _StoppedAtLimit
            error.message = message
            error.extensions = {"code": code, "limit": limit}


class _FindNul(Visitor):
    found = False

    def enter_string_value(self, node: StringValueNode, *_: Any) -> Any:
        if "\x00" in node.value:
            self.found = True
            return BREAK
        return None


def _has_nul(value: Any) -> bool:
    if value is None:
        return False
    try:
        # orjson writes U+0000 as the escape `\u0000`, and nothing else as those bytes but a
        # string holding them after a backslash of its own (checked by the walk): one pass
        # in C over variables that have none (100 representations, say), the walk otherwise.
        if b"\\u0000" not in orjson.dumps(value):
            return False
    except TypeError:
        pass  # not JSON (a WebSocket's variables are, an in-process caller's may not be)
    return _holds_nul(value)


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def has_nul_character(
    query: str | None, document: DocumentNode | None, variables: dict[str, Any] | None
) -> bool:
    """Whether an input string of the operation, in its document or its variables, holds
    U+0000."""
    # A NUL reaches a string value raw (graphql-core 3.3's lexer takes any Unicode scalar
    # value in a string, and a JSON body's "\u0000" arrives as one) or as an escape
    # (`\u0000`, `\u{0}`): a document with neither needs no walk.
    if document is not None and (query is None or "\\u" in query or "\x00" in query):
        finder = _FindNul()
        visit(document, finder)
        if finder.found:
            return True
    return _has_nul(variables)


def reject_nul_characters(context: ExecutionContext) -> None:
    """No input string may hold U+0000: PostgreSQL cannot store or compare it, so it would
    fail deep in a query (failing the other lookups batched with it), while SQLite would
    accept it. Refused up front, the same way on both (added to what was refused before)."""
    if has_nul_character(context.query, context.graphql_document, context.variables):
        validate_instead(
            context,
            [
                *(context.pre_execution_errors or []),
                GraphQLError(
                    "Strings may not contain the NUL character (U+0000).",
                    extensions={"code": "BAD_USER_INPUT"},
                ),
            ],
        )


class OperationChecks(OperationLimits):
    """Every refusal before validation, in one extension: the operation's limits
    (OperationLimits), then NUL characters. (Strawberry
    spends about fifty calls per request on each extension, whatever its hooks do:
    docs/request-path.md.)"""

    def on_validate(self) -> Iterator[None]:
        self.refuse_before_validation()
        reject_nul_characters(self.execution_context)
        yield
