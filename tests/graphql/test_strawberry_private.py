"""Each hook of schema/strawberry_private.py against the strawberry installed: the names,
signatures and behaviour it relies on, as of the version it was written for (WRITTEN_FOR).
A failure names the hook: re-check it there, then update WRITTEN_FOR."""

import contextlib
import enum
import inspect
import re
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, get_args

import pytest
import strawberry
from graphql import GraphQLObjectType, GraphQLSchema
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, SchemaExtension
from strawberry.extensions.context import ExtensionContextManagerBase
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.extensions.tracing.apollo_federation import ApolloFederationTracingExtension
from strawberry.http import async_base_view
from strawberry.schema import schema as strawberry_schema
from strawberry.schema import validation_rules
from strawberry.types import ExecutionResult

from schema import strawberry_private as private
from schema.root import build_schema

INSTALLED = private.installed_version()


def changed(hook: str) -> str:
    return (
        f"strawberry {INSTALLED} changed {hook} (written for {private.WRITTEN_FOR}); "
        "re-check schema/strawberry_private.py"
    )


def parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


@strawberry.enum
class Kind(enum.Enum):
    MEMBER = "MEMBER"
    GUEST = "GUEST"


@strawberry.federation.type(keys=["id"])
class Thing:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "Thing":
        return cls(id=id)


@strawberry.type
class Query:
    @strawberry.field
    def echo(self, kind: Kind) -> Kind:
        return kind

    @strawberry.field
    def thing(self) -> Thing:
        return Thing(id=strawberry.ID("1"))


class Recording(SchemaExtension):
    """Records that its hooks ran."""

    ran: list[str] = []

    def on_operation(self) -> Iterator[None]:
        Recording.ran.append("on_operation")
        yield


def test_graphql_core_schema() -> None:
    assert isinstance(private.graphql_core_schema(build_schema()), GraphQLSchema), changed(
        "Schema._schema"
    )


def test_strawberry_validation_rules() -> None:
    rules = {name for name in dir(validation_rules) if not name.startswith("_")}
    source = inspect.getsource(strawberry_schema.validate_document)
    assert {"maybe_null", "one_of"} <= rules, changed("strawberry.schema.validation_rules")
    assert all(rule.__name__ in source for rule in private.STRAWBERRY_VALIDATION_RULES), changed(
        "the rules validate_document adds"
    )
    assert source.count("ValidationRule,") == len(private.STRAWBERRY_VALIDATION_RULES), changed(
        "the rules validate_document adds"
    )


