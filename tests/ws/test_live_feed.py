"""The feed behind the subscriptions: one read per event whatever the number of
subscribers, a bounded queue per subscriber, and a PostgreSQL listener that survives losing
its connection."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from club.enums import ActivityKind, Role
from club.settings import Settings
from db.activity import Subject, append_activity
from db.engine import Database, create_write_session_factory
from db.models import ActivityLogEntry, Organization
from db.notifier import ActivityFeed, LiveEvent, Mailbox, SubscriberOverflow
from schema.ids import encode_id
from tests.conftest import statements_on
from tests.factories import add, build_club, country_ids, organization
from tests.ws.conftest import LiveServer, Subscriber, graphql, run_server, until_subscribed

MEMBER_JOINED = (
    "subscription($after: String) { memberJoined(after: $after) { cursor organization { slug } } }"
)


async def log_member_joined(session_factory: Any, organization_id: int, times: int = 1) -> None:
    """MEMBER_JOINED rows committed in one transaction by "another process" (no in-process
    wake-up)."""
    async with session_factory() as session, session.begin():
        for _ in range(times):
            await append_activity(
                session,
                ActivityKind.MEMBER_JOINED,
                occurred_at=datetime.now(UTC),
                subject=Subject.of(Organization, organization_id),
            )


WITH_RELATIONS = """
subscription { memberJoined { organization { slug country { code } } sponsor { slug } } }
"""


async def test_one_read_per_event_whatever_the_number_of_subscribers(
    live_settings: Settings, make_token: Any, session_factory: Any
) -> None:
    md = (await country_ids(session_factory, "MD"))["MD"]
    sponsor = organization(md, member=True, slug="sponsor")
    await add(session_factory, sponsor)
    joined = [
        organization(md, member=True, slug=f"joined-{i}", sponsor_id=sponsor.id) for i in range(2)
    ]
    await add(session_factory, *joined)
    admin = await make_token(Role.ADMIN)
    counts = []
    async for server in run_server(live_settings):
        await server.feed.stop()  # this test reads the log itself: nothing reads alongside
        for subscribers, row in ((1, joined[0]), (12, joined[1])):
            clients = [await Subscriber.open(server.ws, admin) for _ in range(subscribers)]
            for client in clients:
                await client.subscribe(WITH_RELATIONS)
            await until_subscribed(server.feed, subscribers)
            await log_member_joined(session_factory, row.id)
            with statements_on(server.feed.database.engine) as log:
                await server.feed.read_new()
                for client in clients:
                    assert await client.next_data() == {
                        "memberJoined": {
                            "organization": {"slug": row.slug, "country": {"code": "MD"}},
                            "sponsor": {"slug": "sponsor"},
                        }
                    }
            # Each subscription checks its token once more right after it registers; on a
            # loaded machine that check can still be on its way when the event is read.
            # It is not a read of the event: leave it out.
            counts.append(sum("api_tokens" not in statement for statement in log.statements))
            for client in clients:
                await client.close()
            await until_subscribed(server.feed, 0)
    # The log row and its organization, read once by the feed; then the country and the
    # sponsor, read once for every subscriber together: for one subscriber or twelve.
    assert counts == [4, 4]


WITH_COUNTS = """
subscription { memberJoined {
  organization { slug country { code memberCount } } sponsor { slug } } }
"""


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "reference"])
async def test_one_read_per_event_whatever_the_visibility_classes(
    live_settings: Settings, make_token: Any, session_factory: Any, compiled: bool
) -> None:
    """Subscribers of three visibility classes cost three executions of an event, and each
    relation is still read once for all of them: by the event's loaders (the reference
    executor), by the event's shared statements (the compiled plan, schema/compiled/run.py
    `SharedReads`), the country's member count among them."""
    md = (await country_ids(session_factory, "MD"))["MD"]
    sponsor = organization(md, member=True, slug="sponsor")
    await add(session_factory, sponsor)
    joined = organization(md, member=True, slug="joined", sponsor_id=sponsor.id)
    await add(session_factory, joined)
    tokens = [await make_token(role) for role in (Role.ADMIN, Role.PARTNER, Role.ADMIN)]
    tokens.append(await make_token(Role.ORGANIZATION, organization_id=sponsor.id))
    settings = live_settings.model_copy(update={"compiled_reads": compiled})
    async for server in run_server(settings):
        await server.feed.stop()  # this test reads the log itself: nothing reads alongside
        clients = [await Subscriber.open(server.ws, token) for token in tokens]
        for client in clients:
            await client.subscribe(WITH_COUNTS)
        await until_subscribed(server.feed, len(clients))
        await log_member_joined(session_factory, joined.id)
        with statements_on(server.feed.database.engine) as log:
            await server.feed.read_new()
            for client in clients:
                assert await client.next_data() == {
                    "memberJoined": {
                        "organization": {
                            "slug": "joined",
                            "country": {"code": "MD", "memberCount": 2},
                        },
                        "sponsor": {"slug": "sponsor"},
                    }
                }
        reads = [statement for statement in log.statements if "api_tokens" not in statement]
        async with httpx.AsyncClient() as http:
            exposed = (await http.get(f"{server.http}/metrics")).text
        answers = {
            sample.labels["path"]: sample.value
            for family in text_string_to_metric_families(exposed)
            for sample in family.samples
            if sample.name == "clubjustice_subscription_event_answers_total"
        }
        for client in clients:
            await client.close()
    # The log row and its organization (the feed); the country, its member count and the
    # sponsor, once for the three executions.
    assert len(reads) == 5, reads
    assert answers == {"compiled" if compiled else "reference": 3}


