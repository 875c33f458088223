"""Batched keys as one parameter (db/keys.py) and statements sent by the driver with their
shape compiled once (db/prepared.py): the same rows as SQLAlchemy's own execution, on both
databases."""

from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from club.enums import OrganizationStatus
from db.engine import RequestReads, reads_without_transaction
from db.keys import one_of
from db.models import Country, Organization
from db.prepared import NotPreparable, PreparedShapes
from resolvers.row_reads import RowsGroupedBy, read_batch, read_rows
from tests.conftest import checked_out, wire_on
from tests.factories import T0, add, country_ids, organization

COLUMNS = (
    Organization.id,
    Organization.name,
    Organization.status,
    Organization.kind,
    Organization.website,
    Organization.joined_at,
    Organization.created_at,
)


@pytest.fixture
async def organizations(session_factory: Any) -> list[int]:
    """Six organizations in two countries, members and guests, some without a website."""
    ids = await country_ids(session_factory, "MD", "KE")
    rows = [
        organization(
            ids["MD" if n % 2 else "KE"],
            member=n % 3 == 0,
            website=None if n % 2 else "https://a.example.org",
        )
        for n in range(6)
    ]
    await add(session_factory, *rows)
    return sorted(row.id for row in rows)


def by_ids(keys: Any) -> Any:
    return select(*COLUMNS).where(one_of(Organization.id, keys)).order_by(Organization.id)


@pytest.mark.parametrize("count", [0, 1, 4, 6])
async def test_one_of_reads_the_rows_an_in_list_reads(
    session_factory: Any, organizations: list[int], count: int
) -> None:
    keys = set(organizations[:count]) | ({999_999} if count == 4 else set())  # a missing key
    async with session_factory() as session:
        expected = (
            await session.execute(
                select(*COLUMNS).where(Organization.id.in_(keys)).order_by(Organization.id)
            )
        ).all()
        got = (await session.execute(by_ids(keys))).all()
        codes = (
            await session.scalars(
                select(Country.code).where(one_of(Country.code, ["MD", "KE", "XX"]))
            )
        ).all()
    assert [tuple(row) for row in got] == [tuple(row) for row in expected]
    assert len(got) == count
    assert sorted(codes) == ["KE", "MD"]  # text keys too


async def test_one_of_compares_keys_as_the_column_stores_them(
    session_factory: Any, organizations: list[int]
) -> None:
    """A key longer than a VARCHAR(n) column finds nothing (no cast to VARCHAR(n)[], which
    would truncate it on PostgreSQL); timestamps and enums match as stored (SQLite keeps
    them as text); a SELECT of another table's columns still reads the key column's."""
    async with session_factory() as session:
        longer = (
            await session.scalars(select(Country.code).where(one_of(Country.code, ["MDX"])))
        ).all()
        created = await session.scalar(
            select(func.count()).where(one_of(Organization.created_at, [T0]))
        )
        members = await session.scalar(
            select(func.count()).where(
                one_of(Organization.status, [OrganizationStatus.MEMBER]),
                Organization.id.in_(organizations),
            )
        )
    assert longer == []
    assert created == len(organizations)
    assert members == 2  # n = 0 and 3
    other_table = select(Country.code).where(one_of(Organization.id, [1]))
    assert "FROM countries, organizations" in str(other_table)


async def test_every_batch_size_is_one_statement_text(engine: AsyncEngine) -> None:
    texts = {str(by_ids(range(n)).compile(dialect=engine.dialect)) for n in (0, 1, 2, 100, 1000)}
    assert len(texts) == 1


