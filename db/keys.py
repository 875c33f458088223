"""`one_of(column, keys)`: a batched read's `WHERE column IN keys`, with the keys bound as one
parameter (an array on PostgreSQL, a JSON array on SQLite) instead of one per key.

With one parameter per key, each batch size is a new statement: SQLAlchemy re-renders the
`IN` list on every execution (its "post-compile" step was up to 31 % of the server's CPU
on the benchmark's nested walk) and PostgreSQL prepares a new statement for each length.
With one parameter the statement text is the same for every batch, so SQLAlchemy's
compiled cache, asyncpg's prepared statements and our own (db/prepared.py) all hold.

    PostgreSQL:  organizations.id = ANY($1::INTEGER[])
    SQLite:      organizations.id IN (SELECT value FROM json_each(?))
"""

from collections.abc import Collection
from typing import Any

import orjson
from sqlalchemy import Boolean, ColumnElement, String, TypeDecorator, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql import operators
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import Grouping
from sqlalchemy.sql.operators import OperatorType
from sqlalchemy.sql.type_api import TypeEngine
from sqlalchemy.sql.visitors import InternalTraversal

# The name of the parameter `keys_parameter` binds.
KEYS = "keys"


class KeyList(TypeDecorator[list[Any]]):
    """A list of keys bound as one parameter: an array of `element` on PostgreSQL, the JSON
    text of the list elsewhere (SQLite's json_each reads it back as integers or texts)."""

    impl = String
    cache_ok = True

    def __init__(self, element: TypeEngine[Any]) -> None:
        super().__init__()
        self.element = element

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            # Without a length: a cast to VARCHAR(2)[] would truncate a longer key ("MDX"
            # would find "MD") where an IN list finds nothing.
            element = String() if isinstance(self.element, String) else self.element
            return dialect.type_descriptor(ARRAY(element))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        keys = list(value)
        if dialect.name == "postgresql":
            return keys  # the array's own bind processing runs the element's
        # As each key is stored (an enum's value, a timestamp's text), then JSON.
        process = self.element.dialect_impl(dialect).bind_processor(dialect)
        return orjson.dumps(keys if process is None else [process(key) for key in keys]).decode()


class OneOf(ColumnElement[bool]):
    """`column` is one of the keys bound to `keys` (see the module's docstring)."""

    type = Boolean()
    inherit_cache = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("keys", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], keys: ColumnElement[Any]) -> None:
        self.column = column
        self.keys = keys

    @property
    def _from_objects(self) -> list[Any]:
        """The column's table, which a SELECT of other columns must still read FROM."""
        return [*self.column._from_objects, *self.keys._from_objects]

    def self_group(self, against: OperatorType | None = None) -> ColumnElement[Any]:
        """Already a truth value where a WHERE or an AND wants one (a Boolean element would be
        compared with 1 on SQLite); parenthesized under any other operator."""
        if against in (operators.and_, operators.or_, operators._asbool):
            return self
        return Grouping(self)


def _element(column: ColumnElement[Any] | QueryableAttribute[Any]) -> ColumnElement[Any]:
    return column.__clause_element__() if isinstance(column, QueryableAttribute) else column


def one_of(column: ColumnElement[Any] | QueryableAttribute[Any], keys: Collection[Any]) -> OneOf:
    """`column IN keys`, with `keys` bound as one parameter."""
    element = _element(column)
    return OneOf(element, bindparam(None, list(keys), type_=KeyList(element.type)))


def keys_parameter(column: ColumnElement[Any] | QueryableAttribute[Any]) -> OneOf:
    """`column IN :keys`, the keys given at each execution: a statement built and compiled
    once, then run for every batch (db/prepared.py `Batched`)."""
    element = _element(column)
    return OneOf(element, bindparam(KEYS, type_=KeyList(element.type)))


@compiles(OneOf)
def _one_of(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    column, keys = compiler.process(element.column, **kw), compiler.process(element.keys, **kw)
    return f"{column} IN (SELECT value FROM json_each({keys}))"


@compiles(OneOf, "postgresql")
def _one_of_postgresql(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    column, keys = compiler.process(element.column, **kw), compiler.process(element.keys, **kw)
    return f"{column} = ANY({keys})"