class ValidatesInstead(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        private.validate_instead(self.execution_context, [])
        yield


async def test_validate_instead() -> None:
    query = "{ echo(kind: MEMBER) missing }"
    validated = await strawberry.federation.Schema(query=Query).execute(query)
    assert [error.message for error in validated.errors or []] == [
        "Cannot query field 'missing' on type 'Query'."
    ]
    taken_over = await strawberry.federation.Schema(
        query=Query, extensions=[ValidatesInstead]
    ).execute(query)
    assert (taken_over.data, taken_over.errors) == ({"echo": "MEMBER"}, None), changed(
        "skipping validation once pre_execution_errors is set (_run_validation)"
    )


class ThreeTokens(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        private.set_parse_limits(self.execution_context, max_tokens=3, max_length=100)
        yield


async def test_set_parse_limits() -> None:
    schema = strawberry.federation.Schema(query=Query, extensions=[ThreeTokens])
    too_many = await schema.execute("{ echo(kind: MEMBER) }")
    assert [error.message for error in too_many.errors or []] == [
        "Syntax Error: Document contains more than 3 tokens. Parsing aborted."
    ], changed("ExecutionContext.parse_options")
    too_long = await schema.execute("{" + " " * 100 + "}")
    assert [error.message for error in too_long.errors or []] == [
        "Syntax Error: Source contains more than 100 code points. Parsing aborted."
    ], changed("ExecutionContext.parse_options")


def test_shared_parse_cache() -> None:
    parse = private.shared_parse_cache()
    assert parse is private.shared_parse_cache(ParserCache()), changed(
        "ParserCache.cached_parse_document (one cache per maxsize)"
    )
    assert parse("{ a }", max_lexical_tokens=5) is parse("{ a }", max_lexical_tokens=5), changed(
        "ParserCache.cached_parse_document"
    )


def test_tracing_hooks() -> None:
    extension = ApolloFederationTracingExtension
    assert parameters(extension._make_error) == ["self", "e", "info"], changed(
        "ApolloFederationTracingExtension._make_error"
    )
    assert parameters(extension.resolve) == ["self", "_next", "root", "info", "args", "kwargs"], (
        changed("ApolloFederationTracingExtension.resolve")
    )
    assert "self._should_trace = self._check_should_trace()" in inspect.getsource(
        extension.on_operation
    ), changed("ApolloFederationTracingExtension._should_trace")
    module = inspect.getmodule(extension)
    assert module is not None
    assert inspect.getsource(module).count("self._make_error(e, info)") == 2, changed(
        "where ApolloFederationTracingExtension records an error"
    )
    assert not private.TracingHooks()._should_trace, changed(
        "ApolloFederationTracingExtension._should_trace"
    )


class WithoutRecording(private.SchemaHooks):
    def runs_extension(self, extension: Any) -> bool:
        return not isinstance(extension, Recording)

    def execution_options(self) -> dict[str, Any]:
        return {"hide_suggestions": True}


BAD_KIND = "query ($kind: Kind!) { echo(kind: $kind) }"


async def test_schema_hooks_get_extensions() -> None:
    Recording.ran.clear()
    await private.SchemaHooks(query=Query, extensions=[Recording]).execute("{ thing { id } }")
    assert Recording.ran == ["on_operation"]
    Recording.ran.clear()
    await WithoutRecording(query=Query, extensions=[Recording]).execute("{ thing { id } }")
    assert Recording.ran == [], changed("Schema.get_extensions")


async def test_schema_hooks_custom_context_kwargs() -> None:
    assert parameters(strawberry.federation.Schema._get_custom_context_kwargs) == [
        "self",
        "operation_extensions",
        "sync",
    ], changed("Schema._get_custom_context_kwargs")
    variables = {"kind": "MEMBR"}
    shown = await private.SchemaHooks(query=Query).execute(BAD_KIND, variable_values=variables)
    hidden = await WithoutRecording(query=Query).execute(BAD_KIND, variable_values=variables)
    assert [error.message for error in shown.errors or []] == [
        "Variable '$kind' has invalid value: Value 'MEMBR' does not exist in 'Kind' enum. "
        "Did you mean the enum value 'MEMBER'?"
    ]
    assert [error.message for error in hidden.errors or []] == [
        "Variable '$kind' has invalid value: Value 'MEMBR' does not exist in 'Kind' enum."
    ], changed("Schema._get_custom_context_kwargs (graphql-core's execution options)")


class CheckedEntities(private.SchemaHooks):
    seen: list[Any] = []

    def resolve_entities(self, info: strawberry.Info, representations: list[Any]) -> list[Any]:
        CheckedEntities.seen = [dict(representation) for representation in representations]
        return self.strawberry_entities(info, representations)


async def test_schema_hooks_entities_resolver() -> None:
    assert parameters(strawberry.federation.Schema.entities_resolver) == [
        "self",
        "info",
        "representations",
    ], changed("the federation Schema.entities_resolver")
    schema = CheckedEntities(query=Query)
    result = await schema.execute(
        'query { _entities(representations: [{__typename: "Thing", id: "7"}]) '
        "{ ... on Thing { id } } }"
    )
    assert (result.data, result.errors) == ({"_entities": [{"id": "7"}]}, None), changed(
        "the federation Schema.entities_resolver"
    )
    assert CheckedEntities.seen == [{"__typename": "Thing", "id": "7"}], changed(
        "the federation Schema.entities_resolver"
    )


def test_entity_key_fields() -> None:
    keys = private.entity_key_fields(build_schema())
    # Two entities of today, whatever others a new domain adds.
    assert (keys["Country"], keys["Organization"]) == (
        [frozenset({"id"}), frozenset({"code"})],
        [frozenset({"id"})],
    ), changed("the _Entity union or the Key directive objects")


def test_operation_types_and_their_errors() -> None:
    operation = private.OperationType
    assert private.allowed_operation_types("GET") == {
        operation.QUERY,
        operation.SUBSCRIPTION,
    }, changed("OperationType.from_http")
    assert private.allowed_operation_types("POST") == set(operation), changed(
        "OperationType.from_http"
    )
    assert (
        private.http_error_reason(private.InvalidOperationTypeError(operation.MUTATION), "GET")
        == "mutations are not allowed when using GET"
    ), changed("InvalidOperationTypeError.as_http_error_reason")
    assert private.InvalidOperationTypeError(operation.MUTATION).operation_type is (
        operation.MUTATION
    ), changed("InvalidOperationTypeError.operation_type")
    assert (
        private.http_error_reason(private.CannotGetOperationTypeError("Missing"))
        == 'Unknown operation named "Missing".'
    ), changed("CannotGetOperationTypeError.as_http_error_reason")


def test_types_from_unexported_modules() -> None:
    assert issubclass(private.PreExecutionError, ExecutionResult), changed("PreExecutionError")
    assert private.PreExecutionError(data=None, errors=[]).errors == [], changed(
        "PreExecutionError"
    )
    assert isinstance(strawberry.UNSET, private.UnsetType), changed("UnsetType")
    assert set(get_args(private.HTTPMethod)) >= {"GET", "POST"}, changed("HTTPMethod")
    assert hasattr(private.HTTPStreamTransport, "accepts"), changed("HTTPStreamTransport")


VIEW_METHODS = {
    "execute_operation": [
        "self",
        "request",
        "request_adapter",
        "request_data",
        "context",
        "root_value",
        "sub_response",
    ],
    "execute_single": [
        "self",
        "request",
        "request_adapter",
        "sub_response",
        "context",
        "root_value",
        "request_data",
    ],
    "parse_http_body": ["self", "request"],
    "_validate_batch_request": ["self", "request_data", "protocol"],
    "_get_stream_transport_from_headers": ["self", "headers"],
    "_get_stream_transport": ["self", "protocol"],
    "create_response": ["self", "response_data", "sub_response"],
    "should_render_graphql_ide": ["self", "request"],
}


@pytest.mark.parametrize("name", sorted(VIEW_METHODS))
def test_view_hooks(name: str) -> None:
    assert parameters(getattr(GraphQL, name)) == VIEW_METHODS[name], changed(f"the view's {name}")
    calls = inspect.getsource(async_base_view).count(f"self.{name}(")
    assert calls >= 1, changed(f"where the view calls {name}")


def test_view_attributes() -> None:
    for name in ("graphql_transport_ws_handler_class", "graphql_ws_handler_class"):
        assert f"self.{name}(" in inspect.getsource(async_base_view), changed(f"the view's {name}")


def test_lean_operation_context() -> None:
    """SchemaHooks makes each operation's extensions runner (LeanExtensionsRunner), whose
    operation context lets go of its hooks once entered and keeps its exit callbacks in a
    list: strawberry must make the runner through `create_extensions_runner`, read `hooks`
    only to enter, and leave the rest to the exit stack, which must use its callbacks as a
    stack (append, pop from the end)."""
    module = inspect.getsource(strawberry_schema)
    maker = inspect.getsource(strawberry_schema.Schema.create_extensions_runner)
    assert module.count("SchemaExtensionsRunner(") == maker.count("SchemaExtensionsRunner("), (
        changed("Schema (a runner made elsewhere than create_extensions_runner)")
    )
    assert module.count("self.create_extensions_runner(") >= 3, changed("Schema's runners")
    runner = inspect.getsource(SchemaExtensionsRunner.operation)
    assert "OperationContextManager(self.extensions)" in runner, changed("the runner's operation")
    base = ExtensionContextManagerBase
    assert "self.hooks" not in inspect.getsource(base.__aexit__), changed("__aexit__ (hooks)")
    assert "self.async_exit_stack.__aexit__(" in inspect.getsource(base.__aexit__), changed(
        "__aexit__"
    )
    stack = inspect.getsource(contextlib._BaseExitStack) + inspect.getsource(
        contextlib.AsyncExitStack
    )
    uses = set(re.findall(r"self\._exit_callbacks\.(\w+)", stack))
    assert uses <= {"append", "pop"}, f"contextlib's exit stack uses {uses}: re-check"
    lean = private.LeanExtensionsRunner(execution_context=None, extensions=[])  # type: ignore[arg-type]
    assert isinstance(lean.operation(), private.LeanOperationContext)


def test_websocket_handlers() -> None:
    """server/websockets.py hands strawberry's protocol handlers a stand-in for the schema
    and wraps the methods that start an operation: another version may name or call them
    differently, and the stand-in would silently stop being used."""
    for handler, starts, runs, call in (
        (
            private.BaseGraphQLTransportWSHandler,
            "handle_subscribe",
            "run_operation",
            "self.schema.stream(",
        ),
        (
            private.BaseGraphQLWSHandler,
            "handle_start",
            "handle_async_results",
            "self.schema.subscribe(",
        ),
    ):
        hook = f"{handler.__name__}.{starts}"
        assert parameters(getattr(handler, starts)) == ["self", "message"], changed(hook)
        assert "schema" in inspect.signature(handler.__init__).parameters, changed(hook)
        source = inspect.getsource(getattr(handler, runs))
        assert call in source and "context_value=self.context" in source, changed(hook)
        assert "asyncio.create_task" in inspect.getsource(getattr(handler, starts)), changed(hook)
    legacy = inspect.getsource(private.BaseGraphQLWSHandler)
    for used in ("self.connection_acknowledged", "self.websocket", "async def send_message"):
        assert used in legacy, changed(f"BaseGraphQLWSHandler ({used})")
    # GraphQLTransportWSHandler drops the connection_init deadline's task once it is done.
    accepted = inspect.getsource(private.BaseGraphQLTransportWSHandler.on_request_accepted)
    assert "self.connection_init_timeout_task = asyncio.create_task(" in accepted, changed(
        "BaseGraphQLTransportWSHandler.on_request_accepted"
    )
    # A round sends through the operation strawberry registered by id as handle_subscribe
    # created its task (server/websockets.py's OperationRoute), while it is still the
    # connection's; its messages go through the handler's send_message.
    subscribe = inspect.getsource(private.BaseGraphQLTransportWSHandler.handle_subscribe)
    assert 'self.operations[message["id"]] = operation' in subscribe, changed(
        "BaseGraphQLTransportWSHandler.handle_subscribe (operations)"
    )
    assert private.TransportWSOperation.__slots__ is not None
    for attribute in ("id", "handler", "completed"):
        assert attribute in private.TransportWSOperation.__slots__, changed(
            f"graphql_transport_ws Operation.{attribute}"
        )
    send_next = inspect.getsource(private.TransportWSOperation.send_next)
    assert 'next_payload: NextMessagePayload = {"data": execution_result.data}' in send_next, (
        changed("Operation.send_next (a result without errors or extensions sends only data)")
    )
    assert "self.handler.send_message(message)" in inspect.getsource(
        private.TransportWSOperation.send_operation_message
    ), changed("Operation.send_operation_message")


@strawberry.type
class Lower:
    id: int


@strawberry.type
class Contributed(Lower):
    @strawberry.field
    def doubled(self) -> int:
        return self.id * 2


@strawberry.type
class LowerQuery:
    @strawberry.field
    def lower(self) -> Lower:
        return Lower(id=21)


async def test_add_fields() -> None:
    private.add_fields(Lower, Contributed)
    result = await strawberry.federation.Schema(query=LowerQuery).execute(
        "{ lower { id doubled } }"
    )
    assert (result.data, result.errors) == ({"lower": {"id": 21, "doubled": 42}}, None), changed(
        "a type's __strawberry_definition__.fields or a field's origin"
    )
    with pytest.raises(TypeError, match="Lower already has a field 'doubled'"):
        private.add_fields(Lower, Contributed)


def test_strawberry_field_of() -> None:
    schema = private.graphql_core_schema(strawberry.federation.Schema(query=Query))
    query_type = schema.query_type
    assert query_type is not None
    field = private.strawberry_field_of(query_type.fields["echo"])
    assert field is not None and field.python_name == "echo", changed(
        "the converter's strawberry-definition back-reference"
    )


@strawberry.type
class NullableProbe:
    @strawberry.field
    def maybe(self, info: strawberry.Info) -> int | None:
        return int(private.returns_nullable(info))

    @strawberry.field
    def surely(self, info: strawberry.Info) -> int:
        return int(private.returns_nullable(info))


async def test_returns_nullable() -> None:
    result = await strawberry.Schema(query=NullableProbe).execute("{ maybe surely }")
    assert (result.data, result.errors) == ({"maybe": 1, "surely": 0}, None), changed(
        "Info.return_type or StrawberryOptional"
    )


def test_run_streams_with_the_protocol_set_on_the_request_data() -> None:
    # execute_operation picks a stream for a subscription by setting
    # `request_data.protocol`; strawberry's run() must read it after execute_operation.
    source = inspect.getsource(async_base_view.AsyncBaseHTTPView.run)
    assert source.index("self.execute_operation(") < source.index(
        "protocol=request_data.protocol"
    ), changed("where the view's run reads request_data.protocol")


def changed_core(hook: str) -> str:
    return (
        f"graphql-core {private.installed_graphql_core()} changed {hook} (written for "
        f"{private.GRAPHQL_CORE_WRITTEN_FOR}); re-check ExecutorHooks in "
        "schema/strawberry_private.py"
    )


def test_graphql_core_is_the_minor_version_the_executor_hooks_were_written_for() -> None:
    # Hook 18 overrides methods graphql-core documents as internal: any other minor version
    # (pyproject allows 3.3.x only) must be re-checked before GRAPHQL_CORE_WRITTEN_FOR moves.
    installed = private.installed_graphql_core().split(".")[:2]
    assert installed == private.GRAPHQL_CORE_WRITTEN_FOR.split(".")[:2], changed_core(
        "its minor version"
    )


@strawberry.type
class HookQuery:
    @strawberry.field
    def things(self) -> list[Thing]:
        return [Thing(id=strawberry.ID("1")), Thing(id=strawberry.ID("2"))]


RESOLVED: list[str] = []


@strawberry.type
class HookMutation:
    @strawberry.mutation
    def first(self) -> Thing:
        RESOLVED.append("first")
        return Thing(id=strawberry.ID("1"))

    @strawberry.mutation
    def second(self) -> Thing | None:
        RESOLVED.append("second")
        return Thing(id=strawberry.ID("2"))


@strawberry.type
class HookSubscription:
    @strawberry.subscription
    async def things(self) -> AsyncIterator[Thing]:
        for id in ("1", "2"):
            yield Thing(id=strawberry.ID(id))


class CountingExecutor(private.ExecutorHooks):
    seen: list[str] = []

    def completing_object(self, object_type: GraphQLObjectType) -> None:
        CountingExecutor.seen.append(object_type.name)

    def starting_root_field(self, response_name: str) -> None:
        CountingExecutor.seen.append(f"root {response_name}")
        if response_name == "refused":
            raise ValueError("not run")

    def starting_event(self) -> None:
        CountingExecutor.seen.append("event")

    executed = 0

    def execute_event(self, execute: Callable[[], Any]) -> Any:
        CountingExecutor.executed += 1
        return execute()


@strawberry.type
class ArgumentSubscription:
    @strawberry.subscription
    async def things(self, after: str | None = None) -> AsyncIterator[Thing]:
        yield Thing(id=strawberry.ID(after or "1"))


async def test_executor_hooks() -> None:
    from graphql import Executor, parse

    assert parameters(Executor.complete_object_value) == [
        "self",
        "return_type",
        "field_details_list",
        "info",
        "path",
        "result",
        "position_context",
    ], changed_core("Executor.complete_object_value")
    assert parameters(Executor.execute_field) == [
        "self",
        "parent_type",
        "source",
        "field_details_list",
        "path",
        "position_context",
    ], changed_core("Executor.execute_field")
    assert parameters(Executor.handle_field_error) == [
        "self",
        "raw_error",
        "return_type",
        "field_details_list",
        "path",
    ], changed_core("Executor.handle_field_error")
    assert parameters(Executor.build_per_event_executor) == ["self", "payload"], changed_core(
        "Executor.build_per_event_executor"
    )
    assert parameters(Executor.execute_operation) == ["self", "serially"], changed_core(
        "Executor.execute_operation"
    )
    schema = private.SchemaHooks(
        query=HookQuery,
        mutation=HookMutation,
        subscription=HookSubscription,
        types=[Thing],
        execution_context_class=CountingExecutor,
    )
    CountingExecutor.seen.clear()
    result = await schema.execute(
        '{ things { id } _entities(representations: [{__typename: "Thing", id: "3"}]) '
        "{ ... on Thing { id } } }"
    )
    assert result.errors is None and result.data == {
        "things": [{"id": "1"}, {"id": "2"}],
        "_entities": [{"id": "3"}],
    }
    # A list's items, and a union's member with its concrete type.
    assert sorted(CountingExecutor.seen) == [
        "Thing",
        "Thing",
        "Thing",
        "root _entities",
        "root things",
    ], changed_core("complete_object_value or execute_field")

    CountingExecutor.seen.clear()
    RESOLVED.clear()
    result = await schema.execute("mutation { first { id } refused: second { id } }")
    assert result.data == {"first": {"id": "1"}, "refused": None}
    assert [(error.message, error.path) for error in result.errors or []] == [
        ("not run", ["refused"])
    ], changed_core("execute_field or handle_field_error")
    assert (CountingExecutor.seen, RESOLVED) == (
        ["root first", "Thing", "root refused"],
        ["first"],
    ), changed_core("execute_field (root fields one after the other, in a mutation)")

    CountingExecutor.seen.clear()
    CountingExecutor.executed = 0
    events = await schema.subscribe("subscription { things { id } }")
    assert not isinstance(events, ExecutionResult)
    answers = [event.data async for event in events]
    assert answers == [{"things": {"id": "1"}}, {"things": {"id": "2"}}]
    assert CountingExecutor.seen == ["event", "root things", "Thing"] * 2, changed_core(
        "build_per_event_executor"
    )
    assert CountingExecutor.executed == 2, changed_core(
        "execute_operation (called on each event's copy of the executor)"
    )

    # Its constructor sets `async_helpers` to bound methods of itself (a reference cycle):
    # ExecutorHooks makes them on each use instead of keeping them.
    assert "self.async_helpers = GraphQLResolveInfoHelpers(" in inspect.getsource(
        Executor.__init__
    ), changed_core("Executor.__init__ (async_helpers)")
    executor = CountingExecutor.build(
        private.graphql_core_schema(schema), parse("{ things { id } }")
    )
    assert isinstance(executor, CountingExecutor)
    assert "async_helpers" not in vars(executor)
    assert executor.async_helpers.gather == executor.gather_async_work
    assert executor.async_helpers.track == executor.track_async_work


async def test_a_subscription_field_resolves_an_event_to_itself_whatever_its_arguments() -> None:
    # schema/fanout.py shares an event's answer among subscribers whose root field's
    # arguments differ: strawberry's resolver of a subscription field must ignore them.
    schema = private.SchemaHooks(query=HookQuery, subscription=ArgumentSubscription)
    field = private.graphql_core_schema(schema).type_map["ArgumentSubscription"]
    assert isinstance(field, GraphQLObjectType)
    event = Thing(id=strawberry.ID("1"))
    resolve = field.fields["things"].resolve
    assert resolve is not None
    assert resolve(event, None, after="x") is event, changed(
        "a subscription field's resolver (no longer the event itself)"
    )


@strawberry.type
class Parent:
    name: str

    @strawberry.field
    def own(self) -> str:
        return f"own {self.name}"

    @strawberry.field
    async def by_root(self, root: "Parent", info: strawberry.Info) -> str:
        return f"{root.name} via {info.field_name}"

    @strawberry.field
    def with_argument(self, suffix: str) -> str:
        return self.name + suffix


@strawberry.type
class LeanQuery:
    @strawberry.field
    def parent(self) -> Parent:
        return Parent(name="p")


async def test_lean_resolvers() -> None:
    """Hook 19: the resolvers strawberry built are replaced for fields with a resolver and no
    arguments, and what the resolvers receive (self, root, info) is unchanged."""
    schema = strawberry.federation.Schema(query=LeanQuery)
    parent = private.graphql_core_schema(schema).type_map["Parent"]
    assert isinstance(parent, GraphQLObjectType)
    fields = parent.fields
    before = {name: field.resolve for name, field in fields.items()}
    # Parent.own and Parent.byRoot, LeanQuery.parent, and what federation adds (`_service`…)
    assert private.lean_resolvers(schema, skip_types=frozenset()) >= 3
    assert fields["own"].resolve is not before["own"], changed("GraphQLCoreConverter.from_resolver")
    assert fields["byRoot"].resolve is not before["byRoot"]
    assert fields["withArgument"].resolve is before["withArgument"]
    assert fields["name"].resolve is before["name"]  # no resolver of its own
    result = await schema.execute('{ parent { name own byRoot withArgument(suffix: "!") } }')
    assert (result.errors, result.data) == (
        None,
        {"parent": {"name": "p", "own": "own p", "byRoot": "p via byRoot", "withArgument": "p!"}},
    ), changed("StrawberryResolver's parameters")