async def test_a_slow_subscriber_is_ended_with_the_cursor_to_resume_from() -> None:
    mailbox = Mailbox(lambda live: True, capacity=3)

    def live(n: int) -> LiveEvent:
        return LiveEvent(ActivityLogEntry(id=n, kind=ActivityKind.MEMBER_JOINED.value, payload={}))

    for n in range(1, 4):
        mailbox.offer(live(n))
    assert [(await mailbox.next()).id for _ in range(2)] == [1, 2]
    for n in range(4, 7):
        mailbox.offer(live(n))  # 3, 4, 5 fill it; 6 overflows
    assert len(mailbox.items) == 0  # what it held is dropped: memory stays bounded
    with pytest.raises(SubscriberOverflow):
        await mailbox.next()


async def test_overflow_over_the_wire_names_the_cursor(
    live_settings: Settings, session_factory: Any, make_token: Any
) -> None:
    md = (await country_ids(session_factory, "MD"))["MD"]
    joined = organization(md, member=True, slug="joined")
    await add(session_factory, joined)
    admin = await make_token(Role.ADMIN)
    async for server in run_server(live_settings.model_copy(update={"subscriber_queue_size": 2})):
        client = await Subscriber.open(server.ws, admin)
        await client.subscribe(MEMBER_JOINED)
        await until_subscribed(server.feed, 1)
        await log_member_joined(session_factory, joined.id)
        server.feed.wake()
        first = (await client.next_data())["memberJoined"]["cursor"]
        # Five events commit at once and reach the feed in one read, more than the
        # subscriber's queue holds.
        mailbox = next(iter(server.feed.mailboxes))
        await server.feed.stop()  # this test reads the log itself: nothing reads alongside
        await log_member_joined(session_factory, joined.id, times=5)
        await server.feed.read_new()
        assert mailbox.ended is SubscriberOverflow
        message = await client.receive()
        errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
        assert [e.get("extensions") for e in errors] == [
            {"code": "SUBSCRIPTION_OVERFLOW", "resumeAfter": first}
        ]
        await client.close()


async def test_meeting_updates_follow_one_event(
    live_server: LiveServer, make_token: Any, session_factory: Any
) -> None:
    club = await build_club(session_factory, organizations=3, events=0, working_groups=1)
    host = club.organization_ids[1]  # a member in build_club
    admin = await make_token(Role.ADMIN)
    host_token = await make_token(Role.ORGANIZATION, host)
    schedule = """
    mutation($host: ID!, $start: DateTime!, $end: DateTime!) {
      scheduleEvent(input: {title: "Watched", kind: HYBRID, hostId: $host,
                            startsAt: $start, endsAt: $end}) { event { id } }
    }"""
    start = datetime.now(UTC) + timedelta(days=2)
    variables = {
        "host": encode_id("Organization", host),
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
    }
    watched = (await graphql(live_server, admin, schedule, variables))["scheduleEvent"]["event"][
        "id"
    ]
    other = (await graphql(live_server, admin, schedule, variables))["scheduleEvent"]["event"]["id"]

    client = await Subscriber.open(live_server.ws, admin)
    await client.subscribe(
        """subscription($id: ID) {
          meetingUpdates(eventId: $id) { kind event { title status cancellationReason } }
        }""",
        {"id": watched},
    )
    await until_subscribed(live_server.feed, 1)
    cancel = 'mutation($id: ID!) { cancelEvent(id: $id, reason: "Storm") { event { id } } }'
    update = (
        'mutation($id: ID!) { updateEvent(id: $id, input: {title: "Renamed"}) { event { id } } }'
    )
    await graphql(live_server, host_token, update, {"id": other})
    await graphql(live_server, host_token, update, {"id": watched})
    await graphql(live_server, host_token, cancel, {"id": watched})
    assert await client.next_data() == {
        "meetingUpdates": {
            "kind": "UPDATED",
            "event": {"title": "Renamed", "status": "SCHEDULED", "cancellationReason": None},
        }
    }
    assert await client.next_data() == {
        "meetingUpdates": {
            "kind": "CANCELLED",
            "event": {"title": "Renamed", "status": "CANCELLED", "cancellationReason": "Storm"},
        }
    }
    await client.close()


