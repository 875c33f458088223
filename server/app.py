"""The Starlette application: /graphql (HTTP and WebSocket), /healthz and /readyz."""

import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.types.unset import UNSET, UnsetType

from db.engine import Database
from db.enums import Role
from db.migrate import ensure_migrated, migration_state, upgrade
from db.notifier import ActivityFeed
from resolvers.context import Context
from resolvers.visibility import Principal
from schema.root import build_schema
from server.auth import RequireToken, principal_for
from server.logs import configure_logging
from server.settings import Settings
from server.websockets import LegacyGraphQLWSHandler

logger = logging.getLogger("clubjustice.server")


# Until a WebSocket's connection_init names a token: strawberry runs no operation before it
# acknowledges the connection (4401), so this never acts; were it to, it would see public
# fields only.
NOT_YET_AUTHENTICATED = Principal(Role.PARTNER)


class ClubJusticeGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app with our typed per-request context; subscriptions over
    graphql-transport-ws, legacy graphql-ws, graphql-sse and multipart HTTP."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            build_schema(),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
            subscription_protocols=(
                GRAPHQL_TRANSPORT_WS_PROTOCOL,
                GRAPHQL_WS_PROTOCOL,
                GRAPHQL_SSE_PROTOCOL,
                MULTIPART_SUBSCRIPTION_PROTOCOL,
            ),
            connection_init_wait_timeout=timedelta(seconds=settings.connection_init_timeout),
        )
        self.max_subscriptions_per_connection = settings.max_subscriptions_per_connection
        self.graphql_ws_handler_class = type(
            "ConfiguredLegacyGraphQLWSHandler",
            (LegacyGraphQLWSHandler,),
            {"init_timeout": timedelta(seconds=settings.connection_init_timeout)},
        )
        self.settings = settings

    def encode_json(self, data: object) -> str:
        # orjson: several times faster than the standard library, for every HTTP response and
        # every message to every subscriber. Text, not bytes: WebSocket clients expect text
        # frames.
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        database: Database = request.state.database
        return Context(
            settings=self.settings,
            # HTTP: set by RequireToken. WebSocket: set by on_ws_connect.
            principal=getattr(request.state, "principal", NOT_YET_AUTHENTICATED),
            session_factory=database.session_factory,
            write_session_factory=database.write_session_factory,
            feed=request.state.feed,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """connection_init must carry {"authorization": "Bearer <token>"}, once; else 4403."""
        if context.principal is not NOT_YET_AUTHENTICATED:
            # graphql-ws (legacy) accepts a second init; the principal of running
            # subscriptions must not change under them.
            raise ConnectionRejectionError({"message": "The connection is already initialised."})
        params = context.connection_params or {}
        authorization = params.get("authorization") or params.get("Authorization")
        try:
            outcome = await principal_for(
                context.session_factory, authorization if isinstance(authorization, str) else None
            )
        except Exception:
            logger.exception("authenticating a WebSocket connection failed")
            raise ConnectionRejectionError({"message": "Internal server error."}) from None
        if isinstance(outcome, str):
            raise ConnectionRejectionError({"message": outcome})
        context.principal = outcome
        context.transport = "websocket"
        return UNSET


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    graphql = ClubJusticeGraphQL(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        database = Database.open(settings.database_url, echo=settings.db_echo)
        feed = ActivityFeed(database, poll_interval=settings.live_poll_interval)
        try:
            if settings.migrate_on_start:
                await upgrade(database.engine)
            await ensure_migrated(database.engine)
            await feed.start()
            app.state.feed = feed  # for diagnostics and tests
            # Starlette copies this into every request's and websocket's `state`.
            yield {"database": database, "feed": feed}
        finally:
            await feed.stop()
            await database.engine.dispose()

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        try:
            engine = request.state.database.engine
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

    return Starlette(
        routes=[
            # WebSocket: authenticated by connection_init (on_ws_connect), not by a header.
            WebSocketRoute("/graphql", graphql),
            Route(
                "/graphql",
                RequireToken(
                    graphql, graphiql_html=graphql.graphql_ide_html if settings.graphiql else None
                ),
                methods=["GET", "POST"],
            ),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        lifespan=lifespan,
    )


def create_served_app() -> Starlette:
    """The factory uvicorn calls in each server process: settings and logging set up there,
    since worker processes do not inherit the command line's."""
    settings = Settings()
    configure_logging(settings)
    # Thousands of idle subscribers are hundreds of thousands of long-lived objects, which
    # Python's default thresholds (700, 10, 10) make the collector rescan many times per
    # fan-out: bench/fanout.py measured p99 1.65 s at 5,000 subscribers with them, 0.72 s
    # with these.
    gc.set_threshold(*settings.gc_thresholds)
    return create_app(settings)
