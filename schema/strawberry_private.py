"""Every hook into strawberry-graphql's private or undocumented API, in one module.

Written against strawberry-graphql 0.341.2 (`WRITTEN_FOR`). A strawberry upgrade changes these
without notice: tests/graphql/test_strawberry_private.py checks, hook by hook, the shape each
relies on (names, signatures, attributes, and what it does when exercised), and fails with
"strawberry X changed <hook>; re-check schema/strawberry_private.py".

Public, and used elsewhere without a hook: what strawberry's documentation shows or a
package's `__init__` exports — `strawberry.type`/`field`/…, `strawberry.federation.Schema` and
its `execute`, `stream`, `subscribe`, `process_errors`, `get_type_by_name`; `SchemaExtension`
and its hooks (`on_operation`, `on_validate`, `on_parse`, `on_execute`, `on_stream_result`,
`resolve`), `ExecutionContext` and `ExecutionResult` (`strawberry.types`); the built-in
extensions used as shipped; `strawberry.exceptions`; `strawberry.http`'s exports; the ASGI
view's constructor and documented overrides (`get_context`, `process_result`, `encode_json`,
`decode_json`, `on_ws_connect`); `strawberry.subscriptions`' protocol names.

The hooks (each below, with a docstring naming the private thing it touches):
 1. `graphql_core_schema`       — `Schema._schema`
 2. `STRAWBERRY_VALIDATION_RULES` — `strawberry.schema.validation_rules` (not exported)
 3. `validate_instead`          — strawberry skips its validation when an extension has set
                                  `pre_execution_errors` in `on_validate` (`_run_validation`)
 4. `set_parse_limits`          — keys of `ExecutionContext.parse_options` beyond its TypedDict
 5. `shared_parse_cache`        — `ParserCache.cached_parse_document`, shared per `maxsize`
 6. `TracingHooks`              — `ApolloFederationTracingExtension._should_trace`,
                                  `_make_error` and `resolve`
 7. `SchemaHooks.get_extensions` — `Schema.get_extensions`, called once per operation
 8. `SchemaHooks._get_custom_context_kwargs` — graphql-core's execution options
 9. `SchemaHooks.entities_resolver` — the federation schema's `_entities` resolver and
                                  `strawberry.federation.schema.FederationAny`
10. `entity_key_fields`         — the `_Entity` union and
                                  `strawberry.federation.schema_directives.Key`
11. `OperationType`, `CannotGetOperationTypeError`, `InvalidOperationTypeError`,
    `allowed_operation_types`, `http_error_reason` — `strawberry.types.graphql`,
    `strawberry.schema.exceptions`, `OperationType.from_http`, `as_http_error_reason`
12. `PreExecutionError`, `UnsetType`, `HTTPStreamTransport`, `HTTPMethod` — types from
    modules strawberry does not export
13. `ViewHooks`                 — the ASGI view's undocumented methods and attributes
                                  (`execute_operation`, `execute_single`, `parse_http_body`,
                                  `_validate_batch_request`, `_get_stream_transport*`,
                                  `create_response`, `should_render_graphql_ide`,
                                  `graphql_*_handler_class`)
14. `BaseGraphQLTransportWSHandler`, `BaseGraphQLWSHandler` — the WebSocket protocol handlers
    server/websockets.py subclasses (and the former's `on_request_accepted`, which keeps
    the connection_init deadline's task in `connection_init_timeout_task`; its
    `operations`, each operation registered by id as `handle_subscribe` creates its task,
    and `TransportWSOperation`, its `Operation`: `id`, `handler`, `completed`)
15. `add_fields`                — appends fields to an already-decorated type's definition
                                  (`__strawberry_definition__.fields`), for fields a higher
                                  domain contributes, telling them by the `origin` strawberry
                                  records on each field
16. `strawberry_field_of`       — the StrawberryField behind a graphql-core field (the
                                  `"strawberry-definition"` back-reference strawberry's
                                  converter puts in `extensions`)
17. `returns_nullable`          — whether `Info.return_type` (a strawberry type) is
                                  `StrawberryOptional`, for relations that must name a
                                  missing row
18. `ExecutorHooks`             — strawberry's executor class
                                  (`strawberry.schema.schema.StrawberryGraphQLCoreExecutionContext`)
                                  and the methods of graphql-core 3.3's `Executor` that its
                                  documentation calls internal: `complete_object_value`,
                                  `execute_field`, `handle_field_error`,
                                  `build_per_event_executor`, `execute_operation`, and
                                  the `async_helpers` attribute its constructor sets. Written
                                  against graphql-core 3.3.2 (`GRAPHQL_CORE_WRITTEN_FOR`),
                                  checked the same way.
19. `lean_resolvers`            — the resolver strawberry's converter puts on each graphql-core
                                  field (`GraphQLCoreConverter.from_resolver`: its
                                  `extension_resolver` chain, `get_arguments`), the converter's
                                  `_exception_handler_specs`, and `StrawberryResolver`'s
                                  `self_parameter`, `parent_parameter`, `root_parameter`,
                                  `info_parameter`
20. `SchemaHooks.create_extensions_runner`, `LeanOperationContext` — `Schema`'s maker of
                                  each operation's `SchemaExtensionsRunner`, whose
                                  `operation()` context (`OperationContextManager`) reads
                                  its `hooks` only to enter; and `contextlib`'s
                                  `AsyncExitStack._exit_callbacks`
"""

