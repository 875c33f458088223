"""WebSocket rules on top of strawberry's protocol handlers: every operation type runs (a
query or a mutation with a context of its own, server/app.py), the `extensions` of a
`subscribe`/`start` message reach it, and the legacy graphql-ws protocol gets the same
connection_init deadline (4408) as graphql-transport-ws.

Written against strawberry-graphql's private handler API (schema/strawberry_private.py names
the version): both handlers hand every operation to `self.schema` (graphql-transport-ws calls
`stream`, graphql-ws calls `subscribe`) with the connection's one context, from a task of its
own created in `handle_subscribe` / `handle_start`. tests/graphql/test_strawberry_private.py
checks that shape.
"""

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Coroutine, Iterable
from contextvars import ContextVar
from datetime import timedelta
from typing import Any, Protocol

from graphql import GraphQLFormattedError
from strawberry.http import GraphQLRequestData
from strawberry.schema import BaseSchema
from strawberry.types import ExecutionResult

from db.notifier import Route
from resolvers.context import as_context
from resolvers.subscriptions import SUBSCRIPTION_ROUTE
from schema.fanout import encode_message
from schema.strawberry_private import (
    BaseGraphQLTransportWSHandler,
    BaseGraphQLWSHandler,
    OperationType,
    TransportWSOperation,
)

# The `extensions` of the message that started an operation (a persisted query's hash):
# strawberry's handlers drop them. Set around `handle_subscribe` / `handle_start`, whose
# operation task is created inside and so starts with this value.
OPERATION_EXTENSIONS: ContextVar[dict[str, Any] | None] = ContextVar(
    "operation_extensions", default=None
)


class OneOperationView(Protocol):
    """What the handlers need from the view (server/app.py's ClubJusticeGraphQL)."""

    def operation_type(self, query: str | None, operation_name: str | None) -> OperationType | None:
        """The type of the operation to run, or None when the document does not say (it
        does not parse, or names no single operation): the schema reports why."""

    def parses(self, query: str | None) -> bool:
        """Whether `query` is a document that parses."""

    async def charge(self, connection: Any) -> ExecutionResult | None:
        """One request of the connection's budget spent; the refusal when there is none."""

    async def run_over_websocket(
        self, connection: Any, request_data: GraphQLRequestData
    ) -> ExecutionResult:
        """A query or mutation sent on the connection whose context is `connection`."""


