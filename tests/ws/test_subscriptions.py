"""Subscriptions over a real WebSocket: delivery, filters, resume, access, protocols."""

import asyncio
import gc
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from club.enums import AttendanceRole, Role
from db.models import Attendance
from db.tokens import authenticate, revoke_token
from schema.ids import encode_id
from server.websockets import GraphQLTransportWSHandler
from tests.factories import add, country_ids, event, organization
from tests.ws.conftest import LiveServer, Subscriber, graphql, legacy_graphql_ws, until_subscribed

MEMBER_JOINED = """
subscription($country: String, $after: String) {
  memberJoined(countryCode: $country, after: $after) {
    cursor organization { slug status country { code } } sponsor { slug }
  }
}
"""
INVITE = """
mutation($guest: ID!) {
  inviteOrganization(input: {inviteeId: $guest}) { invitation { id } errors { code } }
}
"""
ACCEPT = (
    "mutation($id: ID!) { acceptInvitation(id: $id) { invitation { status } errors { code } } }"
)


class Club:
    """Members in Moldova and Kenya and guests of theirs, with tokens."""

    def __init__(self, server: LiveServer, make_token: Any) -> None:
        self.server = server
        self.tokens = make_token

    async def build(self, session_factory: Any) -> "Club":
        countries = await country_ids(session_factory, "MD", "KE")
        self.md_member = organization(countries["MD"], member=True, slug="md-member")
        self.ke_member = organization(countries["KE"], member=True, slug="ke-member")
        self.md_guests = [organization(countries["MD"], slug=f"md-guest-{i}") for i in range(4)]
        self.ke_guest = organization(countries["KE"], slug="ke-guest")
        await add(session_factory, self.md_member, self.ke_member, *self.md_guests, self.ke_guest)
        meeting = event(self.md_member.id, starts_at=datetime.now(UTC) - timedelta(days=1))
        await add(session_factory, meeting)
        await add(
            session_factory,
            *[
                Attendance(
                    event_id=meeting.id,
                    organization_id=g.id,
                    role=AttendanceRole.GUEST,
                    recorded_at=meeting.ends_at,
                )
                for g in (*self.md_guests, self.ke_guest)
            ],
        )
        self.admin = await self.tokens(Role.ADMIN)
        self.md_token = await self.tokens(Role.ORGANIZATION, self.md_member.id)
        self.ke_token = await self.tokens(Role.ORGANIZATION, self.ke_member.id)
        return self

    async def join(self, inviter_token: str, guest: Any) -> None:
        """The guest is invited and accepts, over HTTP: a memberJoined event."""
        sent = await graphql(
            self.server, inviter_token, INVITE, {"guest": encode_id("Organization", guest.id)}
        )
        invitation = sent["inviteOrganization"]["invitation"]
        assert invitation, sent
        guest_token = await self.tokens(Role.ORGANIZATION, guest.id)
        accepted = await graphql(self.server, guest_token, ACCEPT, {"id": invitation["id"]})
        assert accepted["acceptInvitation"]["errors"] == []


@pytest.fixture
async def club(live_server: LiveServer, make_token: Any, session_factory: Any) -> Club:
    return await Club(live_server, make_token).build(session_factory)


async def test_member_joined_is_delivered_with_its_filter(
    club: Club, live_server: LiveServer
) -> None:
    everyone = await Subscriber.open(live_server.ws, club.admin)
    kenya = await Subscriber.open(live_server.ws, club.admin)
    await everyone.subscribe(MEMBER_JOINED)
    await kenya.subscribe(MEMBER_JOINED, {"country": "ke"})
    await until_subscribed(live_server.feed, 2)
    await club.join(club.md_token, club.md_guests[0])
    await club.join(club.ke_token, club.ke_guest)

    first = (await everyone.next_data())["memberJoined"]
    assert first["organization"] == {
        "slug": "md-guest-0",
        "status": "MEMBER",
        "country": {"code": "MD"},
    }
    assert first["sponsor"] == {"slug": "md-member"}
    second = (await everyone.next_data())["memberJoined"]
    assert second["organization"]["slug"] == "ke-guest"
    # The Kenyan subscriber's first event is the Kenyan one: the Moldovan one never came.
    only = (await kenya.next_data())["memberJoined"]
    assert (only["organization"]["slug"], only["cursor"]) == ("ke-guest", second["cursor"])
    await everyone.close()
    await kenya.close()