import copy
import functools
import importlib.metadata
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import strawberry
from graphql import (
    ASTValidationRule,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLResolveInfoHelpers,
    GraphQLSchema,
    GraphQLUnionType,
)
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, SchemaExtension
from strawberry.extensions.context import OperationContextManager
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.extensions.tracing.apollo_federation import ApolloFederationTracingExtension
from strawberry.federation import Schema
from strawberry.federation.schema import FederationAny
from strawberry.federation.schema_directives import Key
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, GraphQLRequestProtocol
from strawberry.http.streaming import HTTPStreamTransport
from strawberry.http.types import HTTPMethod
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    Operation as TransportWSOperation,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.base import StrawberryOptional, get_object_definition
from strawberry.types.execution import PreExecutionError
from strawberry.types.field import StrawberryField
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UnsetType

WRITTEN_FOR = "0.341.2"
GRAPHQL_CORE_WRITTEN_FOR = "3.3.2"

__all__ = [
    "GRAPHQL_CORE_WRITTEN_FOR",
    "STRAWBERRY_VALIDATION_RULES",
    "WRITTEN_FOR",
    "BaseGraphQLTransportWSHandler",
    "BaseGraphQLWSHandler",
    "CannotGetOperationTypeError",
    "ExecutorHooks",
    "HTTPMethod",
    "HTTPStreamTransport",
    "InvalidOperationTypeError",
    "OperationType",
    "PreExecutionError",
    "SchemaHooks",
    "TracingHooks",
    "TransportWSOperation",
    "UnsetType",
    "ViewHooks",
    "add_fields",
    "allowed_operation_types",
    "entity_key_fields",
    "graphql_core_schema",
    "http_error_reason",
    "installed_graphql_core",
    "installed_version",
    "lean_resolvers",
    "set_parse_limits",
    "shared_parse_cache",
    "strawberry_field_of",
    "validate_instead",
]


def installed_version() -> str:
    """The strawberry-graphql installed (compare with WRITTEN_FOR)."""
    return importlib.metadata.version("strawberry-graphql")


def installed_graphql_core() -> str:
    """The graphql-core installed (compare with GRAPHQL_CORE_WRITTEN_FOR)."""
    return importlib.metadata.version("graphql-core")


def graphql_core_schema(schema: BaseSchema) -> GraphQLSchema:
    """Touches `Schema._schema`: the graphql-core schema strawberry builds and runs."""
    return schema._schema  # type: ignore[attr-defined,no-any-return]


STRAWBERRY_VALIDATION_RULES: tuple[type[ASTValidationRule], ...] = (
    MaybeNullValidationRule,
    OneOfInputValidationRule,
)
"""Touches `strawberry.schema.validation_rules`: the rules strawberry adds to graphql-core's
specified ones (`validate_document`), for an extension that validates instead of it."""