class OperationsOverWebSocket:
    """Stands in for the schema in the protocol handlers: a subscription streams from the
    schema with the connection's context, as before; a query or a mutation goes to the view,
    which gives it a context of its own, and yields its one result."""

    def __init__(self, view: OneOperationView, schema: BaseSchema) -> None:
        self.view = view
        self.schema = schema

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any = None,
        root_value: Any = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> Any:
        extensions = operation_extensions or OPERATION_EXTENSIONS.get()
        request_data = GraphQLRequestData(
            query=query,
            variables=variable_values,
            operation_name=operation_name,
            extensions=extensions,
            protocol="http",
        )
        if not well_formed(request_data) or (
            self.view.parses(request_data.query)
            and self.view.operation_type(query, operation_name) is not OperationType.SUBSCRIPTION
        ):
            # A query or a mutation, and anything that is not one operation of a document
            # that parses (a malformed payload, an ambiguous document, an unknown name): the
            # way of an HTTP request, which spends the budget and answers with HTTP's code.
            return self._one_result(context_value, request_data)
        # A subscription, or a document that does not parse (strawberry answers it:
        # graphql-transport-ws closes with 4400): one request of the budget first, as over HTTP.
        refusal = await self.view.charge(context_value)
        if refusal is not None:
            return single_result(refusal)
        return await self.schema.stream(
            query,
            variable_values=variable_values,
            context_value=context_value,
            root_value=root_value,
            operation_name=operation_name,
            operation_extensions=extensions,
            allowed_operation_types=allowed_operation_types or (OperationType.SUBSCRIPTION,),
        )

    async def subscribe(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any = None,
        root_value: Any = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> Any:
        """The legacy protocol's entry: the same as `stream`."""
        return await self.stream(
            query, variable_values, context_value, root_value, operation_name, operation_extensions
        )

    async def _one_result(
        self, connection: Any, request_data: GraphQLRequestData
    ) -> AsyncGenerator[ExecutionResult, None]:
        yield await self.view.run_over_websocket(connection, request_data)


def well_formed(request_data: GraphQLRequestData) -> bool:
    """Whether a message's payload has the shapes a GraphQL request has over HTTP (anything
    may arrive in a WebSocket message)."""
    return (
        isinstance(request_data.query, str)
        and isinstance(request_data.variables, dict | None)
        and isinstance(request_data.operation_name, str | None)
        and isinstance(request_data.extensions, dict | None)
    )


async def single_result(result: ExecutionResult) -> AsyncGenerator[ExecutionResult, None]:
    """One result as a stream: one `next` (or an `error`), then `complete`."""
    yield result


def subscription_limit_error(limit: int) -> GraphQLFormattedError:
    """The refusal of an operation over a connection's limit (strawberry's has no code)."""
    return {
        "message": f"Subscription limit reached: a connection holds at most {limit} operations "
        "at once; end one, or open another connection.",
        "extensions": {"code": "SUBSCRIPTION_LIMIT_EXCEEDED", "limit": limit},
    }


def _extensions(message: Any) -> dict[str, Any] | None:
    payload = message.get("payload") if isinstance(message, dict) else None
    extensions = payload.get("extensions") if isinstance(payload, dict) else None
    return extensions if isinstance(extensions, dict) else None


def send_now(sending: Coroutine[Any, Any, None]) -> bool:
    """Run `sending` (a message sent on a connection) if it completes without waiting; if it
    would wait, close it and say so (False). It then sent nothing: the one wait on the way
    is uvicorn's flow control (`await self.writable.wait()` while the client reads too
    slowly), before the frame is written (tests/ws/test_uvicorn_private.py checks that
    shape)."""
    try:
        sending.send(None)
    except StopIteration:
        return True
    sending.close()
    return False


# Where a WebSocket connection's scope keeps the ASGI `send` it was handed
# (ClubJusticeGraphQL.__call__): a round writes its messages there.
CONNECTION_SEND = "clubjustice.send"


class OperationRoute(Route):
    """How a round (db/notifier.py) sends a subscription of a graphql-transport-ws
    connection the answer another subscriber computed: a `next` message with the shared
    data, the text strawberry would send the subscriber itself (`Operation.send_next`: a
    result with no errors and no extensions has only `data`; encoded by `encode_message`,
    the view's `encode_json`), while its operation is still the connection's. Written with
    the connection's ASGI `send`, as Starlette's WebSocket writes it, without the layers of
    strawberry's and Starlette's sends around it (they do nothing more for a text message)."""

    __slots__ = ("operation", "transport")

    def __init__(self, transport: Any) -> None:
        super().__init__()
        self.operation: TransportWSOperation | None = None
        self.transport = transport

    def forget(self, _: object = None) -> None:
        """Its operation has ended: nothing more is sent through it."""
        self.operation = None
        self.transport = None

    def send(self, answer: object) -> bool | None:
        operation = self.operation
        if operation is None or operation.completed:
            return False
        if self.transport is None:
            return None  # no way to write it here: its own task sends it
        handler = operation.handler
        if handler.operations.get(operation.id) is not operation:
            return False  # completed by the client; its task is ending
        text = encode_message({"id": operation.id, "type": "next", "payload": {"data": answer}})
        if not send_now(self.transport({"type": "websocket.send", "text": text})):
            return None
        metrics = as_context(handler.context).metrics
        if metrics is not None:
            metrics.events_delivered.inc()
            metrics.round_deliveries.inc()
        return True


class GraphQLTransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """graphql-transport-ws, running queries and mutations too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = OperationsOverWebSocket(self.view, self.schema)  # type: ignore[arg-type,assignment]

    def on_request_accepted(self) -> None:
        super().on_request_accepted()
        deadline = self.connection_init_timeout_task
        assert deadline is not None
        deadline.add_done_callback(self._deadline_done)

    def _deadline_done(self, deadline: "asyncio.Task[None]") -> None:
        """strawberry cancels the connection_init deadline's task once the client's
        connection_init arrives and keeps it: cancelled, it holds its CancelledError, whose
        traceback holds the task's frames, for as long as the connection lives (1.3 KiB of
        each idle subscriber). Dropped once done (the exception taken out first: a
        `CancelledError` only leaves the task when asked for)."""
        if deadline.cancelled():
            with contextlib.suppress(asyncio.CancelledError):
                deadline.result()
        if self.connection_init_timeout_task is deadline:
            self.connection_init_timeout_task = None

    async def handle_subscribe(self, message: Any) -> None:
        limit = self.max_subscriptions_per_connection
        if (
            self.connection_acknowledged
            and limit is not None
            and message["id"] not in self.operations
            and len(self.operations) >= limit
        ):
            # strawberry's own refusal (checked after ours) has no code.
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [subscription_limit_error(limit)]}
            )
            return
        reset = OPERATION_EXTENSIONS.set(_extensions(message))
        # The operation's task starts with this route (a subscription's rounds send through it).
        request = as_context(self.context).request
        route = OperationRoute(None if request is None else request.scope.get(CONNECTION_SEND))
        reset_route = SUBSCRIPTION_ROUTE.set(route)
        before = self.operations.get(message.get("id"))
        try:
            await super().handle_subscribe(message)
        finally:
            SUBSCRIPTION_ROUTE.reset(reset_route)
            OPERATION_EXTENSIONS.reset(reset)
        operation = self.operations.get(message.get("id"))
        if operation is not None and operation is not before and operation.task is not None:
            # Registered now; its task has not started yet. The route lets go of it as the
            # task ends: the task keeps its context, which holds the route, and the
            # operation holds the task (a cycle that would keep the connection alive).
            route.operation = operation
            operation.task.add_done_callback(route.forget)


class LegacyGraphQLWSHandler(BaseGraphQLWSHandler[Any, Any]):
    """graphql-ws, running queries and mutations too, with a deadline for connection_init
    (strawberry's has none)."""

    init_timeout = timedelta(seconds=5)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = OperationsOverWebSocket(self.view, self.schema)  # type: ignore[arg-type,assignment]

    async def handle_start(self, message: Any) -> None:
        payload = message.get("payload")
        if self.connection_acknowledged and not (
            isinstance(payload, dict) and isinstance(payload.get("query"), str)
        ):
            # strawberry's would fail with a KeyError and drop the connection.
            await self.send_message(
                {
                    "type": "error",
                    "id": message.get("id"),
                    "payload": {
                        "message": "A `start` message needs a `query`: over WebSocket, send "
                        "the document's text.",
                        "extensions": {"code": "BAD_REQUEST"},
                    },
                }
            )
            return
        limit = self.max_subscriptions_per_connection
        if (
            self.connection_acknowledged
            and limit is not None
            and message.get("id") not in self.tasks
            and len(self.tasks) >= limit
        ):
            # strawberry's own refusal (checked after ours) has no code.
            await self.send_message(
                {
                    "type": "error",
                    "id": message.get("id"),
                    "payload": subscription_limit_error(limit),
                }
            )
            return
        reset = OPERATION_EXTENSIONS.set(_extensions(message))
        try:
            await super().handle_start(message)
        finally:
            OPERATION_EXTENSIONS.reset(reset)

    async def handle(self) -> None:
        deadline = asyncio.create_task(self._close_unless_initialised())
        try:
            await super().handle()
        finally:
            deadline.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await deadline

    async def _close_unless_initialised(self) -> None:
        await asyncio.sleep(self.init_timeout.total_seconds())
        if not self.connection_acknowledged:
            await self.websocket.close(code=4408, reason="Connection initialisation timeout")
