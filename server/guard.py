"""Transport rules for /graphql over HTTP, checked before anything is parsed: a request id,
the response's media type (from `Accept`, server/media.py), CSRF prevention, and the body
size limit. Refusals are GraphQL-shaped JSON with a code.

CSRF: the only credential this API accepts is a bearer token in the `Authorization` header.
Browsers never attach one by themselves, and a cross-site page that sets it triggers a
CORS preflight, which fails for every origin not in CLUBJUSTICE_CORS_ORIGINS. So a request
with a bearer token needs nothing more. A request without one could be a "simple" request
a page on another site made a browser send without asking first (a form post, a GET for an
image): it runs only if it cannot be simple, i.e. it has a JSON body or carries one of
PREFLIGHT_HEADERS (Apollo Server's rule). docs/security.md explains what that still guards.
"""

import os
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.datastructures import Headers, MutableHeaders, QueryParams
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from club.errors import HTTPRejection
from club.metrics import Metrics
from resolvers.context import start_request_state
from server.logs import REQUEST_ID, log_request
from server.media import DEFAULT, GRAPHQL_RESPONSE_JSON, RESPONSE, Negotiated, negotiate
from server.pages import SECURITY_HEADERS

PREFLIGHT_HEADERS = (
    "graphql-require-preflight",
    "apollo-require-preflight",
    "x-apollo-operation-name",
)
JSON_TYPES = ("application/json", "application/graphql-response+json")
BEARER = "bearer "
REQUEST_ID_HEADER = "x-request-id"
# A client's own request id is kept when it is short and plain (it ends up in log lines).
CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def new_request_id() -> str:
    """A request's id when the client sends none: 32 hex digits, as `uuid4().hex` writes
    them, but all 128 bits random (a UUID4 fixes 6 of them, and its version digit is 4) and
    without the `UUID` object (0.3 µs instead of 1.6 on this machine)."""
    return os.urandom(16).hex()


