"""The activity log's notifier: one per process, it reads each new log row once and hands
it to every subscriber that wants it.

It wakes when a change commits: on PostgreSQL through LISTEN/NOTIFY (the NOTIFY is sent
inside the change's transaction, so it arrives only if that commits), in this process also
by a direct signal after commit, and, as a safety net, every `poll_interval` seconds. It
reads rows with an id above the last one it read; appends to the log are serialized, so ids
become visible in order and none is skipped.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import func, select

from club.enums import ActivityKind
from db.activity import NOTIFY_CHANNEL, subject_models
from db.base import Base
from db.engine import Database
from db.models import ActivityLogEntry

logger = logging.getLogger("clubjustice.notifier")

READ_BATCH = 500

Row = TypeVar("Row", bound=Base)


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """A committed log row, with the row it is about, read once for every subscriber."""

    entry: ActivityLogEntry
    # The subject's row as read with the event (None: the row names no subject, or one of
    # a type no mapped class has, or a row since gone).
    subject: Base | None = None
    # State every subscriber of this event shares (the loaders its fields read through, the
    # subscription's root object), each under a key its user picks.
    shared: dict[object, Any] = field(default_factory=dict, compare=False)
    # The row's kind, made once: every subscriber's filter asks for it.
    kind: ActivityKind = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ActivityKind(self.entry.kind))

    @property
    def id(self) -> int:
        return self.entry.id

    def shares(self, value: object) -> bool:
        """Whether `value` is one of the objects kept for its subscribers (in `shared`)."""
        return any(kept is value for kept in self.shared.values())

    def subject_as(self, model: type[Row]) -> Row | None:
        """The subject's row if it is a `model`, else None."""
        return self.subject if isinstance(self.subject, model) else None


class SubscriberOverflow(Exception):
    """The subscriber fell behind by more than its queue holds."""


class TokenRevoked(Exception):
    """The subscriber's token was revoked."""


class SubscriberFailed(Exception):
    """The subscriber's filter raised."""


class Route:
    """A way to hand one subscriber an answer another subscriber of the same event
    computed, without waking it. Subscribers whose routes have equal `key`s get equal
    answers to an event (the schema sets the key: schema/fanout.py; None, the subscriber's
    answers are its own); `send` is the transport's (server/websockets.py)."""

    __slots__ = ("key", "leading")

    def __init__(self) -> None:
        self.key: object | None = None
        # The round this subscriber leads: its next answer is the round's.
        self.leading: Round | None = None

    def send(self, answer: object) -> bool | None:
        """Send `answer` now, without waiting: True once sent, False when the subscriber is
        gone, None when sending would wait (nothing is sent then)."""
        raise NotImplementedError

    def answered(self, answer: object | None) -> None:
        """This subscriber's answer to the event of the round it leads, if it leads one:
        the followers are sent `answer`, or, None (an answer they may not share, or none),
        each is woken with the event."""
        joined, self.leading = self.leading, None
        if joined is None:
            return
        if answer is None:
            joined.abandon()
            return
        task = asyncio.get_running_loop().create_task(joined.deliver(answer))
        _DELIVERIES.add(task)
        task.add_done_callback(_DELIVERIES.discard)


@dataclass(eq=False, slots=True)
class Round:
    """One event's delivery to the idle subscribers of one route key. The first (the
    leader) is woken and answers as any subscriber does; the others (the followers) are not
    woken, and are sent the leader's answer. When that answer may not be shared (it has
    errors) or never comes (the leader left), or when sending one would wait (its client
    reads slowly), that follower is woken with the event instead, as if there had been no
    round: a slow client holds up no other."""

    live: LiveEvent
    key: object
    followers: list["Mailbox"] = field(default_factory=list)

    async def deliver(self, answer: object) -> int:
        """Send `answer` to each follower still waiting for it, in order; how many got it.
        Yields to the loop every `ROUND_STEP` followers."""
        delivered = 0
        try:
            for count, mailbox in enumerate(self.followers, 1):
                if mailbox.awaiting is not self:
                    continue  # ended, or gone, since it joined
                route = mailbox.route
                try:
                    sent = None if route is None else route.send(answer)
                except Exception:
                    # Its connection failed as it was sent: its own handler ends it.
                    logger.debug("a shared answer could not be sent", exc_info=True)
                    sent = False
                mailbox.awaiting = None
                if sent is None:
                    mailbox.items.insert(0, self.live)
                elif sent:
                    delivered += 1
                    mailbox.position = max(mailbox.position, self.live.id)
                if mailbox.items:
                    mailbox._wake()
                if count % ROUND_STEP == 0:
                    await asyncio.sleep(0)
        except BaseException:
            self.abandon()  # cancelled midway (the server stops): the rest are woken
            raise
        self._done()
        return delivered

    def abandon(self) -> None:
        """No shared answer: every follower still waiting is woken with the event first."""
        for mailbox in self.followers:
            if mailbox.awaiting is self:
                mailbox.awaiting = None
                mailbox.items.insert(0, self.live)
                mailbox._wake()
        self._done()

    def _done(self) -> None:
        """Out of its event: the event keeps it (`LiveEvent.shared`) and it keeps the event,
        a reference cycle that only the collector would end."""
        self.followers.clear()
        self.live.shared.get(_ROUNDS, {}).pop(self.key, None)


