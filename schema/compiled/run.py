"""One run of a compiled plan: the request's context, its variables, the statements it sends
and the objects it has produced so far."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from graphql.execution.values import VariableValues
from sqlalchemy import Select

from db.prepared import Batched
from resolvers.context import Context
from resolvers.row_reads import read_batch, read_rows

# A row as the driver returns it (asyncpg's Record, SQLite's tuple), values processed as
# SQLAlchemy would (db/prepared.py): read by position.
Row = Sequence[Any]
Rows = Sequence[Row]


class Unanswerable(Exception):
    """This request is one the plan cannot answer exactly as the reference executor would (an
    argument it refuses, a null where the schema says non-null, an answer over the cost
    budget, a representation it does not read): the reference executor answers it instead.
    Reads change nothing, so running them again there is safe."""


@dataclass(slots=True)
class Run:
    context: Context
    variables: VariableValues
    budget: int
    objects: int = 0

    async def rows(self, statement: Select[Any] | Select[int, int]) -> Rows:
        return await read_rows(self.context.session_factory, statement)

    async def batch(self, batched: Batched, keys: Collection[Any]) -> Rows:
        return await read_batch(self.context.session_factory, batched, keys)

    def produced(self, objects: int) -> None:
        """Counts objects as the reference executor does (schema/production.py): each object
        value of the response, list items included. Over the budget, the reference executor
        answers, with its RESULT_TOO_LARGE error where it stops."""
        self.objects += objects
        if self.objects > self.budget:
            raise Unanswerable("over the cost budget")