STATUS_CODES: Mapping[int, str] = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
}


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header."""
    if authorization is None or not authorization.lower().startswith(BEARER):
        return None
    return authorization[len(BEARER) :].strip() or None


def without_credential(authorization: str | None) -> bool:
    """Whether a request carries no credential of this API: no `Authorization` header (or an
    empty one), or HTTP Basic, which a proxy in front of us may ask browsers for and this API
    never reads. `Bearer` with a bad or no token, or any other scheme, is a credential, and a
    wrong one (docs/security.md, "Anonymous reads")."""
    if authorization is None or not authorization.strip():
        return True
    return authorization.strip().split(None, 1)[0].lower() == "basic"


# What a request carries that is checked as a credential and can never be a valid one: an
# `authorization` that is no header's value (a WebSocket's connection_init), or a credential
# beside an `Authorization` without one (two headers, or both spellings of the key).
NOT_A_CREDENTIAL = "(not a single bearer token)"


def authorization_among(values: Sequence[object]) -> str | None:
    """The one `Authorization` of a request that carries these, in the order it reads them:
    the first, as always, unless reading it would take a credential for the absence of one,
    that is when it is not a string (no header's value), or has no credential of ours
    (`without_credential`) while another does. A credential given anywhere is checked, and a
    bad one refused (NOT_A_CREDENTIAL), never read as ANONYMOUS."""
    if not values:
        return None
    first = values[0]
    if not isinstance(first, str):
        return NOT_A_CREDENTIAL
    if without_credential(first) and not all(
        isinstance(value, str) and without_credential(value) for value in values[1:]
    ):
        return NOT_A_CREDENTIAL
    return first


def refusal_body(code: str, message: str, **extensions: Any) -> bytes:
    """A refusal in the negotiated media type: graphql-response+json has no `data` when
    nothing ran; application/json keeps `"data": null`, as it always has."""
    body: dict[str, Any] = {
        "errors": [{"message": message, "extensions": {"code": code, **extensions}}]
    }
    if RESPONSE.get().body != GRAPHQL_RESPONSE_JSON:
        body = {"data": None, **body}
    return orjson.dumps(body)


async def send_refusal(send: Send, refusal: HTTPRejection, metrics: Metrics | None) -> None:
    if metrics is not None:
        metrics.errors.labels(refusal.code).inc()
    body = refusal_body(refusal.code, refusal.message)
    headers = [
        (b"content-type", RESPONSE.get().content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in refusal.headers.items()),
    ]
    await send({"type": "http.response.start", "status": refusal.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def refusal_for(error: HTTPRejection | HTTPException) -> HTTPRejection:
    """Our rejections, and strawberry's own HTTP errors (plain text) as rejections with a
    code."""
    if isinstance(error, HTTPRejection):
        return error
    return HTTPRejection(
        error.status_code, STATUS_CODES.get(error.status_code, "BAD_REQUEST"), error.reason
    )


# Response headers GuardTransport sets, merging with a value already there.
_SET_HERE = (REQUEST_ID_HEADER.encode(), b"vary")


class BodyTooLarge(Exception):
    pass


def is_graphiql_page(scope: Scope, headers: Headers) -> bool:
    """A browser opening /graphql: GET, asking for HTML, with no operation in the URL (read
    as the app reads it: `%71uery` is `query`). The URL is parsed last: for a GET asking
    for HTML only, not for every operation."""
    if scope["method"] != "GET" or "text/html" not in headers.get("accept", ""):
        return False
    parameters = QueryParams(scope.get("query_string", b""))
    return "query" not in parameters and "extensions" not in parameters


class GuardTransport:
    """Also logs one line per request (`clubjustice.access`): method, status, duration,
    the caller's role and the operation's name and type."""

    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, metrics: Metrics, graphiql: bool
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics
        self.graphiql = graphiql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        given = headers.get(REQUEST_ID_HEADER, "")
        request_id = given if CLIENT_REQUEST_ID.match(given) else new_request_id()
        state = start_request_state(scope, request_id)
        reset = REQUEST_ID.set(request_id)
        graphiql_page = self.graphiql and is_graphiql_page(scope, headers)
        negotiated = negotiate(headers.get("accept"))
        reset_response = RESPONSE.set(negotiated or DEFAULT)
        began = time.perf_counter()
        status = 0
        disconnected = False

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                raw = message.get("headers", [])
                # The answer depends on `Accept` (its media type; GraphiQL's page or not): a
                # cache in between (a CDN for persisted queries over GET) must keep it apart.
                if any(name.lower() in _SET_HERE for name, _ in raw):
                    response_headers = MutableHeaders(scope=message)
                    response_headers[REQUEST_ID_HEADER] = request_id
                    response_headers.add_vary_header("Accept")
                else:  # the same two headers, without building MutableHeaders
                    message["headers"] = [
                        *raw,
                        (b"x-request-id", request_id.encode("latin-1")),
                        (b"vary", b"Accept"),
                    ]
                if graphiql_page:
                    response_headers = MutableHeaders(scope=message)
                    # GraphiQL keeps the token typed into it (in the browser's storage):
                    # no other site may frame it and trick a click on a prepared operation;
                    # and all it loads is ours (server/pages.py).
                    response_headers.update(SECURITY_HEADERS)
            await send(message)

        try:
            refusal = None if graphiql_page else self.refusal(scope, headers, negotiated)
            if refusal is not None:
                await send_refusal(send_with_id, refusal, self.metrics)
                return
            await self.app(scope, self.limited(receive), send_with_id)
        except BodyTooLarge:
            if not status:
                await send_refusal(send_with_id, self.too_large(), self.metrics)
        except ClientDisconnect:
            # The client went away before we read its whole request (e.g. it gave up while
            # the token was checked): nobody is left to answer, and nothing failed here. Its
            # access line says so; no traceback, no error.
            disconnected = True
        finally:
            log_request(
                request_id,
                scope["method"],
                scope["path"],
                status,
                began,
                state.principal,
                state.operation or (None, None),
                disconnected=disconnected,
            )
            RESPONSE.reset(reset_response)
            REQUEST_ID.reset(reset)

    def too_large(self) -> HTTPRejection:
        return HTTPRejection(
            413, "PAYLOAD_TOO_LARGE", f"The request body exceeds {self.max_body_bytes} bytes."
        )

    def refusal(
        self, scope: Scope, headers: Headers, negotiated: Negotiated | None
    ) -> HTTPRejection | None:
        if scope["method"] not in ("GET", "POST"):
            # Starlette's own refusal is plain text, without a code.
            return HTTPRejection(
                405,
                "METHOD_NOT_ALLOWED",
                "/graphql answers GET (queries and subscriptions) and POST.",
                {"Allow": "GET, POST"},
            )
        length = headers.get("content-length")
        if length is not None and not length.isdigit():
            return HTTPRejection(400, "BAD_REQUEST", "Content-Length is not a number.")
        if length is not None and int(length) > self.max_body_bytes:
            return self.too_large()
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        # A bearer token or a preflight header: a browser asks first (CORS) before sending
        # either to another site.
        preflighted = bearer_token(headers.get("authorization")) is not None or any(
            headers.get(name) for name in PREFLIGHT_HEADERS
        )
        if preflighted:
            if scope["method"] == "POST" and content_type not in JSON_TYPES:
                return HTTPRejection(
                    415, "UNSUPPORTED_MEDIA_TYPE", "Send the operation as application/json."
                )
        elif content_type not in JSON_TYPES:
            return HTTPRejection(
                400,
                "PREFLIGHT_REQUIRED",
                "This request could have been sent by a page on another site (it has neither "
                "a bearer token nor a JSON content type); send `Authorization: Bearer "
                "<token>`, or for a request without a token, `Content-Type: application/json` "
                "or the header `GraphQL-Require-Preflight: 1`.",
            )
        if negotiated is None:
            return HTTPRejection(
                406,
                "NOT_ACCEPTABLE",
                "`Accept` names no media type this endpoint answers with: "
                "application/graphql-response+json, application/json, text/event-stream "
                "(graphql-sse) or multipart/mixed;subscriptionSpec=1.0.",
            )
        return None

    def limited(self, receive: Receive) -> Receive:
        received = 0
        limit = self.max_body_bytes

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        return receive_within_limit
