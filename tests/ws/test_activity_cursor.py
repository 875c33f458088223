"""Read the club, then follow it: `activityCursor` read in the same request as the data,
passed as a subscription's `after`, gives every change the data does not show, once —
over HTTP and for a query sent on the WebSocket itself."""

from typing import Any

from club.enums import Role
from club.settings import Settings
from tests.factories import add, country_ids, organization
from tests.ws.conftest import Subscriber, graphql, run_server, until_subscribed
from tests.ws.test_live_feed import MEMBER_JOINED, log_member_joined

READ = "{ activityCursor organizations(first: 5) { totalCount } }"


async def test_a_change_between_the_read_and_the_subscription_is_delivered_once(
    live_settings: Settings, make_token: Any, session_factory: Any
) -> None:
    md = (await country_ids(session_factory, "MD"))["MD"]
    joined = [organization(md, member=True, slug=f"joined-{i}") for i in range(4)]
    await add(session_factory, *joined)
    token = await make_token(Role.PARTNER)
    async for server in run_server(live_settings):
        await log_member_joined(session_factory, joined[0].id)  # before the read: in its data
        cursor = (await graphql(server, token, READ))["activityCursor"]
        await log_member_joined(session_factory, joined[1].id)  # between read and subscription

        client = await Subscriber.open(server.ws, token)
        # A query on the WebSocket reads its own mark: joined-1 is behind it.
        await client.subscribe(READ)
        on_socket = await client.next_data()
        assert (await client.receive())["type"] == "complete"
        assert on_socket["activityCursor"] != cursor

        await client.subscribe(MEMBER_JOINED, {"after": cursor})
        await until_subscribed(server.feed, 1)
        await log_member_joined(session_factory, joined[2].id)  # live
        slugs = [(await client.next_data())["memberJoined"] for _ in range(2)]
        assert [event["organization"]["slug"] for event in slugs] == ["joined-1", "joined-2"]
        # After the socket's own cursor (read after joined-1, before joined-2): joined-2
        # replayed, then joined-3 live, to both subscriptions.
        await client.subscribe(MEMBER_JOINED, {"after": on_socket["activityCursor"]})
        await until_subscribed(server.feed, 2)
        await log_member_joined(session_factory, joined[3].id)
        seen: dict[str, list[str]] = {"2": [], "3": []}
        for _ in range(3):
            message = await client.receive()
            seen[message["id"]].append(
                message["payload"]["data"]["memberJoined"]["organization"]["slug"]
            )
        assert seen == {"2": ["joined-3"], "3": ["joined-2", "joined-3"]}
        await client.close()
