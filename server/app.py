"""The Starlette application: /graphql (HTTP and WebSocket), /healthz, /readyz, and the pages for
people (the club page at /, GraphiQL; server/pages.py)."""

import asyncio
import contextlib
import dataclasses
import gc
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import orjson
from cross_web import HTTPException
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    get_operation_ast,
)
from graphql import OperationType as GraphQLOperationType
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route, WebSocketRoute
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.types import ExecutionResult

from club.access import Principal
from club.enums import Role
from club.errors import HTTPRejection, RequestError
from club.idempotency import EXTENSION as IDEMPOTENCY_EXTENSION
from club.idempotency import HEADER as IDEMPOTENCY_HEADER
from club.idempotency import Claim, chosen_key, claim_for
from club.metrics import Metrics
from club.persisted import SHA256, PersistedDocuments, sha256
from club.ratelimit import RateLimiter
from club.settings import Settings
from db import idempotency
from db.engine import Database
from db.migrate import ensure_migrated, migration_state, upgrade
from db.notifier import ActivityFeed
from resolvers.context import (
    KEYED,
    Context,
    Keyed,
    ProcessState,
    RequestState,
    process_state,
    request_state,
)
from resolvers.list_sizes import ListSizeObserver
from resolvers.loaders import Loaders
from schema.compiled.direct import answer_directly
from schema.compiled.executor import READ_PATH
from schema.compiled.run import PlanOutcome
from schema.cost import observations_of
from schema.fanout import encode_message
from schema.limits import rate_limit_refusal
from schema.root import FTV1_HEADER, build_schema
from schema.strawberry_private import (
    CannotGetOperationTypeError,
    HTTPMethod,
    InvalidOperationTypeError,
    OperationType,
    PreExecutionError,
    UnsetType,
    ViewHooks,
    allowed_operation_types,
    graphql_core_schema,
    http_error_reason,
    shared_parse_cache,
)
from server import tracing
from server.auth import (
    RequireToken,
    caller_key,
    owner_of,
    principal_for,
    principal_of,
    rate_limited,
    replaying,
)
from server.guard import (
    PREFLIGHT_HEADERS,
    GuardTransport,
    authorization_among,
    new_request_id,
    refusal_body,
    refusal_for,
)
from server.logs import REQUEST_ID, configure_logging, log_request
from server.media import (
    GRAPHQL_RESPONSE_JSON,
    RESPONSE,
    Negotiated,
    Stopped,
    is_request_error,
    request_error_status,
)
from server.pages import ide_page, page_routes
from server.response_cache import ResponseCache, variables_key
from server.shared_limits import rate_limiter
from server.uvicorn_private import LeanWebSocketProtocol
from server.websockets import (
    CONNECTION_SEND,
    GraphQLTransportWSHandler,
    LegacyGraphQLWSHandler,
    single_result,
    well_formed,
)

logger = logging.getLogger("clubjustice.server")


# Until a WebSocket's connection_init names a token: strawberry runs no operation before it
# acknowledges the connection (4401), so this never acts; were it to, it would see public
# fields only.
NOT_YET_AUTHENTICATED = Principal(Role.PARTNER)


def _authorization(connection_params: dict[str, object] | None) -> str | None:
    """The `authorization` of a WebSocket's connection_init payload (either spelling; one that
    says something first). Anything given that is not a string (0, false, [] and {} too) is a
    credential that cannot be valid, never the absence of one, which
    CLUBJUSTICE_ANONYMOUS_READS would read as ANONYMOUS (`server/guard.authorization_among`)."""
    params = connection_params or {}
    given = [
        params[key] for key in ("authorization", "Authorization") if params.get(key) is not None
    ]
    return authorization_among(sorted(given, key=lambda value: not value))


# The request bodies that were response-cache hits, kept by their bytes with the fields the
# short path read of them (`PlainRequest`): a client repeating a query sends the same bytes.
PLAIN_BODIES_KEPT = 256
PLAIN_BODY_BYTES = 16 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class PlainRequest:
    """A POST body as the short path reads it: a JSON object with `query` a string,
    `variables` an object or null, `operationName` a string or null (empty: none) and no
    `extensions` (or empty ones); and its variables' text as the response cache keys them."""

    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    variables_key: bytes