async def test_the_listener_reconnects_and_catches_up(
    engine: Any, live_settings: Settings, session_factory: Any, make_token: Any
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite's processes poll")
    md = (await country_ids(session_factory, "MD"))["MD"]
    joined = [organization(md, member=True, slug=f"joined-{i}") for i in range(2)]
    await add(session_factory, *joined)
    admin = await make_token(Role.ADMIN)
    # No polling to fall back on: only NOTIFY can wake this server's feed.
    async for server in run_server(live_settings.model_copy(update={"live_poll_interval": 3600})):
        client = await Subscriber.open(server.ws, admin)
        await client.subscribe(MEMBER_JOINED)
        await until_subscribed(server.feed, 1)
        assert server.feed.listener_connections == 1
        await log_member_joined(session_factory, joined[0].id)  # another process's change
        server.feed.reconnect_delay = 2.0  # so the next change commits while it is away
        assert (await client.next_data())["memberJoined"]["organization"]["slug"] == "joined-0"

        async with session_factory() as session, session.begin():
            terminated = await session.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = 'clubjustice-listener' "
                    "AND datname = current_database()"
                )
            )
        assert terminated == 1
        # Committed while the listener is down: its NOTIFY reaches nobody. The listener
        # comes back and reads the log from where it was.
        await log_member_joined(session_factory, joined[1].id)
        assert (await client.next_data())["memberJoined"]["organization"]["slug"] == "joined-1"
        assert server.feed.listener_connections == 2
        await client.close()


async def test_private_fields_in_events_follow_each_subscribers_visibility(
    live_server: LiveServer, make_token: Any, session_factory: Any
) -> None:
    club = await build_club(session_factory, organizations=3, events=0, working_groups=0)
    host = club.organization_ids[1]  # a member in build_club
    admin = await make_token(Role.ADMIN)
    watchers = {
        "partner": await Subscriber.open(live_server.ws, await make_token(Role.PARTNER)),
        "member": await Subscriber.open(live_server.ws, await make_token(Role.ORGANIZATION, host)),
    }
    for watcher in watchers.values():
        await watcher.subscribe("subscription { meetingUpdates { kind event { meetingUrl } } }")
    await until_subscribed(live_server.feed, 2)
    start = datetime.now(UTC) + timedelta(days=3)
    await graphql(
        live_server,
        admin,
        """mutation($host: ID!, $start: DateTime!, $end: DateTime!) {
          scheduleEvent(input: {title: "Private link", kind: ONLINE_MEETING, hostId: $host,
                                startsAt: $start, endsAt: $end,
                                meetingUrl: "https://meet.example.org/private"}) { event { id } }
        }""",
        {
            "host": encode_id("Organization", host),
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
        },
    )
    seen = {who: (await watcher.next_data())["meetingUpdates"] for who, watcher in watchers.items()}
    assert seen == {
        "partner": {"kind": "SCHEDULED", "event": {"meetingUrl": None}},
        "member": {
            "kind": "SCHEDULED",
            "event": {"meetingUrl": "https://meet.example.org/private"},
        },
    }
    for watcher in watchers.values():
        await watcher.close()


async def test_a_stop_while_the_listener_starts_listening_fails_nothing(
    engine: Any, session_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`stop` ends the listener's connection while its LISTEN is in flight (a server shut
    down as it starts): asyncpg raises what its closed connection makes of the call, and
    the listener's task ends quietly instead of failing with it."""
    if engine.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite's processes poll")
    listening = asyncio.Event()
    add_listener = asyncpg.Connection.add_listener

    async def add_listener_slowly(self: asyncpg.Connection, *args: Any) -> None:
        listening.set()
        await asyncio.sleep(0.05)  # `stop` terminates the connection meanwhile
        await add_listener(self, *args)

    monkeypatch.setattr(asyncpg.Connection, "add_listener", add_listener_slowly)
    database = Database(engine, session_factory, create_write_session_factory(engine))
    feed = ActivityFeed(database, poll_interval=3600)
    await feed.start()
    await asyncio.wait_for(listening.wait(), 10)
    await feed.stop()
    assert [task.exception() for task in feed._tasks] == [None, None]
