"""Transport rules for /graphql over HTTP, checked before anything is parsed: a request id,
CSRF prevention, and the body size limit. Refusals are GraphQL-shaped JSON with a code.

CSRF: a browser sends some requests cross-site without asking first (no preflight): those
with no content type or a "simple" one (form posts, text/plain). Such a request runs only
if it carries a header no simple request can, one of PREFLIGHT_HEADERS (Apollo Server's
rule). JSON bodies always trigger a preflight, so they pass; GET requests need the header.
"""

import logging
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.datastructures import Headers, MutableHeaders, QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.logs import REQUEST_ID
from server.metrics import Metrics

access_log = logging.getLogger("clubjustice.access")

PREFLIGHT_HEADERS = (
    "graphql-require-preflight",
    "apollo-require-preflight",
    "x-apollo-operation-name",
)
JSON_TYPES = ("application/json", "application/graphql-response+json")
REQUEST_ID_HEADER = "x-request-id"
# A client's own request id is kept when it is short and plain (it ends up in log lines).
CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

STATUS_CODES: Mapping[int, str] = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
}


class HTTPRefusal(HTTPException):
    """An HTTP-level refusal with its error code and headers (e.g. Retry-After)."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status, message)
        self.code = code
        self.headers = dict(headers or {})


def refusal_body(code: str, message: str, **extensions: Any) -> bytes:
    return orjson.dumps(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    )


async def send_refusal(send: Send, refusal: HTTPRefusal, metrics: Metrics | None) -> None:
    if metrics is not None:
        metrics.errors.labels(refusal.code).inc()
    body = refusal_body(refusal.code, refusal.reason)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in refusal.headers.items()),
    ]
    await send({"type": "http.response.start", "status": refusal.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def refusal_for(error: HTTPException) -> HTTPRefusal:
    """strawberry's own HTTP errors (plain text) as refusals with a code."""
    if isinstance(error, HTTPRefusal):
        return error
    return HTTPRefusal(
        error.status_code, STATUS_CODES.get(error.status_code, "BAD_REQUEST"), error.reason
    )


class BodyTooLarge(Exception):
    pass


def is_graphiql_page(scope: Scope, headers: Headers) -> bool:
    """A browser opening /graphql: GET, asking for HTML, with no operation in the URL (read
    as the app reads it: `%71uery` is `query`)."""
    parameters = QueryParams(scope.get("query_string", b""))
    return (
        scope["method"] == "GET"
        and "query" not in parameters
        and "extensions" not in parameters
        and "text/html" in headers.get("accept", "")
    )


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
        request_id = given if CLIENT_REQUEST_ID.match(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        reset = REQUEST_ID.set(request_id)
        began = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            refusal = self.refusal(scope, headers)
            if refusal is not None:
                await send_refusal(send_with_id, refusal, self.metrics)
                return
            await self.app(scope, self.limited(receive), send_with_id)
        except BodyTooLarge:
            if not status:
                await send_refusal(send_with_id, self.too_large(), self.metrics)
        finally:
            principal = state.get("principal")
            operation_name, operation_type = state.get("operation", (None, None))
            # One reading of each field, for the text line and for its JSON keys alike.
            fields = {
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "duration_ms": round((time.perf_counter() - began) * 1000, 2),
                "role": principal.role.value if principal else None,
                "operation_type": operation_type,
                "operation_name": operation_name,
            }
            access_log.info(
                "%s %s %s %.1f ms %s %s %s",
                *(value if value is not None else "-" for value in fields.values()),
                extra={"request_id": request_id, **fields},
            )
            REQUEST_ID.reset(reset)

    def too_large(self) -> HTTPRefusal:
        return HTTPRefusal(
            413, "PAYLOAD_TOO_LARGE", f"The request body exceeds {self.max_body_bytes} bytes."
        )

    def refusal(self, scope: Scope, headers: Headers) -> HTTPRefusal | None:
        if self.graphiql and is_graphiql_page(scope, headers):
            return None
        length = headers.get("content-length")
        if length is not None and not length.isdigit():
            return HTTPRefusal(400, "BAD_REQUEST", "Content-Length is not a number.")
        if length is not None and int(length) > self.max_body_bytes:
            return self.too_large()
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if any(headers.get(name) for name in PREFLIGHT_HEADERS):
            if scope["method"] == "POST" and content_type not in JSON_TYPES:
                return HTTPRefusal(
                    415, "UNSUPPORTED_MEDIA_TYPE", "Send the operation as application/json."
                )
            return None
        if content_type in JSON_TYPES:
            return None
        return HTTPRefusal(
            400,
            "PREFLIGHT_REQUIRED",
            "This request could have been sent by a page on another site (it has no JSON "
            "content type); send it with `Content-Type: application/json` or, for GET, with "
            "the header `GraphQL-Require-Preflight: 1`.",
        )

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