async def test_a_refused_mutation_sends_no_event(club: Club, live_server: LiveServer) -> None:
    subscriber = await Subscriber.open(live_server.ws, club.admin)
    await subscriber.subscribe(MEMBER_JOINED)
    await until_subscribed(live_server.feed, 1)
    # The Kenyan member may not accept for a Moldovan guest: refused, rolled back, silent.
    sent = await graphql(
        live_server,
        club.md_token,
        INVITE,
        {"guest": encode_id("Organization", club.md_guests[1].id)},
    )
    refused = await graphql(
        live_server, club.ke_token, ACCEPT, {"id": sent["inviteOrganization"]["invitation"]["id"]}
    )
    assert refused["acceptInvitation"]["errors"] == [{"code": "NOT_FOUND"}]
    await club.join(club.md_token, club.md_guests[2])
    first = (await subscriber.next_data())["memberJoined"]
    assert first["organization"]["slug"] == "md-guest-2"
    await subscriber.close()


async def test_a_subscriber_resumes_from_its_last_cursor_without_gap_or_duplicate(
    club: Club, live_server: LiveServer
) -> None:
    subscriber = await Subscriber.open(live_server.ws, club.admin)
    await subscriber.subscribe(MEMBER_JOINED)
    await until_subscribed(live_server.feed, 1)
    await club.join(club.md_token, club.md_guests[0])
    last_cursor = (await subscriber.next_data())["memberJoined"]["cursor"]
    await subscriber.close()

    # Offline while two more join.
    await club.join(club.md_token, club.md_guests[1])
    await club.join(club.ke_token, club.ke_guest)

    back = await Subscriber.open(live_server.ws, club.admin)
    await back.subscribe(MEMBER_JOINED, {"after": last_cursor})
    missed = [(await back.next_data())["memberJoined"]["organization"]["slug"] for _ in range(2)]
    assert missed == ["md-guest-1", "ke-guest"]
    await club.join(club.md_token, club.md_guests[2])  # and then live
    assert (await back.next_data())["memberJoined"]["organization"]["slug"] == "md-guest-2"
    await back.close()


async def test_invitation_updates_reach_only_the_organizations_involved(
    club: Club, live_server: LiveServer, make_token: Any
) -> None:
    query = """
    subscription { invitationUpdates { kind invitation { invitee { slug } inviter { slug } } } }
    """
    kenya = await Subscriber.open(live_server.ws, club.ke_token)
    guest = await Subscriber.open(
        live_server.ws, await make_token(Role.ORGANIZATION, club.md_guests[3].id)
    )
    await kenya.subscribe(query)
    await guest.subscribe(query)
    await until_subscribed(live_server.feed, 2)
    await club.join(club.md_token, club.md_guests[0])  # neither Kenya's nor this guest's
    await graphql(
        live_server,
        club.ke_token,
        INVITE,
        {"guest": encode_id("Organization", club.md_guests[3].id)},
    )
    expected = {
        "kind": "SENT",
        "invitation": {"invitee": {"slug": "md-guest-3"}, "inviter": {"slug": "ke-member"}},
    }
    assert (await kenya.next_data())["invitationUpdates"] == expected
    assert (await guest.next_data())["invitationUpdates"] == expected
    await kenya.close()
    await guest.close()


