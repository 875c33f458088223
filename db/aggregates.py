"""SQL that SQLite and PostgreSQL spell differently, for aggregate figures: the UTC year of a
stored time, the whole seconds between two, and the median of each group.

Stored times are UTC on both (db/base.py): SQLite keeps them as naive text, PostgreSQL as
`timestamptz`, whose EXTRACT would read the session's time zone unless told UTC.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    Select,
    cast,
    extract,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import Subquery

SECONDS_PER_DAY = 86_400


class utc_year(FunctionElement[int]):
    """The calendar year (UTC) of a stored time, as an integer."""

    type = Integer()
    name = "utc_year"
    inherit_cache = True


@compiles(utc_year)
def _utc_year(element: utc_year, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite: CAST(STRFTIME('%Y', t) AS INTEGER) over the stored UTC text.
    (moment,) = element.clauses
    return compiler.process(extract("year", moment), **kw)


@compiles(utc_year, "postgresql")
def _utc_year_postgresql(element: utc_year, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = element.clauses
    # A literal, not a parameter: GROUP BY repeats the expression, and PostgreSQL matches it
    # to the SELECT's only when the two are the same text.
    in_utc = func.timezone(literal_column("'UTC'"), moment)
    return compiler.process(cast(extract("year", in_utc), Integer), **kw)


class elapsed_seconds(FunctionElement[int]):
    """Whole seconds from the first stored time to the second (each rounded down to its
    second, so both databases count alike)."""

    type = Integer()
    name = "elapsed_seconds"
    inherit_cache = True


@compiles(elapsed_seconds)
def _elapsed_seconds(element: elapsed_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = element.clauses

    def epoch(moment: Any) -> ColumnElement[int]:
        # The stored text up to its seconds ('YYYY-MM-DD HH:MM:SS'): strftime itself would
        # round the fraction to milliseconds first, and 12:00:00.9999 would read 12:00:01.
        whole_seconds = func.substr(moment, 1, 19)
        return cast(func.strftime(literal_column("'%s'"), whole_seconds), BigInteger)

    return compiler.process(epoch(end) - epoch(start), **kw)


@compiles(elapsed_seconds, "postgresql")
def _elapsed_seconds_postgresql(element: elapsed_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = element.clauses

    def epoch(moment: Any) -> ColumnElement[int]:
        # The epoch of a timestamptz is absolute: no session time zone reads into it.
        return cast(func.floor(extract("epoch", moment)), BigInteger)

    return compiler.process(epoch(end) - epoch(start), **kw)


def median_by(source: Subquery, keys: Sequence[str], value: str, *, dialect: str) -> Select[Any]:
    """`SELECT <keys>, <median of value> AS median, <rows> AS size FROM source GROUP BY
    <keys>`: one row per group, the median a float (the mean of the two middle values of an
    even group), the size how many values it had.

    PostgreSQL has it built in (`percentile_cont(0.5) WITHIN GROUP (ORDER BY value)`); SQLite
    has no percentile, so each value is ranked in its group (ROW_NUMBER and COUNT over the
    group) and the middle one or two are averaged. Both give the same numbers
    (tests/db/test_aggregates.py runs the portable form on PostgreSQL too)."""
    if dialect == "postgresql":
        return builtin_median_by(source, keys, value)
    return portable_median_by(source, keys, value)


def builtin_median_by(source: Subquery, keys: Sequence[str], value: str) -> Select[Any]:
    groups = [source.c[key] for key in keys]
    median = func.percentile_cont(0.5).within_group(source.c[value])
    return select(
        *groups, cast(median, Float).label("median"), func.count().label("size")
    ).group_by(*groups)


def portable_median_by(source: Subquery, keys: Sequence[str], value: str) -> Select[Any]:
    groups = [source.c[key] for key in keys]
    ranked = select(
        *groups,
        source.c[value].label("value"),
        func.row_number().over(partition_by=groups, order_by=source.c[value]).label("position"),
        func.count().over(partition_by=groups).label("size"),
    ).subquery("ranked")
    ranked_groups = [ranked.c[key] for key in keys]
    # Odd size n: position (n+1)/2 twice over; even: positions n/2 and n/2 + 1.
    middle = or_(
        ranked.c.position == (ranked.c.size + 1) // 2,
        ranked.c.position == (ranked.c.size + 2) // 2,
    )
    median = func.avg(cast(ranked.c.value, Float))
    return (
        select(
            *ranked_groups,
            cast(median, Float).label("median"),
            func.max(ranked.c.size).label("size"),
        )
        .where(middle)
        .group_by(*ranked_groups)
    )
