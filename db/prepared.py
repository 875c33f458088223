"""Core statements run by the driver itself: compiled once per statement shape, their rows read
as the driver returns them (the compiled read path's reads, schema/compiled/).

SQLAlchemy's own execution of a cached statement still builds an execution context, a cursor
wrapper and a `Result` for every statement: on the benchmark's walks that was most of the
time spent outside the plan's own work. Here a statement's shape (SQLAlchemy's cache key,
which leaves the bound values out) is compiled once per dialect into its SQL text, the
order of its positional parameters with each one's bind processor, and each column's
result processor; each execution only binds the values and sends the text
(`RequestReads.rows`, db/engine.py). The values a row holds are the ones SQLAlchemy's
`Result` would hold (enums as members, timestamps in UTC): the same processors run.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Select
from sqlalchemy.engine.interfaces import _CoreSingleExecuteParams

Processor = Callable[[Any], Any]
AnySelect = Select[*tuple[Any, ...]]
Row = Sequence[Any]

# Compiled shapes kept per dialect: the plans' statements are a few dozen shapes; a bound
# keeps a pathological stream of distinct shapes from growing it without end.
MAX_SHAPES = 500


class NotPreparable(Exception):
    """A statement whose SQL text depends on its values (an expanding `IN` list, a literal
    rendered at execution): run it through SQLAlchemy instead."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """One statement shape compiled for one dialect."""

    compiled: Any  # SQLCompiler
    sql: str
    parameters: tuple[tuple[str, Processor | None], ...]
    # (column position, processor) of the columns whose driver value needs one.
    processed: tuple[tuple[int, Processor], ...]

    def values(self, extracted: Sequence[Any]) -> tuple[Any, ...]:
        """The positional parameters for one execution, from the bound parameters of the
        statement (its cache key's `bindparams`, in the order the shape was compiled with)."""
        return self._positional(
            self.compiled.construct_params(extracted_parameters=extracted, escape_names=False)
        )

    def bind(self, given: Mapping[str, Any]) -> tuple[Any, ...]:
        """The positional parameters for one execution of a statement built with named
        parameters (`Batched`): `given` by name, the others as the statement holds them."""
        return self._positional(self.compiled.construct_params(given, escape_names=False))

    def _positional(self, values: _CoreSingleExecuteParams) -> tuple[Any, ...]:
        """`values` (by name) in the compiled order, each through its bind processor."""
        return tuple(
            values[name] if process is None else process(values[name])
            for name, process in self.parameters
        )

    def rows(self, fetched: Sequence[Row]) -> Sequence[Row]:
        """The driver's rows, with each processed column's value as SQLAlchemy returns it."""
        if not self.processed:
            return fetched
        rows = []
        for fetched_row in fetched:
            row = list(fetched_row)
            for position, process in self.processed:
                row[position] = process(row[position])
            rows.append(tuple(row))
        return rows


def prepare(statement: AnySelect, dialect: Dialect, cache_key: Any) -> Prepared:
    """`statement` compiled for `dialect`, remembering `cache_key` (its `bindparams` are what
    later statements of the same shape bind in their place; None for a statement run with
    named parameters only)."""
    compiled = statement.compile(dialect=dialect, cache_key=cache_key)
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise NotPreparable("a parameter rendered at execution")
    if compiled.positiontup is None:
        raise NotPreparable(f"{dialect.name}'s parameters are not positional")
    parameters = tuple(
        (name, compiled.binds[name].type._cached_bind_processor(dialect))
        for name in compiled.positiontup
    )
    try:
        processed = tuple(
            (position, process)
            for position, column in enumerate(statement.selected_columns)
            if (process := column.type._cached_result_processor(dialect, None)) is not None
        )
    except Exception as error:
        # A processor that needs the driver's column type (asyncpg's Numeric): SQLAlchemy's
        # own execution has it.
        raise NotPreparable(f"a result processor: {error}") from error
    return Prepared(compiled, str(compiled), parameters, processed)


class Batched:
    """A statement read for batch after batch of keys (a plan's relation level): built once,
    with its keys as the parameter `keys` (db/keys.py `keys_parameter`), and compiled once
    per dialect, so that a batch costs neither building nor cache-keying a statement."""

    __slots__ = ("_prepared", "statement")

    def __init__(self, statement: AnySelect) -> None:
        self.statement = statement
        self._prepared: dict[tuple[str, str], Prepared] = {}

    def prepared(self, dialect: Dialect) -> Prepared:
        key = (dialect.name, dialect.driver)
        prepared = self._prepared.get(key)
        if prepared is None:
            prepared = self._prepared[key] = prepare(self.statement, dialect, None)
        return prepared


class PreparedShapes:
    """The compiled shapes of one dialect, by the statements' cache keys."""

    __slots__ = ("_dialect", "_shapes")

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._shapes: dict[Any, Prepared] = {}

    def get(self, statement: AnySelect) -> tuple[Prepared, tuple[Any, ...]]:
        """The statement's compiled shape and its positional parameters for this execution."""
        cache_key = statement._generate_cache_key()
        if cache_key is None:
            raise NotPreparable("a statement SQLAlchemy does not cache")
        prepared = self._shapes.get(cache_key.key)
        if prepared is None:
            prepared = prepare(statement, self._dialect, cache_key)
            if len(self._shapes) >= MAX_SHAPES:
                self._shapes.clear()
            self._shapes[cache_key.key] = prepared
        return prepared, prepared.values(cache_key.bindparams)