# How many followers a round sends to between two yields to the event loop.
ROUND_STEP = 200

# Where an event keeps its rounds, by route key (in `LiveEvent.shared`).
_ROUNDS = object()

# Rounds being sent (the loop holds a task only weakly).
_DELIVERIES: set["asyncio.Task[int]"] = set()


@dataclass(eq=False, slots=True)
class Mailbox:
    """One subscriber's bounded queue of events. Lean, as one is kept for each idle
    subscriber: slots, a list (a `deque` takes about 760 bytes even empty) and a future
    made only while its subscriber waits: about 0.3 KiB of a waiting subscriber, where an
    `asyncio.Event` and a deque made it about 2.2 (docs/live-updates.md).

    With a `route` whose key is set, an event that finds it idle (waiting, nothing queued)
    joins a `Round`: the first idle mailbox of a key leads it, the others follow it and are
    not woken for that event (their answer is sent to them)."""

    wants: Callable[[LiveEvent], bool]
    capacity: int
    token_id: int | None = None
    items: list[LiveEvent] = field(default_factory=list)
    ended: type[Exception] | None = None
    route: Route | None = None
    # The id of the last event handed to the subscriber, through `next` or a round.
    position: int = 0
    # The round it follows: its event is sent to it before any later one.
    awaiting: Round | None = None
    _waiter: "asyncio.Future[None] | None" = None

    def offer(self, live: LiveEvent) -> None:
        if self.ended is not None:
            return
        if live.kind is ActivityKind.TOKEN_REVOKED:
            if self.token_id is not None and live.entry.payload.get("token_id") == self.token_id:
                self._end(TokenRevoked)
            return
        try:
            wanted = self.wants(live)
        except Exception:
            # A broken filter ends its own subscription, not the feed of every other one.
            logger.exception("a subscription's filter failed on log row %s", live.id)
            self._end(SubscriberFailed)
            return
        if not wanted or live.id <= self.position:
            return  # not for it, or one it was already handed (by a replay)
        if len(self.items) >= self.capacity:
            self._end(SubscriberOverflow)
            return
        route = self.route
        if (
            route is not None
            and route.key is not None
            and self.waiting
            and not self.items
            and self.awaiting is None
            and route.leading is None
        ):
            rounds = live.shared.get(_ROUNDS)
            if rounds is None:
                rounds = live.shared[_ROUNDS] = {}
            joined = rounds.get(route.key)
            if joined is not None:
                joined.followers.append(self)
                self.awaiting = joined
                return
            route.leading = rounds[route.key] = Round(live, route.key)
        self.items.append(live)
        if self.awaiting is None:
            self._wake()

    @property
    def waiting(self) -> bool:
        """Whether its subscriber waits in `next` (idle, when nothing is queued)."""
        return self._waiter is not None

    def close(self) -> None:
        """The subscriber is gone: the followers of a round it leads are woken instead."""
        if self.route is not None:
            self.route.answered(None)
            self.route = None
        self.awaiting = None

    def _end(self, reason: type[Exception]) -> None:
        self.ended = reason
        self.items.clear()  # what it holds is dropped: memory stays bounded
        self.awaiting = None
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next(self) -> LiveEvent:
        # Not while a round it follows is under way: that event is sent first.
        while not self.items or self.awaiting is not None:
            if self.ended is not None:
                raise self.ended()
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        # At most `capacity` (subscriber_queue_size) items: the list's shift stays small.
        live = self.items.pop(0)
        self.position = max(self.position, live.id)
        return live


