"""A request's reads: one connection, taken at the first read and shared in turns by
concurrent users, no transaction, given back at the end."""

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import RequestFinished, RequestReads, reads_without_transaction
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