def validate_instead(execution_context: ExecutionContext, errors: list[GraphQLError]) -> None:
    """Touches strawberry's `_run_validation`: from `on_validate`, before it yields, an
    extension sets the document's errors (none: an empty list), and strawberry then runs no
    validation of its own."""
    execution_context.pre_execution_errors = errors


def set_parse_limits(
    execution_context: ExecutionContext, *, max_tokens: int, max_length: int
) -> None:
    """Touches `ExecutionContext.parse_options`: strawberry passes it to graphql-core's
    `parse` as keyword arguments; its TypedDict lists neither of these two."""
    options: dict[str, Any] = execution_context.parse_options  # type: ignore[assignment]
    options["max_lexical_tokens"] = max_tokens
    options["max_source_length"] = max_length


def shared_parse_cache(extension: ParserCache | None = None) -> Any:
    """Touches `ParserCache.cached_parse_document`: graphql-core's `parse` behind an LRU cache
    that every ParserCache of the same `maxsize` shares (the schema's and the view's)."""
    return (extension or ParserCache()).cached_parse_document


class TracingHooks(ApolloFederationTracingExtension):
    """Touches `ApolloFederationTracingExtension`'s `_should_trace` (set in `on_request_start`
    from the request's header), `resolve` (skipped when no trace is asked for) and
    `_make_error` (the error recorded in the trace, given to `traced_error` first)."""

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._should_trace:
            return _next(root, info, *args, **kwargs)
        return super().resolve(_next, root, info, *args, **kwargs)

    def _make_error(self, e: Exception, info: Any) -> Any:
        return super()._make_error(self.traced_error(e), info)

    def traced_error(self, error: Exception) -> Exception:
        """The error as the trace shows it (subclasses mask)."""
        return error


class LeanOperationContext(OperationContextManager):
    """The `on_operation` hooks of one operation, entered for all its life: for a
    subscription's, as long as its client stays. Once entered, it lets go of what only
    entering needed (the hooks' wrappers, made anew for each operation) and keeps its exit
    callbacks in a list, not a deque (760 bytes even for two): about 1.5 KB less for each
    idle subscriber. Touches `ExtensionContextManagerBase.hooks` (read only to enter) and
    `contextlib.AsyncExitStack._exit_callbacks` (appended to and popped from its end)."""

    async def __aenter__(self) -> None:
        await super().__aenter__()
        self.hooks = []
        stack: Any = self.async_exit_stack
        stack._exit_callbacks = list(stack._exit_callbacks)


class LeanExtensionsRunner(SchemaExtensionsRunner):
    def operation(self) -> OperationContextManager:
        return LeanOperationContext(self.extensions)