def _plain_request(body: bytes, *, keyed: bool) -> PlainRequest | None:
    """The body's fields, or None when it is not plainly one such request; its variables'
    key only if `keyed` (the response cache is on)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if type(data) is not dict:
        return None
    query = data.get("query")
    variables = data.get("variables")
    operation_name = data.get("operationName")
    extensions = data.get("extensions")
    if (
        type(query) is not str
        or (variables is not None and type(variables) is not dict)
        or (operation_name is not None and type(operation_name) is not str)
        or (extensions is not None and extensions != {})
    ):
        return None
    key = variables_key(variables) if keyed else b""
    return PlainRequest(query, variables, operation_name or None, key)


class ClubJusticeGraphQL(ViewHooks[Context, None]):
    """Strawberry's ASGI app with our typed per-request context; subscriptions over
    graphql-transport-ws, legacy graphql-ws, graphql-sse and multipart HTTP."""

    def __init__(
        self,
        settings: Settings,
        *,
        limiter: RateLimiter,
        persisted: PersistedDocuments,
        metrics: Metrics,
    ) -> None:
        super().__init__(
            build_schema(
                federated_tracing=settings.federated_tracing,
                tracer_provider=tracing.tracer_provider() if settings.opentelemetry else None,
            ),
            # GraphiQL's page is ours (server/pages.py), served by RequireToken.
            graphql_ide=None,
            allow_queries_via_get=True,
            # Cross-origin WebSocket handshakes from browsers: the same origins as CORS.
            allowed_origins=settings.cors_origins,
            subscription_protocols=(
                GRAPHQL_TRANSPORT_WS_PROTOCOL,
                GRAPHQL_WS_PROTOCOL,
                GRAPHQL_SSE_PROTOCOL,
                MULTIPART_SUBSCRIPTION_PROTOCOL,
            ),
            connection_init_wait_timeout=timedelta(seconds=settings.connection_init_timeout),
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        )
        # Queries and mutations run too, each with a context of its own (run_over_websocket;
        # the handlers hook into strawberry 0.341, server/websockets.py).
        self.use_websocket_handlers(
            GraphQLTransportWSHandler,
            type(
                "ConfiguredLegacyGraphQLWSHandler",
                (LegacyGraphQLWSHandler,),
                {"init_timeout": timedelta(seconds=settings.connection_init_timeout)},
            ),
        )
        self.settings = settings
        self.limiter = limiter
        self.persisted = persisted
        self.metrics = metrics
        self.cache = ResponseCache(
            graphql_core_schema(self.schema), max_entries=max(settings.response_cache_size, 1)
        )
        self._parse_document = shared_parse_cache()
        self._plain_bodies: dict[bytes, PlainRequest] = {}
        # (query, operation name, role) -> the HTTP body of an answer the schema fixes
        # (`_remember_constant`), and the operation's own name (strawberry's, for metrics and
        # the log line), for `_answer_plainly` when the response cache is off.
        self._constants: dict[tuple[str, str | None, Role], tuple[bytes, str | None]] = {}
        # (query, operation name) -> the document and its operation's own name, of queries
        # answered from a compiled plan (`_remember_compiled`), for `_answer_compiled`.
        self._compiled: dict[tuple[str, str | None], tuple[DocumentNode, str | None]] = {}
        self._metric_children: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            self.metrics.websocket_connections.inc()
            # For a round's messages (server/websockets.py); taken out as the connection
            # ends: the scope would hold the send, which holds the connection, which holds
            # the scope, a cycle only the collector would end.
            scope[CONNECTION_SEND] = send
            try:
                await super().__call__(scope, receive, send)
            finally:
                del scope[CONNECTION_SEND]
                self.metrics.websocket_connections.dec()
            return
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        if scope["method"] == "POST":
            # RequireToken has read the whole body: it comes in one message.
            message = await receive()
            if await self._answer_plainly(scope, message, send):
                return
            receive = replaying(message, receive)
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except (HTTPRejection, HTTPException) as error:
            # strawberry's own refusals are plain text: give them a GraphQL body and a code.
            refusal = refusal_for(error)
            self.metrics.errors.labels(refusal.code).inc()
            response = Response(
                refusal_body(refusal.code, refusal.message),
                status_code=refusal.status_code,
                headers=refusal.headers,
                media_type=RESPONSE.get().content_type,
            )
        reads = request_state(scope).reads
        if reads is not None:
            # The answer is ready (a stream's reads have their own sessions): the connection
            # goes back before a slow reader of the response could keep it.
            await reads.release(finished=True)
        await response(scope, receive, send)

    def _remember_plain(self, body: bytes, plain: "PlainRequest") -> None:
        self._plain_bodies[body] = plain
        if len(self._plain_bodies) > PLAIN_BODIES_KEPT:
            del self._plain_bodies[next(iter(self._plain_bodies))]  # the oldest

    async def _answer_plainly(self, scope: Scope, message: Message, send: Send) -> bool:
        """A request answered without strawberry's view, a Request, a Context or a Response,
        with the same status, headers and bytes, the same metrics and log line as the path
        below: a response-cache hit (as `_cached` answers it), or, with the cache off, an
        operation whose answer the schema fixes (`_constant`; as `Observe` counts it). False,
        having changed nothing, for anything else: the path below then decides, as for
        every other request (docs/request-path.md).

        Plainly: a POST of one JSON object whose `query` is a document seen before (so it
        parsed, named one query, and was not ambiguous), with `variables` an object or
        null, no `extensions`, no Idempotency-Key and no trace asked for, answered as JSON
        (not a stream)."""
        began = time.perf_counter()
        negotiated = RESPONSE.get()
        if negotiated.stream is not None:
            return False
        for name, value in scope["headers"]:
            if name == b"content-type":
                if value.split(b";")[0].strip().lower() != b"application/json":
                    return False
            elif name in _NOT_PLAINLY_ANSWERED:
                return False
        request_body = message.get("body", b"")
        cached = self.settings.response_cache_size
        plain = self._plain_bodies.get(request_body) if cached else None
        remembered = plain is not None
        if plain is None:
            plain = _plain_request(request_body, keyed=bool(cached))
            if plain is None:
                return False
        query, variables, operation_name = plain.query, plain.variables, plain.operation_name
        state = request_state(scope)
        principal, mark = state.principal, state.activity_high_water
        if principal is None or mark is None:
            return False
        if self.settings.response_cache_size:
            plan = self.cache.plans.get((query, operation_name))
            if plan is None or not plan.cacheable:
                return False
            key = self.cache.key(plan, operation_name, plain.variables_key, principal)
            body = self.cache.body(key, mark)
            if body is None:
                return False
            if not remembered and len(request_body) <= PLAIN_BODY_BYTES:
                # A body that was a hit: kept for the next hit, without its variables (the
                # key's text is all a hit reads of them).
                self._remember_plain(request_body, dataclasses.replace(plain, variables=None))
            self._counted("hit").inc()
            name = plan.operation_name
        else:
            constant = self._constants.get((query, operation_name, principal.role))
            if constant is None:
                return await self._answer_compiled(
                    scope, send, negotiated, began, query, variables, operation_name
                )
            body, name = constant
            self._count_operation(name, began)
        state.operation = (name, "query")
        return await self._send_plainly(send, state, negotiated, body)

    def _count_operation(self, name: str | None, began: float) -> None:
        """An operation answered on the short path, counted as `Observe` counts it."""
        label = self.metrics.operation_name(name)
        self._counted("operation", label).inc()
        self._counted("latency", label).observe(time.perf_counter() - began)

    async def _send_plainly(
        self, send: Send, state: RequestState, negotiated: Negotiated, body: bytes
    ) -> bool:
        """The short path's answer: status 200, the body and its headers as Starlette writes
        them; the request's connection goes back to the pool first."""
        if state.reads is not None:
            await state.reads.release(finished=True)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(body)).encode()),
                    (b"content-type", negotiated.content_type.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return True

    async def _answer_compiled(
        self,
        scope: Scope,
        send: Send,
        negotiated: Negotiated,
        began: float,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> bool:
        """With the response cache off, a query the long path has answered from its compiled
        plan before (`_remember_compiled`), answered again from it without strawberry
        (schema/compiled/direct.py), within the execution timeout; False, having changed
        nothing, when the long path must answer (direct.py says when)."""
        known = self._compiled.get((query, operation_name))
        if known is None:
            return False
        document, name = known
        state = request_state(scope)
        context = await self.get_context(Request(scope), None)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.settings.execution_timeout):
                data = await answer_directly(
                    self.schema, context, query, document, variables, operation_name
                )
        except TimeoutError:
            stopped = process_result(self._timed_out(operation_name, state))
            return await self._send_plainly(send, state, negotiated, orjson.dumps(stopped))
        if data is None:
            return False
        if isinstance(data, PlanOutcome):
            # The view answers with what the plan found, within what is left of the timeout.
            state.plan_outcome = data
            state.execution_spent = time.perf_counter() - started
            return False
        self._count_operation(name, began)
        state.operation = (name, "query")
        return await self._send_plainly(send, state, negotiated, orjson.dumps({"data": data}))

    def _counted(self, kind: str, label: str = "") -> Any:
        """The metric child the short path counts with, looked up once: the response
        cache's hits, or an operation's counter and latency by its name label (children
        the long path made first, so /metrics lists nothing new)."""
        key = (kind, label)
        child = self._metric_children.get(key)
        if child is None:
            if kind == "hit":
                child = self.metrics.response_cache.labels("hit")
            elif kind == "operation":
                child = self.metrics.requests.labels(label, "query")
            else:
                child = self.metrics.latency.labels(label, "query")
            self._metric_children[key] = child
        return child

    def _remember_constant(
        self, query: str | None, operation_name: str | None, role: Role, result: ExecutionResult
    ) -> None:
        """Keep the answer of an operation that selects only `__typename` at its root (no
        variables, no directives, no fragments): the schema fixes it, whatever the data.
        Kept per role, whose limits it passed."""
        if result.errors or result.data is None or query is None:
            return
        operation = self._operation(query, operation_name)
        if (
            operation is None
            or operation.operation is not GraphQLOperationType.QUERY
            or operation.variable_definitions
            or operation.directives
            or not all(
                isinstance(selection, FieldNode)
                and selection.name.value == "__typename"
                and not selection.directives
                and not selection.arguments
                for selection in operation.selection_set.selections
            )
        ):
            return
        self._constants[(query, operation_name, role)] = (
            orjson.dumps({"data": result.data}),
            operation.name.value if operation.name else None,
        )
        while len(self._constants) > MAX_CONSTANTS:
            del self._constants[next(iter(self._constants))]

    def _remember_compiled(
        self, query: str | None, operation_name: str | None, result: ExecutionResult
    ) -> None:
        """Keep a query its compiled plan answered plainly (data, no errors), for
        `_answer_compiled`: its document and its own name. Whatever decides an answer is
        checked again on every request there (the refusals, the variables, the plan), so
        the entry is not per role."""
        if result.errors or result.data is None or query is None:
            return
        try:
            document = self._parse(query)
        except GraphQLError:
            return
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation is not GraphQLOperationType.QUERY:
            return
        key = (query, operation_name)
        self._compiled[key] = (document, operation.name.value if operation.name else None)
        while len(self._compiled) > MAX_COMPILED:
            del self._compiled[next(iter(self._compiled))]

    def serves_graphql_ide(self, request: Any) -> bool:
        # RequireToken serves GraphiQL's page (to browsers asking for HTML); anything else that
        # reaches here is an operation, e.g. a persisted query sent by hash only.
        return False

    def stream_protocol(self, headers: Mapping[str, str]) -> str | None:
        """strawberry streams whenever `Accept` lists a stream type anywhere; we stream
        every operation only when the client prefers a stream (server/media.py), and a
        subscription whenever it accepts one (`run_operation`)."""
        return RESPONSE.get().stream

    def checked_request_data(
        self, parsed: GraphQLRequestData | list[GraphQLRequestData]
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """strawberry's, with `operationName` checked as `query` is: not a string is a bad
        request (it failed later, as a 500); empty is none, as the spec says for GET."""
        for request_data in parsed if isinstance(parsed, list) else [parsed]:
            if not isinstance(request_data.operation_name, str | None):
                raise HTTPRejection(
                    400,
                    "BAD_REQUEST",
                    "The GraphQL operation's `operationName` must be a string or null, if "
                    "provided.",
                )
            request_data.operation_name = request_data.operation_name or None
        return parsed

    def check_batch(self, request_data: list[dict[str, Any]], protocol: str) -> None:
        """Called with the decoded JSON array, before strawberry reads its items."""
        limit = self.settings.max_batch_operations
        if limit == 1:
            raise HTTPRejection(400, "BATCHING_DISABLED", "Send one operation per request.")
        if protocol != "http":
            raise HTTPRejection(
                400, "BAD_REQUEST", "A batch cannot be streamed; ask for JSON in `Accept`."
            )
        if not 1 <= len(request_data) <= limit:
            raise HTTPRejection(
                400,
                "BATCH_LIMIT_EXCEEDED",
                f"A batch holds 1 to {limit} operations; this one holds {len(request_data)}.",
            )
        for item in request_data:
            if not (
                isinstance(item.get("query"), str | None)
                and isinstance(item.get("variables"), dict | None)
                and isinstance(item.get("extensions"), dict | None)
            ):
                raise HTTPRejection(
                    400,
                    "BAD_REQUEST",
                    "Each operation of a batch has a string `query` and objects for "
                    "`variables` and `extensions`, if given.",
                )

    async def before_batch(
        self, request: Request, request_data: list[GraphQLRequestData], context: Context
    ) -> None:
        if len(request_data) > 1 and IDEMPOTENCY_HEADER in request.headers:
            raise HTTPRejection(
                400,
                "IDEMPOTENCY_KEY_INVALID",
                f"An {IDEMPOTENCY_HEADER} header names one operation, not a batch: give each "
                f"mutation its own key in its extensions.{IDEMPOTENCY_EXTENSION}.",
            )
        if len(request_data) > 1:
            # The request itself was counted on the way in; the rest of the batch is here.
            verdict = await self.limiter.take(
                caller_key(context.principal, request.scope),
                self.settings.rate_limit(context.principal.role),
                cost=len(request_data) - 1,
            )
            if not verdict.allowed:
                raise rate_limited(verdict)

    async def run_operation(
        self,
        request: Request,
        method: HTTPMethod,
        request_data: GraphQLRequestData,
        context: Context,
        root_value: Any,
    ) -> Any:
        operation = self._persisted_query(request_data, context)
        if not isinstance(operation, ExecutionResult) and self._is_subscription(
            operation[1], request_data.operation_name
        ):
            negotiated = RESPONSE.get()
            protocol = negotiated.stream or negotiated.subscription_stream
            if protocol is None:
                raise HTTPRejection(
                    406,
                    "NOT_ACCEPTABLE",
                    "A subscription answers with a stream of events: accept text/event-stream "
                    "(graphql-sse) or multipart/mixed;subscriptionSpec=1.0, or subscribe over "
                    "the WebSocket.",
                )
            request_data.protocol = protocol
            request_state(request.scope).streamed = True
            return await self._stream(operation[1], request_data, context, root_value)
        if isinstance(operation, ExecutionResult):
            result = operation
        else:
            result = await self._execute(
                context,
                request_data,
                *operation,
                state=request_state(request.scope),
                headers=request.headers,
                method=method,
                root_value=root_value,
                idempotency_header=request.headers.get(IDEMPOTENCY_HEADER),
            )
        if request_data.protocol == "http":
            return result
        # A query or mutation the client asked to get as a stream: run as over plain HTTP
        # (limits, timeout, persisted documents, cache, metrics), sent as one event.
        request_state(request.scope).streamed = True
        return single_result(result)

    async def run_batch_item(
        self,
        request: Request,
        method: HTTPMethod,
        request_data: GraphQLRequestData,
        context: Context,
        root_value: Any,
    ) -> ExecutionResult:
        """One operation of a batch."""
        operation = self._persisted_query(request_data, context)
        if isinstance(operation, ExecutionResult):
            return operation
        return await self._execute(
            context,
            request_data,
            *operation,
            state=request_state(request.scope),
            headers=request.headers,
            method=method,
            root_value=root_value,
            idempotency_header=request.headers.get(IDEMPOTENCY_HEADER),
        )

    def _is_subscription(self, query: str | None, operation_name: str | None) -> bool:
        return self.operation_type(query, operation_name) is OperationType.SUBSCRIPTION

    def _operation_is_ambiguous(self, query: str | None, operation_name: str | None) -> bool:
        if query is None or operation_name is not None:
            return False
        try:
            document = self._parse(query)
        except GraphQLError:
            return False  # the schema's own parse reports it
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        return len(operations) > 1

    async def _execute(
        self,
        context: Context,
        request_data: GraphQLRequestData,
        digest: str | None,
        query: str | None,
        *,
        state: RequestState,
        headers: Headers,
        method: HTTPMethod,
        root_value: Any = None,
        idempotency_header: str | None = None,
    ) -> ExecutionResult:
        """A query or mutation, over HTTP or a WebSocket: from the response cache, or run
        with its time bounded. `state` is the operation's own: it holds the activity log's
        high-water mark read with the token, and receives the operation's name and type for
        its log line."""
        allowed = allowed_operation_types(method) - {OperationType.SUBSCRIPTION}
        if self._operation_is_ambiguous(query, request_data.operation_name):
            # strawberry would run the first one; the GraphQL spec's GetOperation() refuses.
            return self._error_result(
                "OPERATION_RESOLUTION_FAILURE",
                "Must provide operation name if query contains multiple operations.",
            )
        try:
            claim = self._idempotency_claim(context, request_data, query, idempotency_header)
            if OperationType.MUTATION not in allowed:
                claim = None  # a mutation refused by the method (GET) is not answered either
            earlier = None
            if claim is not None:
                # On the request's read connection: a plain read, no write lock.
                earlier = await idempotency.earlier(context.session_factory, claim, context.now)
        except RequestError as error:
            return self._error_result(error.code, error.message)
        if earlier is not None and earlier.response is not None:
            state.operation = (request_data.operation_name, "mutation")
            return ExecutionResult(data=earlier.response["data"], errors=None)
        keyed = None if claim is None else Keyed(claim)
        KEYED.set(keyed)
        cached = await self._cached(query, request_data, context, state, headers)
        if isinstance(cached, ExecutionResult):
            return cached
        READ_PATH.set(None)
        try:
            async with asyncio.timeout(self.settings.execution_timeout - state.execution_spent):
                result = await self.schema.execute(
                    query,
                    root_value=root_value,
                    variable_values=request_data.variables,
                    context_value=context,
                    operation_name=request_data.operation_name,
                    allowed_operation_types=allowed,
                    operation_extensions=request_data.extensions,
                )
        except TimeoutError:
            return self._timed_out(request_data.operation_name, state)
        except CannotGetOperationTypeError as error:
            # A request error like a validation error (the spec: 200 for application/json).
            return self._error_result("OPERATION_RESOLUTION_FAILURE", http_error_reason(error))
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.SUBSCRIPTION:
                return self._error_result(
                    "BAD_REQUEST", "A subscription cannot be part of a batch; send it alone."
                )
            raise HTTPRejection(
                405,
                "METHOD_NOT_ALLOWED",
                http_error_reason(error, method),
                {"Allow": "POST"},
            ) from error
        except MissingQueryError as error:
            raise HTTPRejection(400, "BAD_REQUEST", "No GraphQL query found in the request.") from (
                error
            )
        if (
            digest is not None
            and query is not None
            and result.data is not None
            and context.principal.role not in self.settings.trusted_documents_roles
        ):
            self.persisted.remember(digest, query)
        if cached is not None and not result.errors and result.data is not None:
            key, mark = cached
            self.cache.put(key, mark, result.data)
        elif self.settings.response_cache_size == 0:
            self._remember_constant(
                query, request_data.operation_name, context.principal.role, result
            )
            if READ_PATH.get() == "compiled":
                self._remember_compiled(query, request_data.operation_name, result)
        if keyed is not None and not result.errors and result.data is not None:
            # The whole answer, for retries; if this never happens (a timeout, a crash), a
            # retry is answered from what each mutation recorded in its own transaction.
            await idempotency.store_response(
                context.write_session_factory,
                keyed.claim,
                context.now,
                {"data": result.data},
                committed=keyed.committed,
            )
        return result

    def _timed_out(self, operation_name: str | None, state: RequestState) -> Stopped:
        """The answer of an operation stopped at the execution timeout (logged, counted)."""
        logger.warning(
            "operation %s stopped after %s s",
            operation_name or "(anonymous)",
            self.settings.execution_timeout,
        )
        state.operation = (operation_name, "timed out")
        self.metrics.errors.labels("OPERATION_TIMEOUT").inc()
        return Stopped(
            data=None,
            errors=[
                GraphQLError(
                    f"The operation ran longer than {self.settings.execution_timeout:g} s "
                    "and was stopped; ask for less.",
                    extensions={"code": "OPERATION_TIMEOUT"},
                )
            ],
        )

    def _idempotency_claim(
        self,
        context: Context,
        request_data: GraphQLRequestData,
        query: str | None,
        header: str | None,
    ) -> Claim | None:
        """The claim of a mutation sent with a key (the `Idempotency-Key` header over HTTP,
        `extensions.idempotencyKey` on any transport); None for anything else: a query is
        safe to repeat, and its key is ignored."""
        key = chosen_key(header, (request_data.extensions or {}).get(IDEMPOTENCY_EXTENSION))
        if key is None or query is None or context.principal.role is Role.ANONYMOUS:
            # ANONYMOUS runs no mutation (schema/limits.py), and its callers share no scope.
            return None
        if self.operation_type(query, request_data.operation_name) is not OperationType.MUTATION:
            return None
        return claim_for(
            context.principal, key, query, request_data.operation_name, request_data.variables
        )

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """A request error answered as application/graphql-response+json has no `data`
        (and a 4xx status, `create_response`); application/json and streamed events keep
        `"data": null`, as they always have."""
        response = process_result(result)
        if (
            RESPONSE.get().body == GRAPHQL_RESPONSE_JSON
            and not request_state(request.scope).streamed
            and is_request_error(result)
        ):
            del response["data"]
        return response

    def response_for(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        """strawberry's, in the negotiated media type, with its status code: a body without
        `data` is a request error (graphql-response+json only); anything else is 200."""
        status = 200
        if isinstance(response_data, dict) and "data" not in response_data:
            status = request_error_status(response_data)
        response = Response(
            self.encode_json(response_data),
            status_code=status,
            media_type=RESPONSE.get().content_type,
        )
        response.headers.raw.extend(sub_response.headers.raw)
        return response

    async def _cached(
        self,
        query: str | None,
        request_data: GraphQLRequestData,
        context: Context,
        state: RequestState,
        headers: Headers,
    ) -> ExecutionResult | tuple[tuple[Any, ...], int] | None:
        """The cached result of this query, or (key, high-water mark) to store it under
        once it has run, or None when the cache is off or does not apply."""
        if self.settings.response_cache_size == 0 or query is None:
            return None
        if headers.get("apollo-federation-include-trace"):
            return None  # the gateway wants a trace of a real run
        try:
            document = self._parse(query)
        except GraphQLError:
            return None  # the schema's own parse reports it
        plan = self.cache.plan(query, request_data.operation_name, document)
        if not plan.cacheable:
            self.metrics.response_cache.labels("bypass").inc()
            return None
        # Read with the token, in the same statement (server/auth.py, run_over_websocket).
        mark = state.activity_high_water
        if mark is None:
            raise LookupError("No activity high-water mark: the token was not checked.")
        key = self.cache.key(
            plan,
            request_data.operation_name,
            variables_key(request_data.variables),
            context.principal,
        )
        data = self.cache.get(key, mark)
        if data is None:
            self.metrics.response_cache.labels("miss").inc()
            return key, mark
        self.metrics.response_cache.labels("hit").inc()
        state.operation = (plan.operation_name, "query")
        return ExecutionResult(data=data, errors=None)

    def _parse(self, query: str) -> Any:
        # The schema's parse cache (ParseCache), with the same options: the same entries.
        return self._parse_document(
            query,
            max_lexical_tokens=self.settings.max_tokens,
            max_source_length=self.settings.max_document_length,
        )

    async def _stream(
        self, query: str | None, request_data: GraphQLRequestData, context: Context, root_value: Any
    ) -> Any:
        """A subscription over HTTP streaming (graphql-sse, multipart)."""
        # A subscription lives long: it reads in short sessions, as on a WebSocket, and does
        # not hold the request's connection.
        await context.release_reads()
        context.session_factory = process_state(context.request.scope).database.session_factory
        context.loaders = Loaders.for_request(context.session_factory)
        return await self.schema.stream(
            query,
            variable_values=request_data.variables,
            context_value=context,
            root_value=root_value,
            operation_name=request_data.operation_name,
            operation_extensions=request_data.extensions,
            allowed_operation_types=(OperationType.SUBSCRIPTION,),
        )

    def _persisted_query(
        self, request_data: GraphQLRequestData, context: Context
    ) -> tuple[str | None, str | None] | ExecutionResult:
        """The (hash, query) to run, from `extensions.persistedQuery` when it is there."""
        extension = (request_data.extensions or {}).get("persistedQuery")
        if extension is None:
            return None, request_data.query
        if not isinstance(extension, dict):
            extension = {}
        digest = extension.get("sha256Hash")
        if extension.get("version") != 1 or not isinstance(digest, str) or not SHA256.match(digest):
            return self._error_result(
                "BAD_REQUEST", "`persistedQuery` needs `version: 1` and a lowercase `sha256Hash`."
            )
        restricted = context.principal.role in self.settings.trusted_documents_roles
        if request_data.query is not None:
            if sha256(request_data.query) != digest:
                return self._error_result(
                    "PERSISTED_QUERY_HASH_MISMATCH", "`sha256Hash` is not the hash of `query`."
                )
            return digest, request_data.query
        automatic = not restricted and self.settings.apq_cache_size > 0
        query = self.persisted.lookup(digest, automatic=automatic)
        if query is not None:
            return digest, query
        if not automatic and not self.persisted.trusted:
            return self._error_result("PERSISTED_QUERY_NOT_SUPPORTED", "PersistedQueryNotSupported")
        return self._error_result("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")

    def _error_result(self, code: str, message: str) -> ExecutionResult:
        """A refusal made here, outside the schema (and its error counting), before the
        operation ran: a PreExecutionError, which graphql-transport-ws sends as an `error`
        message, as it does the schema's own refusals."""
        return self._refused(GraphQLError(message, extensions={"code": code}))

    def _refused(self, error: GraphQLError) -> PreExecutionError:
        self.metrics.errors.labels((error.extensions or {}).get("code", "UNKNOWN")).inc()
        return PreExecutionError(data=None, errors=[error])

    def encode_json(self, data: object) -> str:
        # orjson: several times faster than the standard library, for every HTTP response and
        # every message to every subscriber; an event's answer shared by many subscribers is
        # encoded once (schema/fanout.py). Text, not bytes: WebSocket clients expect text
        # frames.
        return encode_message(data)

    def decode_json(self, data: str | bytes) -> object:
        """Every JSON message we read (a request body, `variables` or `extensions` in a URL,
        a WebSocket message) is an object, or a request body is an array of objects (a
        batch); anything else is refused like JSON that does not parse."""
        value = orjson.loads(data)
        if isinstance(value, dict) or (
            isinstance(value, list) and all(isinstance(item, dict) for item in value)
        ):
            return value
        raise json.JSONDecodeError("expected a JSON object", str(data)[:100], 0)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        process = process_state(request.scope)
        # HTTP: filled in by GuardTransport and RequireToken. A WebSocket: nothing yet.
        state = request_state(request.scope)
        request_id = state.request_id
        if request_id is None:
            # A WebSocket connection: one id for it, in every log line of its subscriptions
            # (their tasks start from this one's context); each query or mutation on it gets
            # its own (run_over_websocket).
            request_id = new_request_id()
            REQUEST_ID.set(request_id)
        return Context(
            request_id=request_id,
            client_address=request.client.host if request.client else None,
            persisted=self.persisted,
            metrics=self.metrics,
            request=request,
            activity_high_water=state.activity_high_water,
            settings=self.settings,
            # HTTP: set by RequireToken. WebSocket: set by on_ws_connect.
            principal=NOT_YET_AUTHENTICATED if state.principal is None else state.principal,
            # HTTP: the request's connection, taken by RequireToken's token check.
            session_factory=process.database.session_factory
            if state.reads is None
            else state.reads,
            write_session_factory=process.database.write_session_factory,
            feed=process.feed,
            list_sizes=process.list_sizes,
            plan_outcome=state.plan_outcome,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """connection_init must carry {"authorization": "Bearer <token>"}, once; else 4403
        (with CLUBJUSTICE_ANONYMOUS_READS, one without any `authorization` is ANONYMOUS's)."""
        if context.principal is not NOT_YET_AUTHENTICATED:
            # graphql-ws (legacy) accepts a second init; the principal of running
            # subscriptions must not change under them.
            raise ConnectionRejectionError({"message": "The connection is already initialised."})
        try:
            outcome = await principal_for(
                process_state(context.request.scope).database,
                _authorization(context.connection_params),
                anonymous_reads=self.settings.anonymous_reads,
            )
        except Exception:
            logger.exception("authenticating a WebSocket connection failed")
            raise ConnectionRejectionError({"message": "Internal server error."}) from None
        if isinstance(outcome, str):
            verdict = await self.limiter.take(
                ("address", context.client_address), self.settings.rate_limit(None)
            )
            if not verdict.allowed:
                raise ConnectionRejectionError(
                    {"message": "Too many requests without a valid token.", "code": "RATE_LIMITED"}
                )
            raise ConnectionRejectionError({"message": outcome, "code": "UNAUTHENTICATED"})
        if outcome.role is Role.ANONYMOUS:
            # A connection without a token costs a statement as a request does, and spends a
            # request of its address's ANONYMOUS budget (a token's connection is its token's
            # to answer for; its operations spend that budget).
            verdict = await self.limiter.take(
                caller_key(outcome, context.request.scope), self.settings.rate_limit(outcome.role)
            )
            if not verdict.allowed:
                raise ConnectionRejectionError(
                    {"message": "Too many requests without a token.", "code": "RATE_LIMITED"}
                )
        context.principal = outcome
        return UnsetType()  # UNSET itself (a singleton), which strawberry types as Any

    def operation_type(self, query: str | None, operation_name: str | None) -> OperationType | None:
        """The type of the operation a WebSocket message asks for, or None when the
        document does not say (it does not parse, or names no single operation)."""
        operation = self._operation(query, operation_name)
        return OperationType(operation.operation.value) if operation is not None else None

    def parses(self, query: str | None) -> bool:
        return self._document(query) is not None

    async def charge(self, connection: Context) -> ExecutionResult | None:
        """One request of the connection's principal's budget, for a subscription on it."""
        verdict = await self.limiter.take(
            caller_key(connection.principal, connection.request.scope),
            self.settings.rate_limit(connection.principal.role),
        )
        return None if verdict.allowed else self._refused(rate_limit_refusal(verdict))

    def _operation(
        self, query: str | None, operation_name: str | None
    ) -> OperationDefinitionNode | None:
        document = self._document(query)
        return None if document is None else get_operation_ast(document, operation_name)

    def _document(self, query: str | None) -> DocumentNode | None:
        """The parsed document, or None when there is none (the schema's own parse reports
        why)."""
        if query is None:
            return None
        try:
            return cast(DocumentNode, self._parse(query))
        except GraphQLError:
            return None

    async def run_over_websocket(
        self, connection: Context, request_data: GraphQLRequestData
    ) -> ExecutionResult:
        """A query or mutation sent on a WebSocket, treated as one HTTP request: the
        connection's token looked up again (revoked: refused; the organization's membership
        and the activity log's high-water mark as they are now), one request's budget
        spent, then a context of its own (loaders, clock, request id) and the same path as
        over HTTP. Runs in the operation's own task (server/websockets.py)."""
        request_id = new_request_id()
        REQUEST_ID.set(request_id)
        began = time.perf_counter()
        state = RequestState(request_id=request_id)
        principal: Principal | None = None
        # One connection for the operation's reads, as for an HTTP request (db/engine.py):
        # the token check takes it, the loaders share it, and it goes back when it is done.
        reads = process_state(connection.request.scope).database.request_reads()
        try:
            try:
                owner = await owner_of(
                    reads,
                    _authorization(connection.connection_params),
                    anonymous_reads=self.settings.anonymous_reads,
                )
            except Exception:
                logger.exception("checking a WebSocket operation's token failed")
                return self._error_result("INTERNAL_SERVER_ERROR", "Internal server error.")
            if isinstance(owner, str):
                # As over HTTP, a request without a valid token spends its client address's
                # budget: refusals cost a statement each, and must not come for free.
                verdict = await self.limiter.take(
                    caller_key(None, connection.request.scope), self.settings.rate_limit(None)
                )
                if not verdict.allowed:
                    return self._refused(rate_limit_refusal(verdict))
                return self._error_result("UNAUTHENTICATED", "The token was revoked.")
            principal = principal_of(owner)
            verdict = await self.limiter.take(
                caller_key(principal, connection.request.scope),
                self.settings.rate_limit(principal.role),
            )
            if not verdict.allowed:
                return self._refused(rate_limit_refusal(verdict))
            state.activity_high_water = owner.activity_high_water
            context = dataclasses.replace(
                connection,
                principal=principal,
                request_id=request_id,
                now=datetime.now(UTC),
                session_factory=reads,
                activity_high_water=owner.activity_high_water,
            )
            if not well_formed(request_data):
                return self._error_result(
                    "BAD_REQUEST",
                    "A message's `query` is a string, `variables` and `extensions` are objects "
                    "or null, and `operationName` is a string or null.",
                )
            operation = self._persisted_query(request_data, context)
            if isinstance(operation, ExecutionResult):
                return operation
            return await self._execute(
                context,
                request_data,
                *operation,
                state=state,
                headers=connection.request.headers,
                method="POST",
            )
        finally:
            await reads.release(finished=True)
            # Its line in the access log, as an HTTP request's, with `WS` and no status.
            log_request(
                request_id,
                "WS",
                "/graphql",
                None,
                began,
                principal,
                state.operation or self._named(request_data),
            )

    def _named(self, request_data: GraphQLRequestData) -> tuple[str | None, str | None]:
        """The operation's name and type, for its log line."""
        if not well_formed(request_data):
            return None, None
        operation = self._operation(request_data.query, request_data.operation_name)
        if operation is None:
            return request_data.operation_name, None
        return (operation.name.value if operation.name else None), operation.operation.value


# Request headers that take a request off the short path (`_answer_plainly`): the path that
# decides what they mean runs instead.
_NOT_PLAINLY_ANSWERED = frozenset((IDEMPOTENCY_HEADER.lower().encode(), FTV1_HEADER.encode()))


# Answers kept by `_remember_constant`: a handful of documents in practice.
MAX_CONSTANTS = 64
# Queries kept for the compiled short path (`_remember_compiled`).
MAX_COMPILED = 256


def metrics_endpoint(metrics: Metrics) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        body, media_type = metrics.exposition()
        return Response(body, media_type=media_type)

    return endpoint


def create_app(settings: Settings | None = None, *, demo_token: str | None = None) -> Starlette:
    """The service; `demo_token` (from `clubjustice demo` only) fills GraphiQL's headers."""
    settings = settings or Settings()
    metrics = Metrics()
    limiter = rate_limiter(settings, metrics)
    graphql = ClubJusticeGraphQL(
        settings,
        limiter=limiter,
        persisted=PersistedDocuments.from_settings(settings),
        metrics=metrics,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        database = Database.open(
            settings.database_url,
            echo=settings.db_echo,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
        )
        feed = ActivityFeed(database, poll_interval=settings.live_poll_interval)
        list_sizes = ListSizeObserver(
            database.session_factory,
            observations_of(graphql_core_schema(graphql.schema)),
            every=settings.list_size_refresh_seconds or None,
        )
        refreshing: asyncio.Task[None] | None = None
        try:
            if settings.migrate_on_start:
                await upgrade(database.engine)
            await ensure_migrated(database.engine)
            metrics.list_sizes_age.set_function(list_sizes.age)
            if settings.list_size_refresh_seconds > 0:
                # Before serving, on the data as migrated (and before the feed starts reading,
                # so that start-up holds one pooled connection at a time); then in the
                # background.
                await list_sizes.refresh()
                refreshing = asyncio.create_task(list_sizes.run())
            else:
                logger.info(
                    "observing list sizes is off: the cost estimate assumes the declared sizes"
                )
            await feed.start()
            await limiter.start()
            metrics.subscriptions.set_function(lambda: len(feed.mailboxes))
            app.state.feed = feed  # for diagnostics and tests
            app.state.list_sizes = list_sizes
            # Starlette copies this into every request's and websocket's `state`.
            yield ProcessState(database, feed, list_sizes).as_lifespan_state()
        finally:
            if refreshing is not None:
                refreshing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await refreshing
            await feed.stop()
            await limiter.close()
            await database.engine.dispose()

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        try:
            engine = process_state(request.scope).database.engine
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            state = await migration_state(engine)
        except Exception as error:  # any failure at all means "not ready"
            logger.warning("readiness check failed: %s", error)
            return JSONResponse(
                {"status": "unavailable", "reason": "database unreachable"}, status_code=503
            )
        if not state.at_head:
            return JSONResponse(
                {"status": "unavailable", "reason": f"not migrated: {state.describe()}"},
                status_code=503,
            )
        return JSONResponse({"status": "ok"})

    # WebSocket: authenticated by connection_init (on_ws_connect), not by a header.
    graphql_socket = WebSocketRoute("/graphql", graphql)
    graphql_http = Route(
        "/graphql",
        GuardTransport(
            RequireToken(
                graphql,
                graphiql_html=ide_page(demo_token) if settings.graphiql else None,
                settings=settings,
                limiter=limiter,
                metrics=metrics,
            ),
            max_body_bytes=settings.max_body_bytes,
            metrics=metrics,
            graphiql=settings.graphiql,
        ),
        # The others too, so that GuardTransport refuses them with a code.
        methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    )
    return ClubJusticeApp(
        graphql_socket,
        graphql_http,
        routes=[
            graphql_socket,
            graphql_http,
            Route("/metrics", metrics_endpoint(metrics)),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *page_routes(),
        ],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", *PREFLIGHT_HEADERS],
                expose_headers=["x-request-id", "retry-after"],
                max_age=600,
            )
        ]
        if settings.cors_origins
        else [],
        lifespan=lifespan,
    )


class ClubJusticeApp(Starlette):
    """The application: Starlette's, with a WebSocket connection to the GraphQL endpoint
    handed straight to its route. A connection lives as long as its subscriptions, and
    every layer it passes through keeps a coroutine frame that long (Starlette's app, its
    middleware, the router: 3.1 KB of each idle subscriber), while none of them acts on a
    WebSocket here: CORSMiddleware and GuardTransport pass it on, Starlette's error
    middlewares only catch what reaches them and the view does not raise (a failure is
    logged by uvicorn as before), and the route is the one the router would pick. An HTTP
    request to the endpoint is handed to its route too, unless a middleware (CORS) must see
    it (below)."""

    def __init__(
        self, graphql_socket: WebSocketRoute, graphql_http: Route, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.graphql_socket = graphql_socket
        self.graphql_http = graphql_http

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            route: Route | WebSocketRoute = self.graphql_socket
        elif kind == "http" and not (self.user_middleware or self.exception_handlers or self.debug):
            # A request to the endpoint, the same way when no middleware (CORS), exception
            # handler or debug page is set (none is, but CORS when configured): every
            # request's CPU went partly to frames that do nothing for it (Starlette's two
            # error middlewares and its router: GuardTransport answers every refusal, and
            # the view catches its own; an exception that still escapes gets uvicorn's 500,
            # as Starlette's error middleware would answer it; docs/request-path.md).
            route = self.graphql_http
        else:
            await super().__call__(scope, receive, send)
            return
        match, child_scope = route.matches(scope)
        if match is not Match.FULL:
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        scope.setdefault("router", self.router)
        scope.update(child_scope)
        await route.app(scope, receive, send)  # what its `handle` calls


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn serves the app, wherever it is started (command line, tests)."""
    return {
        # uvicorn's sans-I/O WebSocket protocol, leaner per connection (server/uvicorn_private.py).
        "ws": LeanWebSocketProtocol,
        # Per-message compression costs far more memory per idle subscriber than it saves.
        "ws_per_message_deflate": False,
        # A WebSocket message over the body limit closes the connection (1009).
        "ws_max_size": settings.max_body_bytes,
        # Each request gets one line from server/guard.py (clubjustice.access) instead.
        "access_log": False,
        # A worker that has not finished start-up (imports, building the schema) within
        # uvicorn's default 5 s is killed and replaced; on a loaded 2-core machine start-up
        # alone can take longer, and the replacement then dies the same way.
        "timeout_worker_healthcheck": 30,
    }


def create_served_app(
    settings: Settings | None = None, *, demo_token: str | None = None
) -> Starlette:
    """The factory uvicorn calls in each server process: settings and logging set up there,
    since worker processes do not inherit the command line's."""
    settings = settings or Settings()
    configure_logging(settings)
    # Thousands of idle subscribers are hundreds of thousands of long-lived objects, which
    # Python's default thresholds (700, 10, 10) make the collector rescan many times per
    # fan-out: bench/fanout.py measured p99 1.65 s at 5,000 subscribers with them, 0.72 s
    # with these.
    gc.set_threshold(*settings.gc_thresholds)
    return create_app(settings, demo_token=demo_token)
