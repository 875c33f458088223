"""Rounds (db/notifier.py): an event that finds several subscribers of one route key idle
wakes only the first; the others are sent its answer, in order, or woken with the event
when it cannot be shared or sending would wait. And `send_now` (server/websockets.py);
that uvicorn's send waits only before it writes is checked in test_uvicorn_private.py."""

import asyncio

import pytest

from club.enums import ActivityKind
from db import notifier
from db.models import ActivityLogEntry
from db.notifier import LiveEvent, Mailbox, Route, SubscriberOverflow
from server.websockets import send_now


def live(n: int) -> LiveEvent:
    return LiveEvent(ActivityLogEntry(id=n, kind=ActivityKind.MEMBER_JOINED.value, payload={}))


class Recorded(Route):
    """A route that records what it is sent; `sending` says what each send returns."""

    __slots__ = ("sending", "sent")

    def __init__(self, key: object, sending: bool | None = True) -> None:
        super().__init__()
        self.key = key
        self.sending = sending
        self.sent: list[object] = []

    def send(self, answer: object) -> bool | None:
        if self.sending:
            self.sent.append(answer)
        return self.sending


class Subscriber:
    """A mailbox with a task waiting on it, as a subscription's is; what it was handed."""

    def __init__(self, route: Route | None, capacity: int = 5) -> None:
        self.mailbox = Mailbox(lambda live: True, capacity, route=route)
        self.received: list[int] = []
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            self.received.append((await self.mailbox.next()).id)

    async def close(self) -> None:
        self.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.task
        self.mailbox.close()


async def settle() -> None:
    """Let every woken task and delivery run."""
    for _ in range(5):
        await asyncio.sleep(0)
    await asyncio.gather(*notifier._DELIVERIES)
    for _ in range(5):
        await asyncio.sleep(0)


async def subscribers(*routes: Route | None, capacity: int = 5) -> list[Subscriber]:
    made = [Subscriber(route, capacity) for route in routes]
    await settle()  # each waits in `next`
    return made


async def test_the_first_idle_subscriber_of_a_key_leads_and_the_others_are_sent_its_answer() -> (
    None
):
    routes = [Recorded("k") for _ in range(4)]
    leader, *followers = await subscribers(*routes)
    leader.mailbox.offer(event := live(1))
    for follower in followers:
        follower.mailbox.offer(event)
    await settle()
    # Only the leader was woken with the event; the followers wait for its answer.
    assert leader.received == [1]
    assert [f.received for f in followers] == [[], [], []]
    assert all(f.mailbox.awaiting is not None for f in followers)
    assert routes[0].leading is not None
    routes[0].answered("answer")
    await settle()
    assert [route.sent for route in routes] == [[], ["answer"], ["answer"], ["answer"]]
    assert [f.received for f in followers] == [[], [], []]  # sent, not woken
    assert all(f.mailbox.awaiting is None and f.mailbox.position == 1 for f in followers)
    assert routes[0].leading is None
    for subscriber in (leader, *followers):
        await subscriber.close()


async def test_an_answer_that_may_not_be_shared_wakes_each_follower_with_the_event() -> None:
    routes = [Recorded("k") for _ in range(3)]
    made = await subscribers(*routes)
    event = live(1)
    for subscriber in made:
        subscriber.mailbox.offer(event)
    routes[0].answered(None)  # its answer had errors
    await settle()
    assert [s.received for s in made] == [[1], [1], [1]]
    assert [route.sent for route in routes] == [[], [], []]
    for subscriber in made:
        await subscriber.close()


async def test_a_leader_that_leaves_hands_the_event_to_its_followers() -> None:
    routes = [Recorded("k") for _ in range(3)]
    made = await subscribers(*routes)
    event = live(1)
    for subscriber in made:
        subscriber.mailbox.offer(event)
    await made[0].close()  # the client ended it before its answer was computed
    await settle()
    assert [s.received for s in made[1:]] == [[1], [1]]
    for subscriber in made[1:]:
        await subscriber.close()


async def test_a_follower_that_a_send_would_keep_waiting_is_woken_with_the_event() -> None:
    slow = Recorded("k", sending=None)  # its client reads too slowly: sending would wait
    routes = [Recorded("k"), slow, Recorded("k")]
    made = await subscribers(*routes)
    event = live(1)
    for subscriber in made:
        subscriber.mailbox.offer(event)
    routes[0].answered("answer")
    await settle()
    assert [s.received for s in made] == [[1], [1], []]
    assert routes[2].sent == ["answer"]  # the one after it was not held up
    for subscriber in made:
        await subscriber.close()