class SchemaHooks(Schema):
    """The federation schema's undocumented methods, each handed to a method of ours."""

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        """Touches `Schema.create_extensions_runner`, which makes each operation's runner:
        its `operation()` context is `LeanOperationContext`."""
        return LeanExtensionsRunner(execution_context=execution_context, extensions=extensions)

    def get_extensions(self, sync: bool = False) -> list[Any]:
        """Touches `Schema.get_extensions`: the extension instances of one operation, made
        inside `execute`/`stream`/`subscribe` (a context variable set around them is seen)."""
        return [
            extension
            for extension in super().get_extensions(sync)
            if self.runs_extension(extension)
        ]

    def runs_extension(self, extension: Any) -> bool:
        """Whether this operation runs `extension` (all do, unless a subclass says)."""
        return True

    def _get_custom_context_kwargs(
        self, operation_extensions: dict[str, Any] | None = None, *, sync: bool = False
    ) -> dict[str, Any]:
        """Touches `Schema._get_custom_context_kwargs`: keyword arguments strawberry passes on
        to graphql-core's `execute` / `subscribe` (its ExecutionContext)."""
        return {
            **super()._get_custom_context_kwargs(operation_extensions, sync=sync),
            **self.execution_options(),
        }

    def execution_options(self) -> dict[str, Any]:
        """graphql-core execution options for this operation (`hide_suggestions`, say)."""
        return {}

    def entities_resolver(
        self, info: strawberry.Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        """Touches the federation schema's `entities_resolver`, the resolver of `_entities`
        (strawberry rewrites its return annotation and builds the field from it)."""
        return self.resolve_entities(info, representations)

    def resolve_entities(self, info: strawberry.Info, representations: list[Any]) -> list[Any]:
        """`_entities` (subclasses check the representations first)."""
        return self.strawberry_entities(info, representations)

    def strawberry_entities(self, info: strawberry.Info, representations: list[Any]) -> list[Any]:
        """strawberry's own `_entities`: it pops `__typename` from each representation and
        calls the type's `resolve_reference` with the rest."""
        return super().entities_resolver(info, [FederationAny(r) for r in representations])


def entity_key_fields(schema: Schema) -> dict[str, list[frozenset[str]]]:
    """Touches the `_Entity` union of the graphql-core schema and the `Key` directive objects
    (`strawberry.federation.schema_directives`) on each entity's definition: each entity type's
    key field sets."""
    entity = graphql_core_schema(schema).type_map["_Entity"]
    assert isinstance(entity, GraphQLUnionType)
    keys: dict[str, list[frozenset[str]]] = {}
    for graphql_type in entity.types:
        definition = schema.get_type_by_name(graphql_type.name)
        keys[graphql_type.name] = [
            frozenset(directive.fields.split())
            for directive in getattr(definition, "directives", None) or ()
            if isinstance(directive, Key)
        ]
    return keys


def allowed_operation_types(method: HTTPMethod) -> set[OperationType]:
    """Touches `OperationType.from_http`: the operation types an HTTP method may run."""
    return set(OperationType.from_http(method))


def http_error_reason(
    error: CannotGetOperationTypeError | InvalidOperationTypeError, method: HTTPMethod | None = None
) -> str:
    """Touches the exceptions' `as_http_error_reason`: strawberry's own wording of them."""
    if isinstance(error, InvalidOperationTypeError):
        return error.as_http_error_reason(method or "POST")
    return error.as_http_error_reason()


ContextT = TypeVar("ContextT")
RootValueT = TypeVar("RootValueT")


class ViewHooks(GraphQL[ContextT, RootValueT], Generic[ContextT, RootValueT]):
    """strawberry's ASGI view, its undocumented methods each handed to a method of ours."""

    def use_websocket_handlers(
        self,
        transport_ws: type[BaseGraphQLTransportWSHandler[Any, Any]],
        legacy_ws: type[BaseGraphQLWSHandler[Any, Any]],
    ) -> None:
        """Touches the view's `graphql_transport_ws_handler_class` and
        `graphql_ws_handler_class`: the classes that run each WebSocket protocol."""
        self.graphql_transport_ws_handler_class = transport_ws
        self.graphql_ws_handler_class = legacy_ws

    def should_render_graphql_ide(self, request: Any) -> bool:
        """Touches `should_render_graphql_ide`: whether a request gets the IDE's page."""
        return self.serves_graphql_ide(request)

    def serves_graphql_ide(self, request: Any) -> bool:
        return super().should_render_graphql_ide(request)

    def _get_stream_transport_from_headers(
        self, headers: Mapping[str, str]
    ) -> HTTPStreamTransport | None:
        """Touches `_get_stream_transport_from_headers` and `_get_stream_transport`: which
        streaming transport answers a request (strawberry: any its `Accept` lists)."""
        protocol = self.stream_protocol(headers)
        return self._get_stream_transport(protocol) if protocol else None

    def stream_protocol(self, headers: Mapping[str, str]) -> str | None:
        """The streaming protocol to answer with, or None for a plain response."""
        raise NotImplementedError

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        """Touches `parse_http_body`: the request's operation (or batch), as strawberry
        reads it from the body or the URL."""
        return self.checked_request_data(await super().parse_http_body(request))

    def checked_request_data(
        self, parsed: GraphQLRequestData | list[GraphQLRequestData]
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        return parsed

    def _validate_batch_request(
        self,
        request_data: list[dict[str, Any]],  # type: ignore[override]
        protocol: GraphQLRequestProtocol,
    ) -> None:
        """Touches `_validate_batch_request`: called with the decoded JSON array, before
        strawberry reads its items (strawberry's own checks are replaced, not run)."""
        self.check_batch(request_data, protocol)

    def check_batch(self, request_data: list[dict[str, Any]], protocol: str) -> None:
        super()._validate_batch_request(request_data, protocol)  # type: ignore[arg-type]

    async def execute_operation(
        self,
        request: Any,
        request_adapter: Any,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: ContextT,
        root_value: Any,
        sub_response: Any,
    ) -> Any:
        """Touches `execute_operation`: the request's one operation, or its batch (whose items
        strawberry hands to `execute_single`)."""
        if isinstance(request_data, list):
            await self.before_batch(request, request_data, context)
            return await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
        return await self.run_operation(
            request, request_adapter.method, request_data, context, root_value
        )

    async def before_batch(
        self, request: Any, request_data: list[GraphQLRequestData], context: ContextT
    ) -> None:
        """Called before a batch runs (refuse it by raising)."""

    async def run_operation(
        self,
        request: Any,
        method: HTTPMethod,
        request_data: GraphQLRequestData,
        context: ContextT,
        root_value: Any,
    ) -> Any:
        """One operation of an HTTP request: its result, or a stream of them."""
        raise NotImplementedError

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: ContextT,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Touches `execute_single`: one operation of a batch."""
        return await self.run_batch_item(
            request, request_adapter.method, request_data, context, root_value
        )

    async def run_batch_item(
        self,
        request: Any,
        method: HTTPMethod,
        request_data: GraphQLRequestData,
        context: ContextT,
        root_value: Any,
    ) -> ExecutionResult:
        raise NotImplementedError

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Any,
    ) -> Any:
        """Touches `create_response`: the HTTP response for a result that is not a stream."""
        return self.response_for(response_data, sub_response)

    def response_for(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Any,
    ) -> Any:
        return super().create_response(response_data, sub_response)


def add_fields(target: type, source: type) -> None:
    """Give `target` (a strawberry type) copies of the fields `source` (a strawberry type
    that subclasses it) declares itself. (strawberry records on each field the class that
    declared it, as `origin`.)"""
    target_definition = get_object_definition(target, strict=True)
    source_definition = get_object_definition(source, strict=True)
    taken = {field.python_name for field in target_definition.fields}
    for field in source_definition.fields:
        if field.origin is not source:
            continue  # inherited from target
        if field.python_name in taken:
            raise TypeError(f"{target.__name__} already has a field {field.python_name!r}")
        added = copy.copy(field)
        target_definition.fields.append(added)


def strawberry_field_of(field: GraphQLField) -> StrawberryField | None:
    """The StrawberryField a graphql-core field was built from, if strawberry built it."""
    definition: Any = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    return definition if isinstance(definition, StrawberryField) else None


def strawberry_class_of(type_: GraphQLObjectType) -> type | None:
    """The class a graphql-core object type was built from, if strawberry built it."""
    definition: Any = (type_.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    origin = getattr(definition, "origin", None)
    return origin if isinstance(origin, type) else None


def returns_nullable(info: strawberry.Info[Any, Any]) -> bool:
    """Whether the field being resolved may answer null (its strawberry type is optional)."""
    return isinstance(info.return_type, StrawberryOptional)


class ExecutorHooks(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor (graphql-core's IncrementalExecutor, with strawberry's resolve
    info), its internal methods each handed to a method of ours. Touches graphql-core's
    `Executor.complete_object_value` (called once for each object value the response holds,
    list items included, with its concrete type, before its fields run), `execute_field`
    (called for each field; a root field's path has no parent; mutations' root fields one
    after the other), `handle_field_error` (nulls the field, or raises to its nearest
    nullable parent, and collects the error), `build_per_event_executor` (a copy of the
    executor for each event of a subscription) and `execute_operation` (what
    graphql-core's `execute_subscription_event` calls on that copy). Pass the class as the schema's
    `execution_context_class`.

    graphql-core's constructor keeps `async_helpers`, a tuple of two of the executor's own
    bound methods: a reference cycle, which kept each request's executor, and with it its
    Context, variables and rows, alive until the collector's next run. With the server's
    thresholds (settings.gc_thresholds) that run came every few hundred requests and took
    tens of milliseconds (about 7 % of the CPU of `_entities` of 100 organizations, S4, in
    the collections alone).
    Here the helpers are made when a field's resolve info asks for them, and not kept."""

    @property
    def async_helpers(self) -> GraphQLResolveInfoHelpers:
        return GraphQLResolveInfoHelpers(gather=self.gather_async_work, track=self.track_async_work)

    @async_helpers.setter
    def async_helpers(self, helpers: GraphQLResolveInfoHelpers) -> None:
        """graphql-core's constructor sets it: made on each use instead (see above)."""

    def complete_object_value(
        self,
        return_type: Any,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        self.completing_object(return_type)
        return super().complete_object_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        if path.prev is None:
            try:
                self.starting_root_field(path.key)
            except Exception as error:  # the field is null with this error; it does not run
                definition = self.schema.get_field(
                    parent_type, field_details_list[0].node.name.value
                )
                assert definition is not None
                self.handle_field_error(error, definition.type, field_details_list, path)
                return None
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    # Whether this copy runs one event of a subscription (set on the copy only).
    runs_event = False

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        assert isinstance(executor, ExecutorHooks)
        executor.runs_event = True
        executor.starting_event()
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        if self.runs_event:
            return self.execute_event(functools.partial(super().execute_operation, serially))
        return super().execute_operation(serially)

    def completing_object(self, object_type: GraphQLObjectType) -> None:
        """Before an object's fields run: raise to make it (or its nearest nullable
        ancestor) null with that error."""

    def starting_root_field(self, response_name: str) -> None:
        """Before a root field runs (its response name: the alias, or the field's name):
        raise to make it null with that error without running it."""

    def starting_event(self) -> None:
        """On the copy of the executor that runs one event of a subscription."""

    def execute_event(self, execute: Callable[[], Any]) -> Any:
        """Run one event of a subscription: `execute()` runs the selection on this copy
        (its root value is the event) and returns graphql-core's result or an awaitable of
        it; return either (subclasses may answer without running it)."""
        return execute()


def lean_resolvers(schema: Schema, *, skip_types: frozenset[str]) -> int:
    """Touches each graphql-core field's `resolve`, as strawberry's converter built it
    (`GraphQLCoreConverter.from_resolver`), and `StrawberryResolver`'s parameter
    introspection: a field with a resolver of its own, no arguments, no field extension and
    no exception handler gets a resolver that calls it directly. strawberry's wraps every
    such call in its field-extension chain (`extension_resolver`: argument conversion, a
    `functools.reduce` over no extensions, a `partial`) and, for an async resolver, one more
    coroutine that awaits the first; that was about a seventh of the CPU of a nested walk
    (docs/request-path.md). What the resolver receives is unchanged: the parent as `self`,
    `root` or `parent` if it asks, and the same strawberry `Info`. Returns how many fields it
    changed. `skip_types`: types left as strawberry built them (the root Mutation and
    Subscription types)."""
    converter = schema.schema_converter
    if getattr(converter, "_exception_handler_specs", ()):
        return 0  # handlers turn exceptions into results: strawberry's wrapper does that
    info_class = schema.config.info_class
    changed = 0
    for graphql_type in graphql_core_schema(schema).type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name in skip_types:
            continue
        if graphql_type.name.startswith("__"):
            continue
        for graphql_field in graphql_type.fields.values():
            field = strawberry_field_of(graphql_field)
            if (
                field is None
                or field.base_resolver is None
                or not callable(field.base_resolver.wrapped_func)
                or field.extensions
                or field.arguments
                or field.is_subscription
            ):
                continue
            graphql_field.resolve = _direct_resolver(field, info_class)
            changed += 1
    return changed


def _direct_resolver(field: StrawberryField, info_class: Any) -> Any:
    resolver = field.base_resolver
    assert resolver is not None
    pass_self = resolver.self_parameter is not None
    source_names = tuple(
        parameter.name
        for parameter in (resolver.parent_parameter, resolver.root_parameter)
        if parameter is not None
    )
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None
    call: Any = resolver.wrapped_func

    def resolve(source: Any, info: Any) -> Any:
        kwargs: dict[str, Any] = {name: source for name in source_names}
        if info_name is not None:
            kwargs[info_name] = info_class(_raw_info=info, _field=field)
        return call(source, **kwargs) if pass_self else call(**kwargs)

    resolve._is_default = False  # type: ignore[attr-defined]  # as strawberry marks its own
    return resolve
