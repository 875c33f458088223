"""Bearer-token authentication and rate limits in front of /graphql: every operation needs
a valid token, and each token (or, without one, each client address) has a request budget.

A request without a valid token gets HTTP 401 and a GraphQL-shaped body with the code
UNAUTHENTICATED; over its budget, HTTP 429 with RATE_LIMITED and `Retry-After`. GraphiQL's
page itself loads without a token (its requests carry one). With CLUBJUSTICE_ANONYMOUS_READS,
a request with no credential at all (`server/guard.without_credential`) runs as ANONYMOUS
instead, on its client address's own budget; a bad token is still refused.
"""

import logging

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from club.access import Principal
from club.enums import Role
from club.errors import HTTPRejection
from club.metrics import Metrics
from club.ratelimit import CallerKey, RateLimiter, Verdict, address_digest
from club.settings import Settings
from db.engine import Database, RequestReads
from db.tokens import AnonymousOwner, Reader, TokenOwner, anonymous_owner, authenticate
from resolvers.context import RequestState, process_state, request_state
from server.guard import (
    authorization_among,
    bearer_token,
    is_graphiql_page,
    send_refusal,
    without_credential,
)

logger = logging.getLogger("clubjustice.auth")


def rate_limited(verdict: Verdict) -> HTTPRejection:
    return HTTPRejection(
        429,
        "RATE_LIMITED",
        f"Too many requests; retry in {verdict.retry_after_header} s.",
        {"Retry-After": verdict.retry_after_header},
    )


def caller_key(principal: Principal | None, scope: Scope) -> CallerKey:
    """Whose budget a request spends: its token's (by its id, never the token itself), or
    its client address's: apart for ANONYMOUS reads (under the address's digest) and for
    requests refused without a valid token."""
    if principal is not None and principal.role is not Role.ANONYMOUS:
        return ("token", principal.token_id)
    client = scope.get("client")
    address = client[0] if client else "unknown"
    if principal is None:
        return ("address", address)
    return ("anonymous", address_digest(address))


async def owner_of(
    reader: Reader, authorization: str | None, *, anonymous_reads: bool = False
) -> TokenOwner | AnonymousOwner | str:
    """The owner of a valid bearer token, or why there is none; with `anonymous_reads`, a
    request with no credential at all is ANONYMOUS's."""
    token = bearer_token(authorization)
    if token is None:
        if anonymous_reads and without_credential(authorization):
            return await anonymous_owner(reader)
        return "Send `Authorization: Bearer <token>`."
    owner = await authenticate(reader, token)
    if owner is None:
        return "The token is unknown or revoked."
    return owner


def principal_of(owner: TokenOwner | AnonymousOwner) -> Principal:
    return Principal(
        owner.role, owner.organization_id, owner.organization_is_member, token_id=owner.token_id
    )


async def principal_for(
    database: Database, authorization: str | None, *, anonymous_reads: bool = False
) -> Principal | str:
    """The principal of a valid bearer token, or why there is none (a WebSocket's
    connection_init: its connection is not held for the life of the socket)."""
    reads = database.request_reads()
    try:
        owner = await owner_of(reads, authorization, anonymous_reads=anonymous_reads)
    finally:
        await reads.release(finished=True)
    return owner if isinstance(owner, str) else principal_of(owner)


async def buffered(receive: Receive) -> Receive:
    """The whole request body read now, and a `receive` that hands it on in one message
    (then whatever the client sends next, such as a disconnect)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return replaying(
        {"type": "http.request", "body": b"".join(chunks), "more_body": False}, receive
    )


def replaying(message: Message, receive: Receive) -> Receive:
    """`receive` with `message`, already read, handed out once more first."""
    replay: Message | None = message

    async def receive_again() -> Message:
        nonlocal replay
        if replay is None:
            return await receive()
        given, replay = replay, None
        return given

    return receive_again


class RequireToken:
    """ASGI middleware for the GraphQL endpoint's HTTP requests. It serves GraphiQL's page
    itself (strawberry would build a request context, which needs a principal)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        graphiql_html: str | None,
        settings: Settings,
        limiter: RateLimiter,
        metrics: Metrics,
    ) -> None:
        self.app = app
        self.graphiql_html = graphiql_html
        self.settings = settings
        self.limiter = limiter
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if self.graphiql_html is not None and is_graphiql_page(scope, headers):
            await HTMLResponse(self.graphiql_html)(scope, receive, send)
            return
        database = process_state(scope).database
        # The body first (GuardTransport bounds it): a client that sends it slowly must not
        # hold a pooled connection meanwhile, or a few of them would starve everyone.
        receive = await buffered(receive)
        # The request's one connection: the token check takes it, the operation's reads
        # share it, and it goes back to the pool once the answer is ready (before it is sent,
        # for the same reason as above).
        reads = database.request_reads()
        try:
            await self.authenticated(reads, scope, receive, send, headers, request_state(scope))
        finally:
            await reads.release(finished=True)

    async def authenticated(
        self,
        reads: RequestReads,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: Headers,
        state: RequestState,
    ) -> None:
        try:
            outcome = await owner_of(
                reads,
                # Two headers: the first, unless it has no credential and another does.
                authorization_among(headers.getlist("authorization")),
                anonymous_reads=self.settings.anonymous_reads,
            )
        except Exception:
            # The database is away (or worse): say so without details, log the details.
            logger.exception("authentication failed")
            await send_refusal(
                send,
                HTTPRejection(503, "INTERNAL_SERVER_ERROR", "Internal server error."),
                self.metrics,
            )
            return
        if isinstance(outcome, str):
            # Requests without a valid token spend their client address's budget (never a
            # valid token's caller's: several clients can share an address).
            verdict = await self.limiter.take(
                caller_key(None, scope), self.settings.rate_limit(None)
            )
            if not verdict.allowed:
                await send_refusal(send, rate_limited(verdict), self.metrics)
                return
            await send_refusal(
                send,
                HTTPRejection(
                    401,
                    "UNAUTHENTICATED",
                    outcome,
                    {"WWW-Authenticate": 'Bearer realm="clubjustice"'},
                ),
                self.metrics,
            )
            return
        principal = principal_of(outcome)
        verdict = await self.limiter.take(
            caller_key(principal, scope), self.settings.rate_limit(principal.role)
        )
        if not verdict.allowed:
            await send_refusal(send, rate_limited(verdict), self.metrics)
            return
        state.principal = principal
        state.activity_high_water = outcome.activity_high_water
        state.reads = reads
        await self.app(scope, receive, send)