async def test_a_later_event_waits_for_the_round_the_subscriber_follows() -> None:
    routes = [Recorded("k"), Recorded("k")]
    leader, follower = await subscribers(*routes)
    event = live(1)
    for subscriber in (leader, follower):
        subscriber.mailbox.offer(event)
    await settle()
    # The follower is not idle now: the next event is queued for it, but it is not woken
    # before the first one is sent, or it would answer them out of order.
    follower.mailbox.offer(live(2))
    await settle()
    assert follower.received == []
    routes[0].answered("answer")
    await settle()
    assert routes[1].sent == ["answer"]
    assert follower.received == [2]
    for subscriber in (leader, follower):
        await subscriber.close()


async def test_a_later_event_follows_the_first_when_the_round_is_abandoned() -> None:
    leader, follower = await subscribers(Recorded("k"), Recorded("k"))
    event = live(1)
    for subscriber in (leader, follower):
        subscriber.mailbox.offer(event)
    follower.mailbox.offer(live(2))
    assert leader.mailbox.route is not None
    leader.mailbox.route.answered(None)
    await settle()
    assert follower.received == [1, 2]
    for subscriber in (leader, follower):
        await subscriber.close()


async def test_rounds_are_per_key_and_only_for_routes_with_one() -> None:
    routes: list[Route | None] = [Recorded("a"), Recorded("b"), Recorded(None), None, Recorded("a")]
    made = await subscribers(*routes)
    event = live(1)
    for subscriber in made:
        subscriber.mailbox.offer(event)
    await settle()
    # "a" leads a round that its second subscriber follows; "b", the keyless and the
    # routeless are each woken.
    assert [s.received for s in made] == [[1], [1], [1], [1], []]
    for subscriber in made:
        await subscriber.close()


async def test_a_follower_ended_meanwhile_is_skipped() -> None:
    routes = [Recorded("k"), Recorded("k")]
    leader, follower = await subscribers(*routes, capacity=1)
    event = live(1)
    for subscriber in (leader, follower):
        subscriber.mailbox.offer(event)
    follower.mailbox.offer(live(2))
    follower.mailbox.offer(live(3))  # over its capacity of 1: ended, what it held dropped
    await settle()
    assert follower.task.done() and isinstance(follower.task.exception(), SubscriberOverflow)
    routes[0].answered("answer")
    await settle()
    assert routes[1].sent == []
    await leader.close()
    follower.mailbox.close()


async def test_a_busy_subscriber_neither_leads_nor_follows() -> None:
    routes = [Recorded("k"), Recorded("k")]
    busy = Subscriber(routes[0])  # not yet waiting in `next`
    idle = (await subscribers(routes[1]))[0]
    busy.mailbox.items.append(live(0))
    event = live(1)
    for subscriber in (busy, idle):
        subscriber.mailbox.offer(event)
    await settle()
    assert busy.received == [0, 1]
    assert idle.received == [1]  # it led a round of its own
    for subscriber in (busy, idle):
        await subscriber.close()


async def test_send_now_runs_a_send_that_does_not_wait_and_drops_one_that_would() -> None:
    steps: list[str] = []

    async def immediate() -> None:
        steps.append("written")

    waiting = asyncio.Event()

    async def paused() -> None:
        try:
            await waiting.wait()  # as uvicorn's send while the client reads too slowly
            steps.append("written late")
        finally:
            steps.append("closed")

    assert send_now(immediate()) is True
    assert send_now(paused()) is False
    waiting.set()
    await asyncio.sleep(0)
    assert steps == ["written", "closed"]


async def test_a_round_cancelled_midway_wakes_the_followers_it_did_not_reach(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(notifier, "ROUND_STEP", 1)  # a yield to the loop after each one
    routes = [Recorded("k") for _ in range(4)]
    made = await subscribers(*routes)
    event = live(1)
    for subscriber in made:
        subscriber.mailbox.offer(event)
    routes[0].answered("answer")
    (delivery,) = notifier._DELIVERIES
    await asyncio.sleep(0)  # it sends to the first follower, then yields
    delivery.cancel()  # the server stops, say
    await asyncio.sleep(0)
    for _ in range(5):
        await asyncio.sleep(0)
    assert [route.sent for route in routes] == [[], ["answer"], [], []]
    assert [s.received for s in made] == [[1], [], [1], [1]]
    for subscriber in made:
        await subscriber.close()
