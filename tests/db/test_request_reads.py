"""A request's reads: one connection, taken at the first read and shared in turns by
concurrent users, no transaction, given back at the end."""

import asyncio
import logging
import warnings
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

import db.engine
from db.engine import (
    RequestFinished,
    RequestReads,
    checkout,
    create_engine,
    invalidate_since,
    reads_without_transaction,
)
from db.models import Country
from tests.conftest import checked_out, wire_on


async def test_concurrent_reads_take_turns_on_one_connection_without_a_transaction(
    engine: AsyncEngine, session_factory: Any
) -> None:
    reads = RequestReads(reads_without_transaction(engine))

    async def count_countries() -> int:
        async with reads() as session:
            await asyncio.sleep(0)  # let the others try to use the session meanwhile
            return int(await session.scalar(select(func.count()).select_from(Country)) or 0)

    with wire_on(engine) as wire:
        first = await reads.execute(text("SELECT 1"))
        assert first.scalar_one() == 1
        counts = await asyncio.gather(*(count_countries() for _ in range(8)))
        in_use = checked_out(engine)
        await reads.release(finished=True)
    assert counts == [counts[0]] * 8 and counts[0] >= 249
    assert in_use == 1
    assert checked_out(engine) == 0
    # Nine statements, nine round trips: no BEGIN, no ROLLBACK.
    assert (len(wire.statements), wire.round_trips) == (9, 9)


async def test_a_finished_request_reads_no_more(engine: AsyncEngine, session_factory: Any) -> None:
    reads = RequestReads(reads_without_transaction(engine))
    await reads.execute(text("SELECT 1"))
    await reads.release(finished=True)
    with pytest.raises(RequestFinished):
        await reads.execute(text("SELECT 1"))
    with pytest.raises(RequestFinished):
        async with reads():
            pass
    assert checked_out(engine) == 0


async def test_a_failed_read_starts_the_next_one_on_a_new_session(
    engine: AsyncEngine, session_factory: Any
) -> None:
    reads = RequestReads(reads_without_transaction(engine))
    with pytest.raises(Exception, match="no_such_table"):
        async with reads() as session:
            await session.execute(text("SELECT * FROM no_such_table"))
    assert checked_out(engine) == 0
    async with reads() as session:
        assert await session.scalar(text("SELECT 2")) == 2
    await reads.release(finished=True)


async def test_invalidate_since_replaces_the_connections_opened_before(
    engine: AsyncEngine, session_factory: Any
) -> None:
    """One of db/engine.py's two uses of SQLAlchemy's private API (written against
    SQLAlchemy 2.1.9; the other, `hands_out_as_is`, is pinned below): `Pool._invalidate`.
    After a dead connection, the pool's idle connections, opened before it, are replaced at
    their next checkout."""
    assert sqlalchemy.__version__.startswith("2.1."), (
        f"SQLAlchemy {sqlalchemy.__version__}: re-check db/engine.py invalidate_since"
    )
    dead, idle = await engine.raw_connection(), await engine.raw_connection()
    await greenlet_spawn(idle.close)
    with wire_on(engine) as kept:
        again = await engine.raw_connection()  # the idle one, as it is
        await greenlet_spawn(again.close)
    with wire_on(engine) as replaced:
        await greenlet_spawn(invalidate_since, engine, dead, ConnectionError("gone"))
        again = await engine.raw_connection()
        await greenlet_spawn(again.close)
    assert (kept.connections, replaced.connections) == (0, 1)
    assert checked_out(engine) == 0


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The functions db/engine.py runs in a greenlet, in order, from now on."""
    spawned: list[object] = []

    async def counted(function: Any, *args: Any) -> Any:
        spawned.append(function)
        return await greenlet_spawn(function, *args)

    monkeypatch.setattr(db.engine, "greenlet_spawn", counted)
    return spawned


async def test_an_idle_connection_is_taken_without_a_greenlet(
    engine: AsyncEngine, spawned: list[object], caplog: pytest.LogCaptureFixture
) -> None:
    """`checkout` takes a connection waiting idle in the pool without a greenlet; one it
    must open, wait for, or replace (invalidated, opened before the pool was, soft-
    invalidated, detached), in a greenlet, as SQLAlchemy's own `raw_connection` does, with
    the pool left as it should be and nothing in the log."""
    assert sqlalchemy.__version__.startswith("2.1."), (
        f"SQLAlchemy {sqlalchemy.__version__}: re-check db/engine.py hands_out_as_is"
    )
    pool_of_two = create_engine(engine.url.render_as_string(hide_password=False), pool_size=2)
    try:
        with warnings.catch_warnings(record=True) as warned, wire_on(pool_of_two) as wire:
            warnings.simplefilter("always")
            first = await checkout(pool_of_two)  # the pool is empty: it connects
            driver = first.driver_connection
            await greenlet_spawn(first.close)
            again = await checkout(pool_of_two)  # the idle one
            assert again.driver_connection is driver
            assert (len(spawned), wire.connections) == (1, 1)

            second = await checkout(pool_of_two)  # none idle: opens another
            waiting = asyncio.create_task(checkout(pool_of_two))  # none idle, none to open
            for _ in range(5):
                await asyncio.sleep(0)
            assert not waiting.done()
            await greenlet_spawn(again.close)
            third = await waiting  # the one given back
            assert third.driver_connection is driver
            assert (len(spawned), wire.connections, checked_out(pool_of_two)) == (3, 2, 2)

            # A dead connection invalidates the pool: each idle connection is replaced at its
            # next checkout, in a greenlet; once both are, none takes one.
            await greenlet_spawn(invalidate_since, pool_of_two, second, ConnectionError("gone"))
            await greenlet_spawn(third.close)
            replaced = await checkout(pool_of_two)  # the dead one's, opened anew
            await greenlet_spawn(replaced.close)
            recycled = await checkout(pool_of_two)  # the other, opened before the disconnect
            assert recycled.driver_connection is not driver
            await greenlet_spawn(recycled.close)
            assert (len(spawned), wire.connections) == (5, 4)
            for _ in range(3):
                idle = await checkout(pool_of_two)
                await greenlet_spawn(idle.close)
            assert len(spawned) == 5

            # Soft-invalidated, or detached: that connection is replaced when it comes up.
            soft = await checkout(pool_of_two)
            soft.invalidate(soft=True)
            await greenlet_spawn(soft.close)
            detached = await checkout(pool_of_two)
            detached.detach()  # the pool's entry goes back without a connection
            await greenlet_spawn(detached.close)
            for _ in range(4):
                idle = await checkout(pool_of_two)
                await greenlet_spawn(idle.close)
            assert (len(spawned), wire.connections) == (7, 6)
        assert checked_out(pool_of_two) == 0
        assert not [str(warning.message) for warning in warned]
        assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
    finally:
        await pool_of_two.dispose()


@pytest.mark.parametrize("option", [{"pool_pre_ping": True}, {"pool_recycle": 0}])
async def test_a_pool_that_pings_or_recycles_checks_out_in_a_greenlet(
    engine: AsyncEngine, spawned: list[object], option: dict[str, Any]
) -> None:
    """With a pre-ping, or connections older than `pool_recycle` (0 s: all), every checkout
    may await: `checkout` takes them all in a greenlet."""
    pinging = create_engine(engine.url.render_as_string(hide_password=False), **option)
    try:
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            for _ in range(3):
                pooled = await checkout(pinging)
                await greenlet_spawn(pooled.close)
        assert len(spawned) == 3
        assert not [str(warning.message) for warning in warned]
    finally:
        await pinging.dispose()
