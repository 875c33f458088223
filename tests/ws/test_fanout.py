"""Fan-out that executes once (schema/fanout.py): an event is executed once per distinct
document, variables read below the root field, and visibility class among its subscribers,
and each of them still gets the answer its own selection, variables and token call for."""

import asyncio
import gc
import json
import types
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast

import orjson
import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse
from strawberry.dataloader import DataLoader

import resolvers.loaders
import schema.compiled.run
import schema.fanout
from club.enums import Role
from club.errors import RequestError
from club.settings import Settings
from db import models
from resolvers.loaders import LoaderProperty, Loaders, ShieldedDataLoader
from schema.compiled.run import Run
from schema.fanout import (
    SharedData,
    encode_message,
    events_with_answers,
    variables_key,
    variables_read_below_root,
)
from schema.organizations import Organization
from server.websockets import GraphQLTransportWSHandler
from tests.factories import add, country_ids, organization
from tests.ws.conftest import (
    EVENT_TIMEOUT,
    LiveServer,
    Subscriber,
    graphql,
    legacy_graphql_ws,
    run_server,
    until_subscribed,
)
from tests.ws.test_live_feed import log_member_joined

WITH_EMAIL = "subscription { memberJoined { organization { slug contactEmail } } }"
SLUG_ONLY = "subscription { memberJoined { organization { slug } } }"
EMAIL_IF = (
    "subscription($email: Boolean!) "
    "{ memberJoined { organization { slug contactEmail @include(if: $email) } } }"
)
WITH_COUNTRY = "subscription { memberJoined { organization { slug country { code } } } }"
RESUMABLE = (
    "subscription($after: String) { memberJoined(after: $after) { cursor organization { slug } } }"
)


async def counters(server: LiveServer) -> dict[str, float]:
    return await server.metrics(
        "clubjustice_subscription_event_executions_total",
        "clubjustice_subscription_events_delivered_total",
    )


async def guest_in_moldova(session_factory: Any, slug: str) -> models.Organization:
    """A guest organization in Moldova, added: the one the tests' events say joined."""
    md = (await country_ids(session_factory, "MD"))["MD"]
    joined = organization(md, slug=slug)
    await add(session_factory, joined)
    return joined


async def deliver_one_event(
    server: LiveServer, session_factory: Any, organization_id: int, subscribed: int
) -> tuple[float, float]:
    """Log one MEMBER_JOINED and wake the feed; (executions, deliveries) it cost, once every
    subscriber has read it (the caller reads the answers)."""
    await until_subscribed(server.feed, subscribed)
    before = await counters(server)
    await log_member_joined(session_factory, organization_id)
    server.feed.wake()
    return before["clubjustice_subscription_event_executions_total"], before[
        "clubjustice_subscription_events_delivered_total"
    ]


async def close_all(server: LiveServer, clients: list[Subscriber]) -> None:
    """Close the connections; then every event they held, and its answers, is gone."""
    for client in clients:
        await client.close()
    await until_subscribed(server.feed, 0)
    deadline = asyncio.get_running_loop().time() + EVENT_TIMEOUT
    while True:
        gc.collect()
        if events_with_answers() == 0:
            return
        assert asyncio.get_running_loop().time() < deadline, "an event's answers outlived it"
        await asyncio.sleep(0.01)


async def test_subscribers_with_one_answer_share_one_execution(
    live_server: LiveServer, make_token: Any, session_factory: Any
) -> None:
    joined = await guest_in_moldova(session_factory, "joined")
    admin = await make_token(Role.ADMIN)
    cursor = (await graphql(live_server, admin, "{ activityCursor }"))["activityCursor"]
    clients = [await Subscriber.open(live_server.ws, admin) for _ in range(6)]
    for client in clients[:3]:
        await client.subscribe(RESUMABLE)
    for client in clients[3:]:
        # `after` picks where the events start, not what an event's answer is: shared.
        await client.subscribe(RESUMABLE, {"after": cursor})
    executions, delivered = await deliver_one_event(live_server, session_factory, joined.id, 6)
    answers = [await client.next_data() for client in clients]
    assert answers == [answers[0]] * 6
    assert answers[0]["memberJoined"]["organization"] == {"slug": "joined"}
    after = await counters(live_server)
    assert after["clubjustice_subscription_event_executions_total"] - executions == 1
    assert after["clubjustice_subscription_events_delivered_total"] - delivered == 6
    await close_all(live_server, clients)


