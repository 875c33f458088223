"""The statements of the compiled read path (schema/compiled/): what the loaders read, one
statement per relation level keyed by the parents' ids, but selecting only the columns a
plan needs and returning the driver's rows (SQLAlchemy Core: typed values, no ORM objects).

`RowsBy` and `RowsGroupedBy` are also how the loaders declare what they read
(resolvers/loaders.py `one_by`, `many_by`), so the compiled path and the loaders cannot
order a relation differently.
"""

from collections import defaultdict
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, Subquery, func, select
from sqlalchemy.orm import InstrumentedAttribute

from club.enums import OrganizationStatus
from db.engine import ReadSessions, RequestReads
from db.keys import KEYS, keys_parameter, one_of
from db.models import Organization
from db.prepared import Batched, NotPreparable

Columns = Sequence[InstrumentedAttribute[Any]]


# Outer joins of a plan's statement, in order: (an alias of a table, the ON clause).
Joins = Sequence[tuple[Any, ColumnElement[bool]]]


def outer_joined(statement: Select[Any], joins: Joins) -> Select[Any]:
    """`statement` with each of `joins` (to-one relations read with their parent's rows)."""
    for alias, on in joins:
        statement = statement.outerjoin(alias, on)
    return statement


@dataclass(frozen=True, slots=True)
class RowsBy:
    """One row per key of a unique `column` (a primary key, a slug, a code)."""

    column: InstrumentedAttribute[Any]

    def statement(self, selected: Sequence[Any], keys: Collection[Any]) -> Select[Any]:
        """`selected` (the model, for a loader; some of its columns, for a plan) of the rows
        whose `column` is one of `keys`."""
        return select(*selected).where(one_of(self.column, keys))

    def batched(self, selected: Sequence[Any], joins: Joins = ()) -> Batched:
        """The same statement with its keys bound at each execution (`read_batch`), and the
        plan's `joins`."""
        statement = outer_joined(select(*selected).select_from(self.column.class_), joins)
        return Batched(statement.where(keys_parameter(self.column)))


@dataclass(frozen=True, slots=True)
class RowsGroupedBy:
    """The rows whose foreign key `column` is the key, each group in `order_by`'s order."""

    column: InstrumentedAttribute[Any]
    order_by: tuple[InstrumentedAttribute[Any], ...]

    def statement(self, selected: Sequence[Any], keys: Collection[Any]) -> Select[Any]:
        """`selected` (the model or some of its columns) of the rows whose `column` is one of
        `keys`, in `order_by`'s order."""
        return select(*selected).where(one_of(self.column, keys)).order_by(*self.order_by)

    def batched(self, selected: Sequence[Any], joins: Joins = ()) -> Batched:
        """The same statement with its keys bound at each execution (`read_batch`), and the
        plan's `joins`."""
        statement = outer_joined(select(*selected).select_from(self.column.class_), joins)
        return Batched(statement.where(keys_parameter(self.column)).order_by(*self.order_by))


def ranked_organizations(
    selected: Sequence[Any], country_ids: Collection[int], status: OrganizationStatus | None
) -> Subquery:
    """The organizations of `country_ids` (of `status`, if given), `selected` (the model or
    some of its columns) with their `rank` in their country by name then id: what a
    country's first organizations are cut from, by the `organizations_of_country` loader
    (the model) and by a plan (`organizations_of_countries`)."""
    rank = (
        func.row_number()
        .over(partition_by=Organization.country_id, order_by=(Organization.name, Organization.id))
        .label("rank")
    )
    inner = select(*selected, rank).where(one_of(Organization.country_id, country_ids))
    if status is not None:
        inner = inner.where(Organization.status == status)
    return inner.subquery()


def first_of_each_country(ranked: Subquery, first: int, *selected: Any) -> Select[Any]:
    """`selected` of at most `first` organizations of each country, country by country."""
    return (
        select(*selected).where(ranked.c.rank <= first).order_by(ranked.c.country_id, ranked.c.rank)
    )


def organizations_of_countries(
    columns: Columns, country_ids: Collection[int], first: int, status: OrganizationStatus | None
) -> Select[Any]:
    """`columns` of at most `first` organizations of each country, by name then id: the
    `organizations_of_country` loader's statement. `columns` must include `country_id`."""
    ranked = ranked_organizations(columns, country_ids, status)
    return first_of_each_country(ranked, first, *(ranked.c[column.key] for column in columns))


def counts_by(
    column: InstrumentedAttribute[Any], keys: Collection[Any], *where: ColumnElement[bool]
) -> Select[Any, int]:
    """How many rows (matching `where`) have each key in `column` (a key with none: no row)."""
    total = func.count().label("total")
    return select(column, total).where(one_of(column, keys), *where).group_by(column)


MEMBERS = Organization.status == OrganizationStatus.MEMBER


async def read_rows(
    session_factory: ReadSessions, statement: Select[Any] | Select[int, int]
) -> Sequence[Sequence[Any]]:
    """The rows of `statement` (positional), on the request's read connection: sent by the
    driver itself (db/prepared.py) where the request has one, else through a session."""
    if isinstance(session_factory, RequestReads):
        try:
            return await session_factory.rows(statement)
        except NotPreparable:
            pass
    async with session_factory() as session:
        rows: Sequence[Row[Any]] = (await session.execute(statement)).all()
        return rows


async def read_batch(
    session_factory: ReadSessions, batched: Batched, keys: Collection[Any]
) -> Sequence[Sequence[Any]]:
    """The rows of `batched` for `keys` (positional), on the request's read connection."""
    return await read_bound(session_factory, batched, {KEYS: list(keys)})


async def read_bound(
    session_factory: ReadSessions, batched: Batched, values: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    """The rows of `batched` with its named parameters' `values` (positional), on the
    request's read connection."""
    if isinstance(session_factory, RequestReads):
        try:
            return await session_factory.bound(batched, values)
        except NotPreparable:
            pass
    async with session_factory() as session:
        result = await session.execute(batched.statement, dict(values))
        return result.all()


def rows_by_key(rows: Sequence[Row[Any]], index: int) -> dict[Hashable, Row[Any]]:
    return {row[index]: row for row in rows}


def rows_grouped(rows: Sequence[Row[Any]], index: int) -> dict[Hashable, list[Row[Any]]]:
    groups: dict[Hashable, list[Row[Any]]] = defaultdict(list)
    for row in rows:
        groups[row[index]].append(row)
    return groups
