"""GraphQL over HTTP: which media type answers a request (from its `Accept` header) and
with which status code.

We follow the GraphQL-over-HTTP draft as `graphql-http`'s server audits check it (the
Stage 2 text of May 2025): `application/graphql-response+json` and `application/json`
for single responses, each with its own status rules; `text/event-stream` (graphql-sse)
and `multipart/mixed;subscriptionSpec=1.0` (Apollo's multipart subscriptions) for
streams. docs/security.md ("GraphQL over HTTP") has the table.
"""

import functools
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final, Literal, cast

from strawberry.types import ExecutionResult

GRAPHQL_RESPONSE_JSON: Final = "application/graphql-response+json"
JSON: Final = "application/json"
SSE: Final = "text/event-stream"
MULTIPART: Final = "multipart/mixed"

# What a single response can be encoded as, and the streams a request can ask for; the
# order is ours to choose where the client leaves the choice to us (`*/*`).
Body = Literal["application/json", "application/graphql-response+json"]
Stream = Literal["sse", "multipart-subscription"]
OFFERS: Sequence[tuple[str, Body | Stream]] = (
    (JSON, JSON),
    (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
    (SSE, "sse"),
    (MULTIPART, "multipart-subscription"),
)
BODIES = (JSON, GRAPHQL_RESPONSE_JSON)
STREAMS = ("sse", "multipart-subscription")


@dataclass(frozen=True, slots=True)
class Negotiated:
    """The answer a request asked for.

    `body`: the media type of a single response (and of refusals).
    `stream`: the stream every operation answers with, when the client prefers one to JSON.
    `subscription_stream`: the stream a subscription answers with, None when the client
    accepts none (a subscription then cannot be answered)."""

    body: Body
    stream: Stream | None = None
    subscription_stream: Stream | None = None

    @property
    def content_type(self) -> str:
        return f"{self.body}; charset=utf-8"


# No `Accept` header is `*/*`: JSON, and graphql-sse for a subscription.
DEFAULT = Negotiated(JSON, None, "sse")

# The negotiated answer of the HTTP request being served, set by server/guard.py for the
# request's lifetime; everything that writes a response body reads it.
RESPONSE: ContextVar[Negotiated] = ContextVar("response", default=DEFAULT)


@dataclass(frozen=True, slots=True)
class MediaRange:
    kind: str
    parameters: Mapping[str, str]
    quality: float
    position: int

    def matches(self, offer: str) -> int | None:
        """How specifically this range names `offer` (2 exactly, 1 `type/*`, 0 `*/*`), or
        None when it does not."""
        if self.kind == "*/*":
            return 0
        major, _, minor = self.kind.partition("/")
        if minor == "*":
            return 1 if offer.startswith(f"{major}/") else None
        if self.kind != offer:
            return None
        return 2 if self.fits(offer) else None

    def fits(self, offer: str) -> bool:
        """The parameters we can honour: UTF-8 for JSON (assumed when not given), and for
        multipart, Apollo's subscription format with its boundary."""
        if offer == MULTIPART:
            spec = self.parameters.get("subscriptionspec", "")
            boundary = self.parameters.get("boundary", "graphql")
            return spec.startswith("1.0") and boundary == "graphql"
        charset = self.parameters.get("charset", "utf-8")
        return charset in ("utf-8", "utf8")


def parse_accept(header: str) -> list[MediaRange]:
    """The media ranges of an `Accept` header (RFC 9110), in their order; malformed ones
    are left out."""
    ranges = []
    for position, item in enumerate(header.split(",")):
        kind, *parameter_items = item.split(";")
        kind = kind.strip().lower()
        if kind.count("/") != 1:
            continue
        parameters: dict[str, str] = {}
        for parameter in parameter_items:
            name, _, value = parameter.partition("=")
            parameters[name.strip().lower()] = value.strip().strip('"').lower()
        try:
            quality = float(parameters.pop("q", "1"))
        except ValueError:
            continue
        if 0 <= quality <= 1:
            ranges.append(MediaRange(kind, parameters, quality, position))
    return ranges


@functools.lru_cache(maxsize=256)
def negotiate(accept: str | None) -> Negotiated | None:
    """The answer for an `Accept` header; None when it accepts nothing we can send (406).

    Each media type we offer takes the quality of the most specific range that names it.
    The best is the one with the highest quality; then the one named exactly over one
    matched by a wildcard; then the one listed first; then ours: JSON before
    graphql-response+json (`*/*`, or no header, is JSON, as graphql-http's audit expects),
    and JSON before a stream. A stream answers every operation only when it is the best;
    a subscription gets the best stream acceptable at all.
    """
    if accept is None or not accept.strip():
        return DEFAULT
    ranges = parse_accept(accept)
    ranked: list[tuple[tuple[float, int, int, int], Body | Stream]] = []
    for preference, (offer, answer) in enumerate(OFFERS):
        best: tuple[int, MediaRange] | None = None
        for media_range in ranges:
            specificity = media_range.matches(offer)
            if specificity is not None and (best is None or specificity > best[0]):
                best = (specificity, media_range)
        if best is None or best[1].quality == 0:
            continue
        specificity, media_range = best
        key = (-media_range.quality, -specificity, media_range.position, preference)
        ranked.append((key, answer))
    ranked.sort()
    answers = [answer for _, answer in ranked]
    if not answers:
        return None
    bodies = [answer for answer in answers if answer in BODIES]
    streams = [answer for answer in answers if answer in STREAMS]
    return Negotiated(
        # Refusals to a client that accepts only a stream are JSON: the best we can do.
        cast(Body, bodies[0]) if bodies else JSON,
        cast(Stream, answers[0]) if answers[0] in STREAMS else None,
        cast(Stream, streams[0]) if streams else None,
    )


def is_request_error(result: ExecutionResult) -> bool:
    """Whether the result is a GraphQL *request error*: raised before execution began
    (parse, validation, choosing the operation, coercing variables, our own refusals), so
    the response has no `data`. Field errors carry a `path`; an operation stopped while it
    ran is `Stopped`."""
    return (
        result.data is None
        and bool(result.errors)
        and not isinstance(result, Stopped)
        and all(error.path is None for error in result.errors or ())
    )


class Stopped(ExecutionResult):
    """An operation stopped while it ran (the execution timeout): `data` is null, as the
    GraphQL specification says for an error that prevented a valid response."""


def request_error_status(body: Mapping[str, Any]) -> int:
    """The status of a graphql-response+json body without `data`: 400 for the client's
    errors, 500 when the server failed."""
    codes = {(error.get("extensions") or {}).get("code") for error in body.get("errors") or ()}
    return 500 if "INTERNAL_SERVER_ERROR" in codes else 400
