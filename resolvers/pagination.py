"""Keyset pagination for top-level lists: stable under inserts, one statement per page."""

from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Integer, Select, bindparam, func, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from club.cursors import decode_cursor, encode_cursor
from club.errors import RequestError
from club.ids import MAX_PK
from club.settings import Settings
from db.engine import ReadSessions

RowT = TypeVar("RowT")


def _cursor_values(values: Iterable[Any]) -> list[Any]:
    return [value.isoformat() if isinstance(value, datetime) else value for value in values]


@dataclass(frozen=True)
class SortOrder:
    """The columns a list is ordered by; the last one must be unique (the primary key)."""

    name: str
    columns: tuple[InstrumentedAttribute[Any], ...]

    def key_of(self, row: Any) -> list[Any]:
        """The cursor's values of a model object (or a named row)."""
        return _cursor_values(getattr(row, column.key) for column in self.columns)

    def key_at(self, row: Sequence[Any], positions: Sequence[int]) -> list[Any]:
        """The cursor's values of a positional row, this order's columns at `positions`."""
        return _cursor_values(row[position] for position in positions)

    def parse(self, values: list[Any]) -> list[Any]:
        parsed = []
        for column, value in zip(self.columns, values, strict=True):
            # A TypeDecorator (our UTCDateTime) reports `object`; its implementation knows.
            python_type = getattr(column.type, "impl", column.type).python_type
            try:
                if python_type is datetime:
                    if not isinstance(value, str):
                        raise TypeError
                    value = datetime.fromisoformat(value)
                    if value.tzinfo is None:
                        raise ValueError
                elif not isinstance(value, python_type) or isinstance(value, bool):
                    raise TypeError
                elif _out_of_range(value):
                    raise ValueError
            except (TypeError, ValueError):
                raise RequestError.bad_input(
                    "The cursor is not one of this list.", field="after"
                ) from None
            parsed.append(value)
        return parsed


def _out_of_range(value: object) -> bool:
    """Values no column holds: integers past 32 bits, strings with NUL."""
    if isinstance(value, int):
        return not -MAX_PK <= value <= MAX_PK
    return isinstance(value, str) and "\x00" in value


def page_size(first: int | None, settings: Settings) -> int:
    if first is None:
        return settings.default_page_size
    if first < 0 or first > settings.max_page_size:
        raise RequestError.bad_input(
            f"`first` must be between 0 and {settings.max_page_size}.", field="first"
        )
    return first


@dataclass(frozen=True, slots=True)
class Page(Generic[RowT]):
    """One page of a list: its rows with their cursors, and what lies around it."""

    rows: Sequence[tuple[str, RowT]]
    has_next_page: bool
    has_previous_page: bool
    # Counted only when a client selects totalCount.
    count_total: Callable[[], Awaitable[int]]


def page_of(
    statement: Select[Any], order: SortOrder, *, first: int, after: str | None
) -> Select[Any]:
    """`statement` cut to one page after the cursor `after`, in `order`, with one row more
    than `first` to tell whether a next page exists."""
    values = page_values(order, first=first, after=after)
    return page_statement(statement, order, after=after is not None).params(values)


def _after(n: int) -> str:
    """The parameter of a cursor's `n`th value (`page_statement`, `page_values`)."""
    return f"after_{n}"


def follows_cursor(names: Collection[str]) -> bool:
    """Whether `page_values` with these parameters' names came with a cursor `after`."""
    return _after(0) in names


def page_statement(statement: Select[Any], order: SortOrder, *, after: bool) -> Select[Any]:
    """`page_of`'s statement with its values as named parameters (`page_values`): `limit`,
    and with a cursor `after_0`, `after_1`… (typed: PostgreSQL will not compare a timestamp
    with an untyped parameter)."""
    page = statement
    if after:
        bounds = [bindparam(_after(n), type_=column.type) for n, column in enumerate(order.columns)]
        page = page.where(tuple_(*order.columns) > tuple_(*bounds))
    return page.order_by(*order.columns).limit(bindparam("limit", type_=Integer))


def page_values(order: SortOrder, *, first: int, after: str | None) -> dict[str, Any]:
    """The values of `page_statement`'s parameters; BAD_USER_INPUT for a cursor that is not
    one of this list."""
    values: dict[str, Any] = {"limit": first + 1}
    if after is not None:
        key = order.parse(decode_cursor(order.name, after, arity=len(order.columns)))
        values |= {_after(n): value for n, value in enumerate(key)}
    return values


def count_of(statement: Select[Any]) -> Select[int]:
    """How many rows `statement` has, across all pages."""
    return select(func.count()).select_from(statement.order_by(None).subquery())


async def paginate(
    session_factory: ReadSessions,
    statement: Select[Any],
    order: SortOrder,
    *,
    first: int,
    after: str | None,
) -> Page[Any]:
    """One page of `statement` (a filtered select of one model) after the cursor `after`."""
    page = page_of(statement, order, first=first, after=after)
    async with session_factory() as session:
        rows: Sequence[Any] = (await session.scalars(page)).all()

    async def count_total() -> int:
        async with session_factory() as session:
            total: int = (await session.execute(count_of(statement))).scalar_one()
            return total

    return Page(
        rows=[(encode_cursor(order.name, order.key_of(row)), row) for row in rows[:first]],
        has_next_page=len(rows) > first,
        has_previous_page=after is not None,
        count_total=count_total,
    )