async def until_idle(server: LiveServer, count: int) -> None:
    """Until `count` subscriptions are registered and each waits for its next event."""
    await until_subscribed(server.feed, count)
    deadline = asyncio.get_running_loop().time() + EVENT_TIMEOUT
    while not all(mailbox.waiting for mailbox in server.feed.mailboxes):
        assert asyncio.get_running_loop().time() < deadline, "subscriptions did not settle"
        await asyncio.sleep(0.01)


async def test_a_round_sends_its_followers_the_leaders_message_byte_for_byte(
    live_server: LiveServer, make_token: Any, session_factory: Any
) -> None:
    joined = await guest_in_moldova(session_factory, "joined")
    member = await make_token(Role.ORGANIZATION, organization_id=joined.id)
    clients = [await Subscriber.open(live_server.ws, member) for _ in range(4)]
    for number, client in enumerate(clients):
        client.next_id = 10 * number  # each operation has an id of its own: 1, 11, 21, 31
        await client.subscribe(WITH_COUNTRY)
    await until_idle(live_server, 4)
    before = await live_server.metrics(
        "clubjustice_subscription_event_executions_total",
        "clubjustice_subscription_events_delivered_total",
        "clubjustice_subscription_round_deliveries_total",
    )
    await log_member_joined(session_factory, joined.id)
    live_server.feed.wake()
    frames = [await asyncio.wait_for(client.connection.recv(), EVENT_TIMEOUT) for client in clients]
    after = await live_server.metrics(*before)
    # One leader answered; three followers were sent its answer without being woken.
    assert {name: after[name] - before[name] for name in before} == {
        "clubjustice_subscription_event_executions_total": 1,
        "clubjustice_subscription_events_delivered_total": 4,
        "clubjustice_subscription_round_deliveries_total": 3,
    }
    # The same bytes as the leader's own message (strawberry's), but for the id.
    ids = [f'{{"id":"{10 * number + 1}",' for number in range(4)]
    assert [frame[: len(prefix)] for frame, prefix in zip(frames, ids, strict=True)] == ids
    assert len({frame[len(prefix) :] for frame, prefix in zip(frames, ids, strict=True)}) == 1
    assert json.loads(frames[0])["payload"] == {
        "data": {"memberJoined": {"organization": {"slug": "joined", "country": {"code": "MD"}}}}
    }
    await close_all(live_server, clients)


async def test_closed_connections_are_freed_without_the_collector(
    live_server: LiveServer, make_token: Any, session_factory: Any
) -> None:
    """A subscription's route (server/websockets.py) is in its operation's task's context
    and held its operation, which holds the task: a cycle that kept each connection (its
    handler, Context, uvicorn protocol) until the collector ran, rarely with the server's
    thresholds. The route lets go of the operation as its task ends."""
    joined = await guest_in_moldova(session_factory, "joined")
    member = await make_token(Role.ORGANIZATION, organization_id=joined.id)

    def handlers() -> int:
        return sum(type(o) is GraphQLTransportWSHandler for o in gc.get_objects())

    gc.collect()
    gc.disable()
    try:
        before = handlers()
        clients = [await Subscriber.open(live_server.ws, member) for _ in range(3)]
        for client in clients:
            await client.subscribe(WITH_COUNTRY)
            await client.subscribe(SLUG_ONLY)
        await until_idle(live_server, 6)
        assert handlers() == before + 3
        for client in clients:
            await client.close()
        del clients, client
        await until_subscribed(live_server.feed, 0)
        deadline = asyncio.get_running_loop().time() + EVENT_TIMEOUT
        while handlers() != before:  # each connection's handler ends a moment after it closes
            assert asyncio.get_running_loop().time() < deadline, (
                f"{handlers() - before} closed connections wait for the collector"
            )
            await asyncio.sleep(0.01)
    finally:
        gc.enable()