class ActivityFeed:
    def __init__(self, database: Database, *, poll_interval: float = 2.0) -> None:
        self.database = database
        self.poll_interval = poll_interval
        self.high_water = 0
        self.mailboxes: set[Mailbox] = set()
        self.listener_connections = 0  # how often the PostgreSQL listener (re)connected
        self._wake = asyncio.Event()
        self.reconnect_delay = 0.1  # the listener's first wait before reconnecting
        self.failing = False  # the last read of the log failed
        self._tasks: list[asyncio.Task[None]] = []
        self._listener: asyncpg.Connection | None = None
        self._stopping = False

    async def start(self) -> None:
        async with self.database.session_factory() as session:
            self.high_water = await session.scalar(select(func.max(ActivityLogEntry.id))) or 0
        self._tasks.append(asyncio.create_task(self._read_forever(), name="activity-feed"))
        if self.database.engine.dialect.name == "postgresql":
            self._tasks.append(asyncio.create_task(self._listen_forever(), name="activity-listen"))

    async def stop(self) -> None:
        """Let the reader finish the read it is in, end the listener, then wait for both.
        (Cancelling a read midway, inside asyncpg, could leave the pool closing its
        connection for longer than a lifespan shutdown allows.)"""
        self._stopping = True
        self._wake.set()
        if self._listener is not None and not self._listener.is_closed():
            self._listener.terminate()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=2)
        for task in pending:  # stuck connecting, say
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=2)

    def wake(self) -> None:
        """A change committed (in this process): read the log now."""
        self._wake.set()

    def subscribe(self, mailbox: Mailbox) -> int:
        """Start handing events to `mailbox`: every one above the returned id. (No await
        here: the feed cannot read between the registration and the id it returns.)"""
        self.mailboxes.add(mailbox)
        return self.high_water

    def unsubscribe(self, mailbox: Mailbox) -> None:
        self.mailboxes.discard(mailbox)

    async def _read_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            if self._stopping:
                return
            self._wake.clear()
            try:
                await self.read_new()
            except Exception:
                # Once per outage with the traceback, then quietly until it reads again.
                if not self.failing:
                    logger.exception("reading the activity log failed; retrying")
                self.failing = True
                await asyncio.sleep(self.poll_interval)
            else:
                if self.failing:
                    logger.warning("reading the activity log works again")
                self.failing = False

    async def read_new(self) -> None:
        """Read what was appended since the last read, once, and hand it out."""
        while True:
            batch = await read_events(self.database, after=self.high_water, limit=READ_BATCH)
            for live in batch:
                for mailbox in list(self.mailboxes):
                    mailbox.offer(live)
                self.high_water = live.id
            if len(batch) < READ_BATCH:
                return

    async def _listen_forever(self) -> None:
        url = self.database.engine.url.set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        failures = 0
        while not self._stopping:
            closed = asyncio.Event()
            try:
                self._listener = await asyncpg.connect(
                    dsn, server_settings={"application_name": "clubjustice-listener"}
                )
                if self._stopping:
                    self._listener.terminate()
                    return
                self._listener.add_termination_listener(lambda _, lost=closed: lost.set())
                await self._listener.add_listener(NOTIFY_CHANNEL, lambda *_: self.wake())
                self.listener_connections += 1
                failures = 0
                self.wake()  # catch up on whatever committed while we were not listening
                await closed.wait()
                if self._stopping:
                    return
                logger.warning("the activity listener lost its connection; reconnecting")
            except (OSError, asyncpg.PostgresError) as error:
                if self._stopping:
                    return
                failures += 1
                logger.warning("the activity listener cannot connect (%s); retrying", error)
            except Exception:
                if self._stopping:
                    # `stop` ended the connection in the middle of a call: asyncpg raises
                    # whatever its closed connection makes of it (an AttributeError, an
                    # InterfaceError). Nothing failed.
                    return
                raise
            await asyncio.sleep(min(self.reconnect_delay * 2**failures, 5.0))


async def read_events(database: Database, *, after: int, limit: int) -> list[LiveEvent]:
    """Log rows with an id above `after`, in order, with their subjects: one statement per
    type of subject, whatever the number of rows. Any mapped class can be a subject: a new
    type needs nothing here."""
    async with database.session_factory() as session:
        entries = (
            await session.scalars(
                select(ActivityLogEntry)
                .where(ActivityLogEntry.id > after)
                .order_by(ActivityLogEntry.id)
                .limit(limit)
            )
        ).all()
        if not entries:
            return []
        wanted: dict[str, set[int]] = {}
        for entry in entries:
            if entry.subject_type is not None and entry.subject_id is not None:
                wanted.setdefault(entry.subject_type, set()).add(entry.subject_id)
        models = subject_models()
        subjects: dict[tuple[str | None, int | None], Base] = {}
        for subject_type, ids in wanted.items():
            model: Any = models.get(subject_type)
            if model is None:
                continue  # a type with no table: its rows still flow, with no subject row
            for row in await session.scalars(select(model).where(model.id.in_(sorted(ids)))):
                subjects[subject_type, row.id] = row
    return [
        LiveEvent(entry, subjects.get((entry.subject_type, entry.subject_id))) for entry in entries
    ]


async def replay(
    database: Database, *, after: int, upto: int, wants: Callable[[LiveEvent], bool]
) -> AsyncIterator[LiveEvent]:
    """What a resuming subscriber missed: matching events after `after`, up to `upto`."""
    while after < upto:
        batch = [
            live
            for live in await read_events(database, after=after, limit=READ_BATCH)
            if live.id <= upto
        ]
        if not batch:
            return
        for live in batch:
            after = live.id
            if wants(live):
                yield live
