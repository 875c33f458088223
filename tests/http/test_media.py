"""server/media.py on its own: the answer each `Accept` header gets, and the status of a
graphql-response+json body without `data`."""

from typing import Final

import pytest

from server.media import (
    DEFAULT,
    GRAPHQL_RESPONSE_JSON,
    JSON,
    Negotiated,
    negotiate,
    request_error_status,
)

GR: Final = GRAPHQL_RESPONSE_JSON

URQL = (
    "application/graphql-response+json, application/graphql+json, application/json, "
    "text/event-stream, multipart/mixed"
)


@pytest.mark.parametrize(
    ("accept", "answer"),
    [
        # No header and */*: JSON (graphql-http's audit), graphql-sse for a subscription.
        (None, Negotiated(JSON, None, "sse")),
        ("", Negotiated(JSON, None, "sse")),
        ("*/*", Negotiated(JSON, None, "sse")),
        ("application/*", Negotiated(JSON)),
        (JSON, Negotiated(JSON)),
        (GR, Negotiated(GR)),
        (f"{GR}; charset=utf-8, {JSON}; charset=utf-8", Negotiated(GR)),
        # The order given decides between equals; q decides first.
        (f"{GR}, {JSON};q=0.9", Negotiated(GR)),
        (f"{JSON}, {GR}", Negotiated(JSON)),
        (f"{JSON};q=0.5, {GR}", Negotiated(GR)),
        # Named exactly beats a wildcard listed earlier.
        (f"*/*, {GR}", Negotiated(GR, None, "sse")),
        # q=0: not acceptable, even through a wildcard.
        (f"{JSON};q=0, */*", Negotiated(GR, None, "sse")),
        # urql 6 and a browser's navigation: JSON first, streams for subscriptions only.
        (URQL, Negotiated(GR, None, "sse")),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", DEFAULT),
        # Clients asking for a stream first (graphql-sse, Apollo's multipart subscriptions).
        ("text/event-stream", Negotiated(JSON, "sse", "sse")),
        (f"{JSON};q=0.5, text/event-stream", Negotiated(JSON, "sse", "sse")),
        ("text/event-stream, multipart/mixed", Negotiated(JSON, "sse", "sse")),
        (
            'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json',
            Negotiated(JSON, "multipart-subscription", "multipart-subscription"),
        ),
        (
            'multipart/mixed;subscriptionSpec="1.0"',
            Negotiated(JSON, "multipart-subscription", "multipart-subscription"),
        ),
        # Nothing we can send: 406.
        ("text/html", None),
        ("application/graphql+json", None),
        (f"{JSON}; charset=iso-8859-1", None),
        ("multipart/mixed", None),
        ("multipart/mixed;subscriptionSpec=1.0;boundary=other", None),
        ("*/*;q=0", None),
        ("not a media type", None),
    ],
)
def test_negotiation(accept: str | None, answer: Negotiated | None) -> None:
    assert negotiate(accept) == answer


def test_content_types_name_utf_8() -> None:
    assert Negotiated(GR).content_type == "application/graphql-response+json; charset=utf-8"
    assert Negotiated(JSON).content_type == "application/json; charset=utf-8"


@pytest.mark.parametrize(
    ("codes", "status"),
    [
        (["GRAPHQL_PARSE_FAILED"], 400),
        (["GRAPHQL_VALIDATION_FAILED", "COST_LIMIT_EXCEEDED"], 400),
        (["INTERNAL_SERVER_ERROR"], 500),
        (["BAD_USER_INPUT", "INTERNAL_SERVER_ERROR"], 500),
    ],
)
def test_a_request_error_is_the_client_s_unless_the_server_failed(
    codes: list[str], status: int
) -> None:
    body = {"errors": [{"message": "…", "extensions": {"code": code}} for code in codes]}
    assert request_error_status(body) == status