async def test_each_visibility_selection_and_variable_gets_its_own_answer(
    live_server: LiveServer, make_token: Any, session_factory: Any
) -> None:
    md = (await country_ids(session_factory, "MD"))["MD"]
    member = organization(md, member=True, slug="member")
    guest = organization(md, slug="guest")
    joined = organization(md, slug="joined", contact_email="hello@joined.example.org")
    await add(session_factory, member, guest, joined)
    admin = await make_token(Role.ADMIN)
    partner = await make_token(Role.PARTNER)
    member_tokens = [await make_token(Role.ORGANIZATION, member.id) for _ in range(2)]
    guest_token = await make_token(Role.ORGANIZATION, guest.id)
    joined_token = await make_token(Role.ORGANIZATION, joined.id)
    email = "hello@joined.example.org"
    # (token, document, variables, the contactEmail it must see; "-": not selected)
    cases: list[tuple[str, str, dict[str, Any] | None, str | None]] = [
        (admin, WITH_EMAIL, None, email),
        (admin, WITH_EMAIL, None, email),
        (partner, WITH_EMAIL, None, None),  # public fields only
        (guest_token, WITH_EMAIL, None, None),  # a guest sees its own only
        (member_tokens[0], WITH_EMAIL, None, email),  # members see the club's
        (member_tokens[1], WITH_EMAIL, None, email),
        (joined_token, WITH_EMAIL, None, email),  # its own
        (admin, SLUG_ONLY, None, "-"),
        (admin, EMAIL_IF, {"email": True}, email),
        (admin, EMAIL_IF, {"email": False}, "-"),
    ]
    clients = []
    for token, document, variables, _ in cases:
        client = await Subscriber.open(live_server.ws, token)
        await client.subscribe(document, variables)
        clients.append(client)
    executions, delivered = await deliver_one_event(
        live_server, session_factory, joined.id, len(cases)
    )
    for client, (_, _, _, sees) in zip(clients, cases, strict=True):
        expected: dict[str, Any] = {"slug": "joined"}
        if sees != "-":
            expected["contactEmail"] = sees
        assert await client.next_data() == {"memberJoined": {"organization": expected}}
    after = await counters(live_server)
    # WITH_EMAIL: ADMIN, PARTNER, the guest, the member (two tokens, one answer), the joined
    # organization; SLUG_ONLY; EMAIL_IF with true and with false.
    assert after["clubjustice_subscription_event_executions_total"] - executions == 8
    assert after["clubjustice_subscription_events_delivered_total"] - delivered == len(cases)
    await close_all(live_server, clients)


@pytest.fixture
async def reference_server(
    live_settings: Settings, session_factory: Any
) -> AsyncIterator[LiveServer]:
    """A server whose events the reference executor answers (`compiled_reads` off): the tests
    below reach into its resolvers and loaders. (The compiled path answers no event with an
    error: it leaves any it cannot answer exactly to the reference executor,
    tests/graphql/test_compiled_events.py.)"""
    async for server in run_server(live_settings.model_copy(update={"compiled_reads": False})):
        yield server