async def test_a_bad_token_closes_4403_and_no_init_closes_4408(live_server: LiveServer) -> None:
    async with connect(live_server.ws, subprotocols=["graphql-transport-ws"]) as connection:  # type: ignore[list-item]
        await connection.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": "Bearer cj_nope"}})
        )
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(connection.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    async with connect(live_server.ws, subprotocols=["graphql-transport-ws"]) as connection:  # type: ignore[list-item]
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(connection.recv(), 5)  # connection_init_timeout is 1 s here
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408


async def test_an_initialised_connection_keeps_no_deadline_task(
    live_server: LiveServer, make_token: Any
) -> None:
    # The deadline's task, cancelled by connection_init, is dropped once done: kept, it held
    # its CancelledError and frames for the connection's life (server/websockets.py).
    token = await make_token(Role.PARTNER)
    # By `type`: `isinstance` of a weak proxy whose object is gone raises.
    before = {id(o) for o in gc.get_objects() if type(o) is GraphQLTransportWSHandler}
    subscriber = await Subscriber.open(live_server.ws, token)
    [handler] = [
        o for o in gc.get_objects() if type(o) is GraphQLTransportWSHandler and id(o) not in before
    ]
    for _ in range(100):  # the task's done callbacks run a few loop iterations later
        if handler.connection_init_timeout_task is None:
            break
        await asyncio.sleep(0.01)
    assert handler.connection_init_timeout_task is None
    assert handler.connection_acknowledged
    await subscriber.close()


async def test_a_revoked_token_ends_its_subscriptions(
    club: Club, live_server: LiveServer, session_factory: Any
) -> None:
    subscriber = await Subscriber.open(live_server.ws, club.ke_token)
    operation = await subscriber.subscribe(MEMBER_JOINED)
    await until_subscribed(live_server.feed, 1)
    async with session_factory() as session, session.begin():
        owner = await authenticate(session, club.ke_token)
        assert owner is not None
        await revoke_token(session, owner.token_id)
    # Revoked from outside the server (as the CLI does): its feed reads it within a poll.
    message = await subscriber.receive()
    assert message["id"] == operation
    assert message["type"] in ("next", "error")
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    assert [(e["message"], e.get("extensions")) for e in errors] == [
        ("The token was revoked.", {"code": "UNAUTHENTICATED"})
    ]
    await subscriber.close()


SUBSCRIPTION_LIMIT_EXCEEDED = {
    "message": "Subscription limit reached: a connection holds at most 20 operations at once; "
    "end one, or open another connection.",
    "extensions": {"code": "SUBSCRIPTION_LIMIT_EXCEEDED", "limit": 20},
}


async def test_subscriptions_per_connection_are_capped(club: Club, live_server: LiveServer) -> None:
    subscriber = await Subscriber.open(live_server.ws, club.admin)
    for _ in range(20):  # the setting's default
        await subscriber.subscribe(MEMBER_JOINED)
    extra = await subscriber.subscribe(MEMBER_JOINED)
    message = await subscriber.receive()
    assert message == {"id": extra, "type": "error", "payload": [SUBSCRIPTION_LIMIT_EXCEEDED]}
    await subscriber.close()


async def test_subscriptions_per_connection_are_capped_on_legacy_graphql_ws(
    club: Club, live_server: LiveServer
) -> None:
    async with legacy_graphql_ws(live_server.ws, club.admin) as connection:
        for operation in range(21):
            await connection.send(
                json.dumps(
                    {"id": str(operation), "type": "start", "payload": {"query": MEMBER_JOINED}}
                )
            )
        message = json.loads(await asyncio.wait_for(connection.recv(), 5))
        assert message == {"id": "20", "type": "error", "payload": SUBSCRIPTION_LIMIT_EXCEEDED}


async def test_the_legacy_graphql_ws_protocol(club: Club, live_server: LiveServer) -> None:
    async with legacy_graphql_ws(live_server.ws, club.admin) as connection:
        await connection.send(
            json.dumps({"id": "1", "type": "start", "payload": {"query": MEMBER_JOINED}})
        )
        await until_subscribed(live_server.feed, 1)
        await club.join(club.md_token, club.md_guests[0])
        message = json.loads(await asyncio.wait_for(connection.recv(), 10))
        assert message["type"] == "data"
        assert message["payload"]["data"]["memberJoined"]["organization"]["slug"] == "md-guest-0"
    # The same authentication; the legacy protocol refuses with its own connection_error.
    async with connect(live_server.ws, subprotocols=["graphql-ws"]) as connection:  # type: ignore[list-item]
        await connection.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await asyncio.wait_for(connection.recv(), 5)) == {
            "type": "connection_error",
            "payload": {
                "message": "Send `Authorization: Bearer <token>`.",
                "code": "UNAUTHENTICATED",
            },
        }
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(connection.recv(), 5)