async def test_the_driver_reads_what_sqlalchemy_reads_with_one_compiled_shape(
    engine: AsyncEngine, session_factory: Any, organizations: list[int]
) -> None:
    shapes = PreparedShapes(engine.dialect)
    reads = RequestReads(reads_without_transaction(engine), shapes)
    batches = [organizations[:2], organizations[2:], [], organizations]
    for status in (OrganizationStatus.MEMBER, OrganizationStatus.GUEST):
        for keys in batches:
            statement = by_ids(keys).where(Organization.status == status)
            async with session_factory() as session:
                expected = [tuple(row) for row in (await session.execute(statement)).all()]
            got = [tuple(row) for row in await reads.rows(statement)]
            # Enum members and aware timestamps, as SQLAlchemy's Result holds them.
            assert got == expected
            assert all(isinstance(row[2], OrganizationStatus) for row in got)
            assert all(row[6].tzinfo is not None for row in got)
    await reads.release(finished=True)
    assert len(shapes._shapes) == 1  # one shape: keys and status are bound values
    assert checked_out(engine) == 0


async def test_a_statement_whose_text_depends_on_its_values_goes_through_sqlalchemy(
    engine: AsyncEngine, session_factory: Any, organizations: list[int]
) -> None:
    reads = RequestReads(reads_without_transaction(engine))
    expanding = select(Organization.id).where(Organization.id.in_(organizations[:3]))
    with pytest.raises(NotPreparable):
        await reads.rows(expanding)
    assert [row[0] for row in await read_rows(reads, expanding.order_by(Organization.id))] == (
        organizations[:3]
    )
    await reads.release(finished=True)


@pytest.mark.parametrize("session_first", [False, True], ids=["driver only", "session first"])
async def test_a_read_on_a_connection_killed_in_the_pool_runs_once_more_on_a_new_one(
    engine: AsyncEngine, session_factory: Any, organizations: list[int], session_first: bool
) -> None:
    """Also when a SQLAlchemy session was made on the dead connection: it goes with it, and
    the next read through a session works on the new one."""
    if engine.dialect.name != "postgresql":
        pytest.skip("ending a backend (pg_terminate_backend) is PostgreSQL's")
    reads = RequestReads(reads_without_transaction(engine))
    pid = await reads.first_row("SELECT pg_backend_pid()", ())
    assert pid is not None
    if session_first:
        async with reads() as session:
            assert await session.scalar(text("SELECT 1")) == 1
    async with engine.connect() as connection:
        killed = await connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid[0]})
        assert killed
    with wire_on(engine) as wire:
        rows = await reads.rows(by_ids(organizations))
    assert [row[0] for row in rows] == organizations
    assert wire.connections == 1
    async with reads() as session:
        assert await session.scalar(text("SELECT 2")) == 2
    await reads.release(finished=True)
    assert checked_out(engine) == 0


async def test_a_batched_statement_reads_each_batch_on_both_paths(
    engine: AsyncEngine, session_factory: Any, organizations: list[int]
) -> None:
    """A plan's relation level: built and compiled once, run for batch after batch, by the
    driver on a request's connection and through a session elsewhere."""
    batched = RowsGroupedBy(Organization.country_id, (Organization.name, Organization.id)).batched(
        (*COLUMNS, Organization.country_id)
    )
    reads = RequestReads(reads_without_transaction(engine))
    async with session_factory() as session:
        countries = sorted(
            set(
                await session.scalars(
                    select(Organization.country_id).where(Organization.id.in_(organizations))
                )
            )
        )
    for keys in ([countries[0]], countries, [], [999_999]):
        async with session_factory() as session:
            expected = (
                await session.execute(
                    select(*COLUMNS, Organization.country_id)
                    .where(Organization.country_id.in_(keys))
                    .order_by(Organization.name, Organization.id)
                )
            ).all()
        by_driver = await read_batch(reads, batched, keys)
        by_session = await read_batch(session_factory, batched, keys)
        assert [tuple(row) for row in by_driver] == [tuple(row) for row in expected]
        assert [tuple(row) for row in by_session] == [tuple(row) for row in expected]
    assert list(batched._prepared) == [(engine.dialect.name, engine.dialect.driver)]  # once
    await reads.release(finished=True)
