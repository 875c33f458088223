"""The federated schema: the root Query assembled from the domain modules and resolvers."""

import functools
from contextvars import ContextVar
from typing import Any, cast

import strawberry
from graphql import GraphQLError
from strawberry.federation import Schema
from strawberry.types import ExecutionContext, ExecutionResult

from club.errors import RequestError
from resolvers.context import Context, as_context
from schema import (
    activity,
    countries,
    events,
    incubator,
    invitations,
    organizations,
    statistics,
    viewer,
    working_groups,
)
from schema.compiled.executor import CompiledReads
from schema.domain import merge
from schema.errors import ErrorCodes, classify_all
from schema.fanout import FanOutExecutor
from schema.limits import OperationChecks, ParseCache
from schema.observe import FederatedTracing, Observe
from schema.strawberry_private import SchemaHooks, entity_key_fields, lean_resolvers

# Whether the running operation's caller may not introspect: graphql-core then leaves
# "Did you mean …?" out of its errors while coercing variables too (validation: schema/limits.py).
_HIDE_SUGGESTIONS: ContextVar[bool] = ContextVar("hide_suggestions", default=False)
# Whether the running operation's request asks for a federated trace (ftv1).
_WANTS_TRACE: ContextVar[bool] = ContextVar("wants_trace", default=False)
FTV1_HEADER = "apollo-federation-include-trace"


def _wants_trace(context: Context) -> bool:
    headers = getattr(context.request, "headers", None)
    return headers is not None and headers.get(FTV1_HEADER, "").lower() == "ftv1"


class ClubSchema(SchemaHooks):
    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> ExecutionResult:
        context = as_context(context_value)
        hide = context.principal.role not in context.settings.introspection_roles
        reset = _HIDE_SUGGESTIONS.set(hide)
        reset_trace = _WANTS_TRACE.set(_wants_trace(context))
        try:
            result = await super().execute(query, variable_values, context_value, *args, **kwargs)
        finally:
            _WANTS_TRACE.reset(reset_trace)
            _HIDE_SUGGESTIONS.reset(reset)
        if result.errors:
            # What an extension's hook raised skips the extensions after it (ErrorCodes
            # among them): strawberry answers its message as it is. Classified here too,
            # it is masked and logged as any failure is (the rest are unchanged).
            result.errors = classify_all(result.errors, "execution", context)
        return result

    def runs_extension(self, extension: Any) -> bool:
        # The ftv1 extension only where a gateway asked for a trace: present, it wraps every
        # field's resolver in a middleware call, traced or not (docs/request-path.md).
        return _WANTS_TRACE.get() or not isinstance(extension, FederatedTracing)

    def execution_options(self) -> dict[str, Any]:
        return {"hide_suggestions": _HIDE_SUGGESTIONS.get()}

    @functools.cached_property
    def entity_keys(self) -> dict[str, list[frozenset[str]]]:
        """Each entity type's key field sets, from its @key directives."""
        return entity_key_fields(self)

    def representation_error(self, position: int, representation: object) -> RequestError | None:
        if not isinstance(representation, dict) or representation.get("__typename") not in (
            self.entity_keys
        ):
            names = ", ".join(sorted(self.entity_keys))
            return RequestError.bad_input(
                f"Representation {position} needs a `__typename` among: {names}.",
                field="representations",
            )
        typename = representation["__typename"]
        for key in self.entity_keys[typename]:
            if all(isinstance(representation.get(field), str) for field in key):
                return None
        wanted = " or ".join(", ".join(sorted(key)) for key in self.entity_keys[typename])
        return RequestError.bad_input(
            f"Representation {position} of {typename} needs its key as strings: {wanted}.",
            field="representations",
        )

    def resolve_entities(self, info: strawberry.Info, representations: list[Any]) -> list[Any]:
        """strawberry's resolver, one representation at a time so that a malformed one is a
        BAD_USER_INPUT at its own position (strawberry would fail with an internal error);
        only key fields are passed on, on copies (strawberry pops `__typename` from the
        caller's dicts). Loaders still batch: every position resolves concurrently."""
        results: list[Any] = []
        for position, representation in enumerate(representations):
            if error := self.representation_error(position, representation):
                results.append(error)
                continue
            given = cast(dict[str, Any], representation)
            fields = set().union(*self.entity_keys[given["__typename"]])
            copy = {"__typename": given["__typename"]} | {
                field: value for field, value in given.items() if field in fields
            }
            results.extend(self.strawberry_entities(info, [copy]))
        return results

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Logging happens in `ErrorCodes`: client errors are not logged, unexpected ones are,
        with their traceback; strawberry's default would log every error."""


DOMAINS = (
    viewer.DOMAIN,
    countries.DOMAIN,
    organizations.DOMAIN,
    events.DOMAIN,
    working_groups.DOMAIN,
    invitations.DOMAIN,
    incubator.DOMAIN,
    statistics.DOMAIN,
    activity.DOMAIN,
)
Query = merge("Query", [domain.query for domain in DOMAINS])
Mutation = merge("Mutation", [domain.mutation for domain in DOMAINS])
Subscription = merge("Subscription", [domain.subscription for domain in DOMAINS])


class Executor(CompiledReads, FanOutExecutor):
    """The schema's executor: a query from its compiled plan where one covers it
    (schema/compiled/), a subscription event once for all its subscribers that share an
    answer (schema/fanout.py), and every object counted against the caller's cost budget
    (schema/production.py)."""


def build_schema(*, federated_tracing: bool = True, tracer_provider: Any = None) -> Schema:
    """`tracer_provider`: an OpenTelemetry tracer provider to trace every operation with
    (the `otel` extra); none by default."""
    tracing: list[Any] = [FederatedTracing] if federated_tracing else []
    if tracer_provider is not None:
        from strawberry.extensions.tracing import OpenTelemetryExtension

        # No arguments on spans: mutation inputs (e-mail addresses, say) stay out of traces.
        tracing.append(
            functools.partial(
                OpenTelemetryExtension,
                tracer_provider=tracer_provider,
                arg_filter=lambda arguments, info: {},
            )
        )
    schema = ClubSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        federation_version="2.11",
        # Answers the queries it has a plan for, runs a subscription event once for all its
        # subscribers that share an answer, counts the objects against the cost budget.
        execution_context_class=Executor,
        extensions=[
            ErrorCodes,
            ParseCache,
            # The limits, then NUL characters.
            OperationChecks,
            Observe,
            # Traces only the operations whose request asks for one (a gateway's header).
            *tracing,
        ],
    )
    # Fields with a resolver and no arguments: called directly, not through strawberry's
    # field-extension chain (none of them has an extension; docs/request-path.md).
    lean_resolvers(schema, skip_types=frozenset({"Mutation", "Subscription"}))
    return schema