async def test_an_answer_with_errors_is_not_shared(
    reference_server: LiveServer,
    make_token: Any,
    session_factory: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    live_server = reference_server
    md = (await country_ids(session_factory, "MD"))["MD"]
    joined = organization(md, slug="joined", contact_email="hello@joined.example.org")
    await add(session_factory, joined)
    admin = await make_token(Role.ADMIN)
    owner_ids = Organization.owner_ids
    failures: list[int] = []

    def fails_once(self: Organization) -> frozenset[int]:
        # The first execution's `contactEmail` fails; the executions after it do not. (An
        # error the server expects: an unexpected one's log record, which pytest keeps, would
        # hold the event through its traceback.)
        if not failures:
            failures.append(self.pk)
            raise RequestError.bad_input("The first execution fails.")
        return owner_ids(self)

    monkeypatch.setattr(Organization, "owner_ids", fails_once)
    clients = [await Subscriber.open(live_server.ws, admin) for _ in range(4)]
    for client in clients:
        await client.subscribe(WITH_EMAIL)
    executions, _ = await deliver_one_event(live_server, session_factory, joined.id, 4)
    messages = [await client.receive() for client in clients]
    failed = [message["payload"] for message in messages if "errors" in message["payload"]]
    assert len(failed) == 1
    assert failed[0]["data"] == {
        "memberJoined": {"organization": {"slug": "joined", "contactEmail": None}}
    }
    [error] = failed[0]["errors"]
    assert error == {
        "message": "The first execution fails.",
        "locations": [{"line": 1, "column": WITH_EMAIL.index("contactEmail") + 1}],
        "path": ["memberJoined", "organization", "contactEmail"],
        "extensions": {"code": "BAD_USER_INPUT"},
    }
    answered = [message["payload"] for message in messages if "errors" not in message["payload"]]
    assert (
        answered
        == [
            {
                "data": {
                    "memberJoined": {
                        "organization": {
                            "slug": "joined",
                            "contactEmail": "hello@joined.example.org",
                        }
                    }
                }
            }
        ]
        * 3
    )
    # The first ran and failed; each of the three others ran its own.
    after = await counters(live_server)
    assert after["clubjustice_subscription_event_executions_total"] - executions == 4
    await close_all(live_server, clients)


@dataclass
class MidRead:
    """ADMIN and three partners subscribed to WITH_COUNTRY (two sharing keys), and the guest
    whose joining their event is about."""

    server: LiveServer
    joined: models.Organization
    admin: Subscriber
    admin_id: str
    partners: list[Subscriber]


async def mid_read(server: LiveServer, make_token: Any, session_factory: Any) -> MidRead:
    joined = await guest_in_moldova(session_factory, "joined")
    admin = await Subscriber.open(server.ws, await make_token(Role.ADMIN))
    admin_id = await admin.subscribe(WITH_COUNTRY)
    partner = await make_token(Role.PARTNER)
    partners = [await Subscriber.open(server.ws, partner) for _ in range(3)]
    for client in partners:
        await client.subscribe(WITH_COUNTRY)
    await until_subscribed(server.feed, 4)
    return MidRead(server, joined, admin, admin_id, partners)


async def admin_leaves_mid_read(
    case: MidRead, session_factory: Any, release: asyncio.Event, deadline: float
) -> None:
    """ADMIN sends `complete` while the held read is under way; once its task is cancelled
    the read goes on: the partners get the event, and the next one."""
    server = case.server
    await case.admin.send({"id": case.admin_id, "type": "complete"})
    while len(server.feed.mailboxes) == 4:  # until ADMIN's task is cancelled
        assert asyncio.get_running_loop().time() < deadline, "ADMIN's subscription stayed"
        await asyncio.sleep(0.01)
    release.set()
    expected = {"memberJoined": {"organization": {"slug": "joined", "country": {"code": "MD"}}}}
    for client in case.partners:
        assert await client.next_data() == expected
    await log_member_joined(session_factory, case.joined.id)
    server.feed.wake()
    for client in case.partners:
        assert await client.next_data() == expected
    assert len(server.feed.mailboxes) == 3


async def test_a_subscriber_that_leaves_mid_read_takes_no_one_else_with_it(
    reference_server: LiveServer,
    make_token: Any,
    session_factory: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The event's loaders are shared by all its subscribers: ADMIN's execution and the
    # partners' (one execution for the three) await the same `country` read. ADMIN leaves
    # while that read is under way; the partners still get the event, and the next one.
    case = await mid_read(reference_server, make_token, session_factory)
    fetch = resolvers.loaders._fetch
    reading = asyncio.Event()
    release = asyncio.Event()

    async def held_fetch(sessions: Any, statement: Any) -> Any:
        reading.set()
        await release.wait()
        return await fetch(sessions, statement)

    load = DataLoader.load
    loads: list[object] = []

    def counted_load(self: DataLoader[Any, Any], key: Any) -> Any:
        loads.append(key)
        return load(self, key)

    monkeypatch.setattr(resolvers.loaders, "_fetch", held_fetch)
    monkeypatch.setattr(DataLoader, "load", counted_load)
    await log_member_joined(session_factory, case.joined.id)
    reference_server.feed.wake()
    deadline = asyncio.get_running_loop().time() + EVENT_TIMEOUT
    while not (reading.is_set() and len(loads) == 2):  # ADMIN's and the partners' execution
        assert asyncio.get_running_loop().time() < deadline, "the executions did not read"
        await asyncio.sleep(0.01)
    assert loads == [case.joined.country_id] * 2
    await admin_leaves_mid_read(case, session_factory, release, deadline)
    await close_all(reference_server, [case.admin, *case.partners])


async def test_a_subscriber_that_leaves_mid_read_of_a_plan_takes_no_one_else_with_it(
    live_server: LiveServer,
    make_token: Any,
    session_factory: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The same on the compiled path: an event's statements are read once for all its
    # executions (schema/compiled/run.py, `SharedReads`). ADMIN's execution starts the
    # `country` read, the partners' awaits it; ADMIN leaves while it is under way.
    case = await mid_read(live_server, make_token, session_factory)
    read_alone = schema.compiled.run._read_alone
    reads: list[object] = []
    release = asyncio.Event()

    async def held_read(database: Any, read: Any) -> Any:
        # A read on a pooled connection taken for it alone (not a session's).
        reads.append(set(read.keywords["keys"]))
        await release.wait()
        return await read_alone(database, read)

    batch = Run.batch
    batches: list[object] = []

    def counted_batch(self: Run, batched: Any, keys: Any) -> Any:
        batches.append(set(keys))
        return batch(self, batched, keys)

    monkeypatch.setattr(schema.compiled.run, "_read_alone", held_read)
    monkeypatch.setattr(Run, "batch", counted_batch)
    executions, _ = await deliver_one_event(live_server, session_factory, case.joined.id, 4)
    deadline = asyncio.get_running_loop().time() + EVENT_TIMEOUT
    while len(batches) < 2:  # ADMIN's and the partners' execution
        assert asyncio.get_running_loop().time() < deadline, "the executions did not read"
        await asyncio.sleep(0.01)
    country = case.joined.country_id
    assert batches == [{country}] * 2
    assert reads == [{country}]  # one read for both
    await admin_leaves_mid_read(case, session_factory, release, deadline)
    # The plan answered the partners' two executions (ADMIN's ended unanswered), none fell
    # back to the reference executor.
    answers = await live_server.metrics("clubjustice_subscription_event_answers_total")
    assert answers == {"clubjustice_subscription_event_answers_total": 2}
    assert 'path="reference"' not in await live_server.metrics_text()
    after = await counters(live_server)
    assert after["clubjustice_subscription_event_executions_total"] - executions == 3
    await close_all(live_server, [case.admin, *case.partners])


@pytest.mark.parametrize("shielded", [False, True])
async def test_a_cancelled_caller_of_a_shared_loader(shielded: bool) -> None:
    # What the test above rests on, in small: two callers await one key; the first is
    # cancelled. A plain DataLoader's one future goes with it; a shielded one's does not.
    reading, release = asyncio.Event(), asyncio.Event()
    batches: list[list[int]] = []

    async def load(keys: list[int]) -> list[str]:
        batches.append(keys)
        reading.set()
        await release.wait()
        return [f"row {key}" for key in keys]

    loader = (ShieldedDataLoader if shielded else DataLoader)(load_fn=load)

    async def call() -> str:
        return await loader.load(1)

    first, second = asyncio.create_task(call()), asyncio.create_task(call())
    await reading.wait()
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    release.set()
    if shielded:
        assert await second == "row 1"
    else:
        with pytest.raises(asyncio.CancelledError):
            await second
    assert batches == [[1]]


def test_an_events_loaders_are_shielded_and_a_requests_are_not() -> None:
    declared = {
        name: value for name, value in vars(Loaders).items() if isinstance(value, cached_property)
    }
    assert len(declared) > 20
    assert all(isinstance(value, LoaderProperty) for value in declared.values())
    sessions = cast(Any, None)  # building a loader reads nothing
    for name in declared:
        assert type(getattr(Loaders.for_request(sessions), name)) is DataLoader
        assert type(getattr(Loaders.for_event(sessions), name)) is ShieldedDataLoader


async def test_a_variable_sent_as_null_is_not_one_omitted(
    live_server: LiveServer, make_token: Any, session_factory: Any
) -> None:
    # An argument set to an omitted variable is absent; to a null one, null. Shared only by
    # subscribers that sent the same variables.
    joined = await guest_in_moldova(session_factory, "joined")
    admin = await make_token(Role.ADMIN)
    document = (
        "subscription($first: Int) "
        "{ memberJoined { organization { country { organizations(first: $first) { slug } } } } }"
    )
    sent: list[dict[str, Any] | None] = [None, {"first": None}, None, {"first": None}]
    clients = []
    for variables in sent:
        client = await Subscriber.open(live_server.ws, admin)
        await client.subscribe(document, variables)
        clients.append(client)
    executions, _ = await deliver_one_event(live_server, session_factory, joined.id, len(sent))
    expected = {
        "memberJoined": {"organization": {"country": {"organizations": [{"slug": "joined"}]}}}
    }
    for client in clients:
        assert await client.next_data() == expected
    after = await counters(live_server)
    assert after["clubjustice_subscription_event_executions_total"] - executions == 2
    await close_all(live_server, clients)


def test_the_variables_key_holds_those_present() -> None:
    read = {"first", "email"}
    assert variables_key(read, {}) == "{}"
    assert variables_key(read, {"first": None}) == '{"first":null}'
    assert variables_key(read, {"first": 3, "email": True, "after": "x"}) == (
        '{"email":true,"first":3}'
    )


async def test_a_shared_answer_is_encoded_once_for_all_its_subscribers(
    live_server: LiveServer,
    make_token: Any,
    session_factory: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Three graphql-transport-ws subscribers and two legacy graphql-ws ones, one answer: its
    # data is encoded once, whatever the protocol (each message copies the encoded text).
    joined = await guest_in_moldova(session_factory, "joined")
    admin = await make_token(Role.ADMIN)
    encodes: list[str] = []
    dumps = orjson.dumps

    def counted_dumps(value: Any, *args: Any, **kwargs: Any) -> bytes:
        payload = value.get("payload") if isinstance(value, dict) else None
        data = payload.get("data") if isinstance(payload, dict) else None
        if isinstance(value, SharedData):
            encodes.append("the data")
        elif isinstance(data, SharedData):
            encodes.append("a message with the data")
        return dumps(value, *args, **kwargs)

    counted = types.SimpleNamespace(dumps=counted_dumps, Fragment=orjson.Fragment)
    monkeypatch.setattr(schema.fanout, "orjson", counted)
    clients = [await Subscriber.open(live_server.ws, admin) for _ in range(3)]
    for client in clients:
        await client.subscribe(SLUG_ONLY)
    expected = {"memberJoined": {"organization": {"slug": "joined"}}}
    async with AsyncExitStack() as stack:
        legacy = [
            await stack.enter_async_context(legacy_graphql_ws(live_server.ws, admin))
            for _ in range(2)
        ]
        for connection in legacy:
            start = {"id": "1", "type": "start", "payload": {"query": SLUG_ONLY}}
            await connection.send(json.dumps(start))
        executions, _ = await deliver_one_event(live_server, session_factory, joined.id, 5)
        for client in clients:
            assert await client.next_data() == expected
        for connection in legacy:
            message = json.loads(await asyncio.wait_for(connection.recv(), EVENT_TIMEOUT))
            while message["type"] == "ka":
                message = json.loads(await asyncio.wait_for(connection.recv(), EVENT_TIMEOUT))
            assert message == {"id": "1", "type": "data", "payload": {"data": expected}}
    after = await counters(live_server)
    assert after["clubjustice_subscription_event_executions_total"] - executions == 1
    assert encodes == ["the data"]
    await close_all(live_server, clients)


def test_the_variables_an_answer_depends_on() -> None:
    document = parse(
        "subscription($after: String, $country: String, $email: Boolean!, $both: String) "
        "{ memberJoined(after: $after, countryCode: $country) "
        "{ organization { slug contactEmail @include(if: $email) } ...more } "
        "other: memberJoined(after: $both) { cursor } } "
        "fragment more on MemberJoined { sponsor { name(x: $both) } }"
    )
    operation, fragment = document.definitions
    assert isinstance(operation, OperationDefinitionNode)
    assert isinstance(fragment, FragmentDefinitionNode)
    assert variables_read_below_root(operation, [fragment]) == {"email", "both"}


def test_reading_the_variables_leaves_no_garbage() -> None:
    # Once per subscription: cyclic garbage would pile up between the server's rare
    # collections (CLUBJUSTICE_GC_THRESHOLDS), a cost for each idle subscriber.
    operation = parse(EMAIL_IF).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    gc.collect()
    gc.disable()
    try:
        for _ in range(10):
            assert variables_read_below_root(operation, []) == {"email"}
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_a_message_with_a_shared_answer_is_the_json_of_its_data() -> None:
    data = SharedData({"memberJoined": {"cursor": "YWN0aXZpdHk6Nw==", "n": [1, 2.5, None]}})
    message = {"id": "7", "type": "next", "payload": {"data": data}}
    assert orjson.loads(encode_message(message)) == orjson.loads(
        orjson.dumps({"id": "7", "type": "next", "payload": {"data": dict(data)}})
    )
    assert data.fragment() is data.fragment()
    legacy = {"type": "data", "id": "x", "payload": {"data": data}}
    assert orjson.loads(encode_message(legacy))["payload"]["data"] == dict(data)