async def test_subscriptions_over_http_server_sent_events(
    club: Club, live_server: LiveServer
) -> None:
    async with (
        httpx.AsyncClient(timeout=10) as client,
        client.stream(
            "POST",
            f"{live_server.http}/graphql",
            json={"query": MEMBER_JOINED},
            headers={"authorization": f"Bearer {club.admin}", "accept": "text/event-stream"},
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        joined = asyncio.create_task(_join_soon(club))
        async for line in response.aiter_lines():
            if line.startswith("data:") and "memberJoined" in line:
                data = json.loads(line.removeprefix("data:"))
                assert data["data"]["memberJoined"]["organization"]["slug"] == "md-guest-0"
                break
        await joined


async def _join_soon(club: Club) -> None:
    await until_subscribed(club.server.feed, 1)
    await club.join(club.md_token, club.md_guests[0])


async def test_subscriptions_over_http_multipart(club: Club, live_server: LiveServer) -> None:
    async with (
        httpx.AsyncClient(timeout=10) as client,
        client.stream(
            "POST",
            f"{live_server.http}/graphql",
            json={"query": MEMBER_JOINED},
            headers={
                "authorization": f"Bearer {club.admin}",
                "accept": 'multipart/mixed;subscriptionSpec="1.0"',
            },
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("multipart/mixed")
        joined = asyncio.create_task(_join_soon(club))
        received = ""
        async for chunk in response.aiter_text():
            received += chunk
            if "md-guest-0" in received:
                break
        await joined
        part = received[received.index('{"payload"') :].split("\r\n")[0]
        assert (
            json.loads(part)["payload"]["data"]["memberJoined"]["organization"]["slug"]
            == "md-guest-0"
        )


async def test_a_token_revoked_after_connecting_cannot_subscribe(
    club: Club, live_server: LiveServer, session_factory: Any
) -> None:
    subscriber = await Subscriber.open(live_server.ws, club.ke_token)
    async with session_factory() as session, session.begin():
        owner = await authenticate(session, club.ke_token)
        assert owner is not None
        await revoke_token(session, owner.token_id)
    operation = await subscriber.subscribe(MEMBER_JOINED)
    message = await subscriber.receive()
    assert message["id"] == operation
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    assert [(e["message"], e.get("extensions")) for e in errors] == [
        ("The token was revoked.", {"code": "UNAUTHENTICATED"})
    ]
    await subscriber.close()


async def test_init_happens_once_and_in_time_on_both_protocols(
    club: Club, live_server: LiveServer
) -> None:
    init = json.dumps(
        {"type": "connection_init", "payload": {"authorization": f"Bearer {club.admin}"}}
    )
    async with connect(live_server.ws, subprotocols=["graphql-ws"]) as connection:  # type: ignore[list-item]
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(connection.recv(), 5)  # connection_init_timeout is 1 s here
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408
    async with connect(live_server.ws, subprotocols=["graphql-ws"]) as connection:  # type: ignore[list-item]
        await connection.send(init)
        assert json.loads(await asyncio.wait_for(connection.recv(), 5)) == {
            "type": "connection_ack"
        }
        await connection.send(init)  # a second one would swap the principal of running work
        assert json.loads(await asyncio.wait_for(connection.recv(), 5)) == {
            "type": "connection_error",
            "payload": {"message": "The connection is already initialised."},
        }
    async with connect(live_server.ws, subprotocols=["graphql-transport-ws"]) as connection:  # type: ignore[list-item]
        await connection.send(init)
        assert json.loads(await asyncio.wait_for(connection.recv(), 5)) == {
            "type": "connection_ack"
        }
        await connection.send(init)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(connection.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429


async def test_a_cursor_ahead_of_the_log_is_refused(club: Club, live_server: LiveServer) -> None:
    subscriber = await Subscriber.open(live_server.ws, club.admin)
    operation = await subscriber.subscribe(MEMBER_JOINED, {"after": encode_id("Activity", 10**6)})
    message = await subscriber.receive()
    assert message["id"] == operation
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    assert [(e["message"], e.get("extensions")) for e in errors] == [
        ("This cursor is ahead of the activity log.", {"code": "BAD_USER_INPUT", "field": "after"})
    ]
    await subscriber.close()
