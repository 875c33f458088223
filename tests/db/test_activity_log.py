"""The activity log: an event exists if and only if its change committed, and log ids become
visible in commit order."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from club.enums import ActivityKind
from db.activity import Subject, append_activity
from db.engine import Database, create_session_factory, create_write_session_factory
from db.models import Country
from db.notifier import ActivityFeed, Mailbox, read_events, replay
from tests.factories import country_ids


def database(engine: AsyncEngine) -> Database:
    return Database(engine, create_session_factory(engine), create_write_session_factory(engine))


async def test_a_rolled_back_append_leaves_no_event(
    engine: AsyncEngine, session_factory: Any
) -> None:
    async with session_factory() as session, session.begin():
        await append_activity(session, ActivityKind.EVENT_UPDATED, occurred_at=datetime.now(UTC))
        await session.rollback()
    assert await read_events(database(engine), after=0, limit=10) == []


async def waiting_for_the_append_lock(session_factory: Any) -> None:
    """Until PostgreSQL shows a transaction waiting for the append lock (with a deadline)."""
    for _ in range(500):
        async with session_factory() as session:
            waiting = await session.scalar(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no append waited for the lock")


async def test_overlapping_transactions_become_visible_in_id_order(
    engine: AsyncEngine, session_factory: Any
) -> None:
    """The first transaction to append holds the order until it commits: a second one
    that began earlier but appends later gets a higher id, so a reader that moved past the
    first never skips the second."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time; PostgreSQL overlaps them")
    factory = create_write_session_factory(engine)
    async with factory() as early, factory() as late:
        await early.begin()
        await late.begin()
        first = await append_activity(
            late, ActivityKind.EVENT_UPDATED, occurred_at=datetime.now(UTC)
        )
        # The earlier transaction appends now; it must wait for the later one's commit.
        second_append = asyncio.create_task(
            append_activity(early, ActivityKind.EVENT_CANCELLED, occurred_at=datetime.now(UTC))
        )
        await waiting_for_the_append_lock(session_factory)
        assert not second_append.done()
        await late.commit()
        seen = await read_events(database(engine), after=0, limit=10)
        assert [live.id for live in seen] == [first.id]
        second = await second_append
        await early.commit()
    assert second.id > first.id
    # A reader that had moved past the first event still finds the second.
    assert [live.id for live in await read_events(database(engine), after=first.id, limit=10)] == [
        second.id
    ]


async def test_a_new_kind_of_subject_flows_through_the_feed(
    engine: AsyncEngine, session_factory: Any
) -> None:
    """The feed names no subject type: rows about a type no writer uses yet (a country), or
    one with no table at all (a kind of subject before its migration), are read, fanned
    out and replayed like any other, the first with its row."""
    moldova = (await country_ids(session_factory, "MD"))["MD"]
    async with session_factory() as session, session.begin():
        for subject in (Subject("NoSuchModel", 7), Subject.of(Country, moldova)):
            await append_activity(
                session,
                ActivityKind.EVENT_UPDATED,
                occurred_at=datetime.now(UTC),
                subject=subject,
                related={"organization_id": 3, "event_id": None},
            )
    feed = ActivityFeed(database(engine))
    unmapped = Mailbox(lambda live: live.entry.subject_type == "NoSuchModel", capacity=5)
    countries = Mailbox(lambda live: live.subject_as(Country) is not None, capacity=5)
    feed.subscribe(unmapped)
    feed.subscribe(countries)
    await feed.read_new()

    unknown = await unmapped.next()
    assert (unknown.entry.subject_type, unknown.entry.subject_id) == ("NoSuchModel", 7)
    assert unknown.subject is None
    assert unknown.entry.payload == {"organization_id": 3}
    country = await countries.next()
    assert (country.entry.subject_type, country.entry.subject_id) == ("Country", moldova)
    assert isinstance(country.subject, Country) and country.subject.code == "MD"
    assert country.id == unknown.id + 1
    assert (len(unmapped.items), len(countries.items)) == (0, 0)
    # A subscriber resuming from the start replays the same.
    replayed = [
        live
        async for live in replay(
            feed.database, after=0, upto=feed.high_water, wants=lambda live: True
        )
    ]
    assert [
        (live.id, live.entry.subject_type, getattr(live.subject, "code", None)) for live in replayed
    ] == [(unknown.id, "NoSuchModel", None), (country.id, "Country", "MD")]
