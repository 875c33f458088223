"""Each operation limit over WebSocket (graphql-transport-ws): just under it the subscription
registers with the feed, just over it gets an `error` message with the limit's code. Also
the request budget of subscriptions and the message size limit."""

from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from club.enums import Role
from club.settings import Settings
from tests.limit_cases import CASES, PARSER_LIMITS, LimitCase, over
from tests.ws.conftest import LiveServer, Subscriber, run_server, until_subscribed

WS_CASES = [case for case in CASES if case.subscription is not None]


async def refusal_of(subscriber: Subscriber, query: str) -> dict[str, Any]:
    operation = await subscriber.subscribe(query)
    message = await subscriber.receive()
    assert (message["type"], message["id"]) == ("error", operation), message
    [error] = message["payload"]
    return error  # type: ignore[no-any-return]


@pytest.mark.parametrize("case", WS_CASES, ids=lambda case: case.code)
async def test_just_under_the_limit_subscribes_and_just_over_is_refused(
    live_settings: Settings, session_factory: Any, make_token: Any, case: LimitCase
) -> None:
    assert case.subscription is not None
    limit = case.ws_limit or case.limit
    settings = live_settings.model_copy(update=case.settings)
    if case.ws_limit is not None:
        settings = settings.model_copy(update={"max_root_fields": case.ws_limit})
    async for server in run_server(settings):
        subscriber = await Subscriber.open(server.ws, await make_token(Role.PARTNER))
        try:
            await subscriber.subscribe(case.subscription(limit))
            await until_subscribed(server.feed, 1)

            error = await refusal_of(subscriber, case.subscription(over(case, limit)))
            assert error["extensions"]["code"] == case.code
            if case.code not in PARSER_LIMITS:
                assert error["extensions"]["measured"] > limit
            assert len(server.feed.mailboxes) == 1  # the refused one never registered
        finally:
            await subscriber.close()


@pytest.fixture
def budget_settings(live_settings: Settings) -> Settings:
    return live_settings.model_copy(update={"rate_limit_partner": 3})


async def test_subscriptions_spend_the_token_budget(
    budget_settings: Settings, session_factory: Any, make_token: Any
) -> None:
    async for server in run_server(budget_settings):
        subscriber = await Subscriber.open(server.ws, await make_token(Role.PARTNER))
        try:
            for _ in range(3):
                await subscriber.subscribe("subscription { memberJoined { cursor } }")
            await until_subscribed(server.feed, 3)
            error = await refusal_of(subscriber, "subscription { memberJoined { cursor } }")
            assert error["extensions"]["code"] == "RATE_LIMITED"
            assert error["extensions"]["retryAfter"] >= 1
        finally:
            await subscriber.close()


async def test_a_message_over_the_size_limit_closes_the_connection(
    live_server: LiveServer, live_settings: Settings, make_token: Any
) -> None:
    subscriber = await Subscriber.open(live_server.ws, await make_token(Role.PARTNER))
    padding = "x" * (live_settings.max_body_bytes - 200)
    # Just under: an unused variable pads the message.
    await subscriber.send(
        {
            "id": "1",
            "type": "subscribe",
            "payload": {
                "query": "subscription { memberJoined { cursor } }",
                "variables": {"pad": padding},
            },
        }
    )
    await until_subscribed(live_server.feed, 1)
    with pytest.raises(ConnectionClosed) as closed:
        await subscriber.send(
            {
                "id": "2",
                "type": "subscribe",
                "payload": {
                    "query": "subscription { memberJoined { cursor } }",
                    "variables": {"pad": padding + "x" * 400},
                },
            }
        )
        await subscriber.receive()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009  # message too big
