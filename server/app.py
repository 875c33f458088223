"""The Starlette application: /graphql (HTTP and WebSocket), /healthz and /readyz."""

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from db.engine import Database
from db.migrate import ensure_migrated, migration_state, upgrade
from resolvers.context import Context
from schema.root import build_schema
from server.auth import RequireToken
from server.logs import configure_logging
from server.settings import Settings

logger = logging.getLogger("clubjustice.server")


class ClubJusticeGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app with our typed per-request context."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            build_schema(),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
        )
        self.settings = settings

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        database: Database = request.state.database
        return Context(
            settings=self.settings,
            principal=request.state.principal,  # set by RequireToken
            session_factory=database.session_factory,
            write_session_factory=database.write_session_factory,
        )


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    graphql = ClubJusticeGraphQL(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Database]]:
        database = Database.open(settings.database_url, echo=settings.db_echo)
        try:
            if settings.migrate_on_start:
                await upgrade(database.engine)
            await ensure_migrated(database.engine)
            # Starlette copies this into every request's and websocket's `state`.
            yield {"database": database}
        finally:
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
            # WebSocket (subscriptions) comes with live updates and its own authentication.
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
    return create_app(settings)
