"""Bearer-token authentication in front of /graphql: every operation needs a valid token.

A request without one gets HTTP 401 and a GraphQL-shaped body with the code
UNAUTHENTICATED; GraphiQL's page itself loads without a token (its requests carry one).
"""

import logging
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from db.engine import Database, SessionFactory
from db.tokens import authenticate
from resolvers.visibility import Principal

BEARER = "bearer "
logger = logging.getLogger("clubjustice.auth")


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    body = orjson.dumps(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    )
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="clubjustice"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def bearer_token(authorization: str | None) -> str | None:
    if authorization is None or not authorization.lower().startswith(BEARER):
        return None
    return authorization[len(BEARER) :].strip() or None


async def principal_for(
    session_factory: SessionFactory, authorization: str | None
) -> Principal | str:
    """The principal of a valid bearer token, or why there is none."""
    token = bearer_token(authorization)
    if token is None:
        return "Send `Authorization: Bearer <token>`."
    async with session_factory() as session:
        owner = await authenticate(session, token)
    if owner is None:
        return "The token is unknown or revoked."
    return Principal(
        owner.role, owner.organization_id, owner.organization_is_member, token_id=owner.token_id
    )


class RequireToken:
    """ASGI middleware for the GraphQL endpoint's HTTP requests. It serves GraphiQL's page
    itself (strawberry would build a request context, which needs a principal)."""

    def __init__(self, app: ASGIApp, *, graphiql_html: str | None) -> None:
        self.app = app
        self.graphiql_html = graphiql_html

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if self.graphiql_html is not None and _is_graphiql_page(scope, headers):
            await HTMLResponse(self.graphiql_html)(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        try:
            database: Database = state["database"]
            outcome = await principal_for(database.session_factory, headers.get("authorization"))
        except Exception:
            # The database is away (or worse): say so without details, log the details.
            logger.exception("authentication failed")
            await _refuse(send, 503, "INTERNAL_SERVER_ERROR", "Internal server error.")
            return
        if isinstance(outcome, str):
            await _refuse(send, 401, "UNAUTHENTICATED", outcome)
            return
        state["principal"] = outcome
        await self.app(scope, receive, send)


def _is_graphiql_page(scope: Scope, headers: Headers) -> bool:
    return (
        scope["method"] == "GET"
        and b"query=" not in scope.get("query_string", b"")
        and "text/html" in headers.get("accept", "")
    )
