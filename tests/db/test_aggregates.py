"""The SQL both databases spell differently (db/aggregates.py) gives the same numbers on each,
whatever the session's time zone; the two forms of the median agree on PostgreSQL."""

import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from club.enums import EventKind
from db.aggregates import (
    builtin_median_by,
    elapsed_seconds,
    median_by,
    portable_median_by,
    utc_year,
)
from db.models import Event
from tests.factories import add, country_ids, event, organization

# Just either side of a new year in UTC: a time zone far east or west reads another year.
LAST_OF_2021 = datetime(2021, 12, 31, 23, 30, tzinfo=UTC)
FIRST_OF_2022 = datetime(2022, 1, 1, 0, 30, tzinfo=UTC)
# Seconds each kind of event lasts, in groups of odd and even size.
DURATIONS = {
    EventKind.ONLINE_MEETING: [3_600, 7_200, 5_400],
    EventKind.HYBRID: [60, 180, 120, 10_000],
    EventKind.IN_PERSON: [86_401],
}
# Zones whose offsets move a time across a UTC new year either way.
ZONES = ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"]


async def host(session_factory: Any) -> int:
    md = (await country_ids(session_factory, "MD"))["MD"]
    member = organization(md, member=True)
    await add(session_factory, member)
    return member.id


async def test_utc_year_reads_the_utc_year_in_any_session_time_zone(
    session_factory: Any, engine: AsyncEngine
) -> None:
    host_id = await host(session_factory)
    await add(
        session_factory,
        event(host_id, title="last", starts_at=LAST_OF_2021),
        event(host_id, title="first", starts_at=FIRST_OF_2022),
    )
    statement = select(Event.title, utc_year(Event.starts_at)).order_by(Event.title)
    for zone in ZONES:
        async with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                await connection.execute(text(f"SET TIME ZONE '{zone}'"))
            rows = (await connection.execute(statement)).all()
        assert [tuple(row) for row in rows] == [("first", 2022), ("last", 2021)], zone


async def test_utc_year_groups_by_the_year(session_factory: Any) -> None:
    """GROUP BY repeats the expression: PostgreSQL must see the SELECT's text again."""
    host_id = await host(session_factory)
    await add(
        session_factory,
        *[event(host_id, starts_at=LAST_OF_2021 - timedelta(days=n)) for n in range(3)],
        event(host_id, starts_at=FIRST_OF_2022),
    )
    year = utc_year(Event.starts_at)
    async with session_factory() as session:
        rows = await session.execute(select(year, func.count()).group_by(year).order_by(year))
        counted = await session.execute(
            select(year, Event.kind).group_by(year, Event.kind).order_by(year)
        )
    assert [tuple(row) for row in rows] == [(2021, 3), (2022, 1)]
    assert [row[0] for row in counted] == [2021, 2022]


async def add_durations(session_factory: Any) -> None:
    host_id = await host(session_factory)
    # Starts a hair before its second and ends a hair after: whole seconds are what count.
    start = datetime(2024, 3, 1, 12, 0, 0, 999_999, tzinfo=UTC)
    await add(
        session_factory,
        *[
            event(
                host_id,
                kind=kind,
                starts_at=start,
                ends_at=start.replace(microsecond=0) + timedelta(seconds=seconds, microseconds=1),
            )
            for kind, durations in DURATIONS.items()
            for seconds in durations
        ],
    )


def durations_source() -> Any:
    return select(
        Event.kind.label("kind"),
        elapsed_seconds(Event.starts_at, Event.ends_at).label("seconds"),
    ).subquery("durations")


async def test_elapsed_seconds_counts_whole_seconds_in_any_session_time_zone(
    session_factory: Any, engine: AsyncEngine
) -> None:
    await add_durations(session_factory)
    source = durations_source()
    for zone in ZONES:
        async with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                await connection.execute(text(f"SET TIME ZONE '{zone}'"))
            rows = (await connection.execute(select(source.c.kind, source.c.seconds))).all()
        found: dict[EventKind, list[int]] = {}
        for kind, seconds in rows:
            found.setdefault(kind, []).append(seconds)
        assert {kind: sorted(seconds) for kind, seconds in found.items()} == {
            kind: sorted(seconds) for kind, seconds in DURATIONS.items()
        }, zone


async def test_the_median_of_each_group(session_factory: Any, engine: AsyncEngine) -> None:
    await add_durations(session_factory)
    expected = {
        kind: (float(statistics.median(values)), len(values)) for kind, values in DURATIONS.items()
    }
    assert expected[EventKind.HYBRID][0] == 150.0  # even: the mean of the two middle values
    source = durations_source()
    forms = [median_by(source, ["kind"], "seconds", dialect=engine.dialect.name)]
    if engine.dialect.name == "postgresql":
        # The built-in percentile and the portable ranking, on the same rows.
        forms += [
            builtin_median_by(source, ["kind"], "seconds"),
            portable_median_by(source, ["kind"], "seconds"),
        ]
    async with session_factory() as session:
        for form in forms:
            rows = (await session.execute(form)).all()
            assert {kind: (median, size) for kind, median, size in rows} == expected
            assert all(type(median) is float for _, median, _ in rows)
