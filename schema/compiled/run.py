"""One run of a compiled plan: the request's context, its variables, the statements it sends
and the objects it has produced so far."""

import asyncio
import functools
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql.execution.values import VariableValues
from sqlalchemy import Select

from db.engine import Database, ReadSessions
from db.prepared import Batched
from resolvers.context import Context
from resolvers.row_reads import read_batch, read_bound, read_rows

# A row as the driver returns it (asyncpg's Record, SQLite's tuple), values processed as
# SQLAlchemy would (db/prepared.py): read by position.
Row = Sequence[Any]
Rows = Sequence[Row]


class Unanswerable(Exception):
    """This request is one the plan cannot answer exactly as the reference executor would (an
    argument it refuses, a null where the schema says non-null, a representation it does not
    read): the reference executor answers it instead.
    Reads change nothing, so running them again there is safe."""


class OverBudget(Exception):
    """The answer would hold more objects than the caller's cost budget: the compiled path
    refuses it with COST_LIMIT_EXCEEDED before answering (executor.py). `objects` is exact
    when every level was read (`exact`), else a lower bound: the rows read so far."""

    def __init__(self, objects: int, *, exact: bool) -> None:
        super().__init__(f"{objects} objects")
        self.objects = objects
        self.exact = exact


@dataclass(frozen=True, slots=True)
class PlanOutcome:
    """What a request's plan found instead of its data, when the server's short path ran it
    (schema/compiled/direct.py): its `refusal` over the budget, or None when the reference
    executor answers. The long path, which then answers the request, takes it from the
    request's Context and does not run the plan (and send its statements) again."""

    refusal: OverBudget | None


# The reads of one subscription event, shared by its executions (each sharing key's): by
# what reads them (a plan's statement, or its step) and the values they are read for, that
# reader (so that its id is never taken for another's) and the read, run to its end whoever
# awaits it.
SharedReads = dict[tuple[Any, ...], tuple[object, "asyncio.Task[Rows]"]]
# A read on the connection it is given (a request's, or one taken for the read alone).
Read = Callable[[ReadSessions], Awaitable[Rows]]


@dataclass(slots=True)
class Run:
    context: Context
    variables: VariableValues
    budget: int
    # The root value: a subscription event's object (its plan reads its attributes).
    root: Any = None
    # A subscription event's reads, shared by all its executions (None: a query's own), and
    # the database they are read from, each on a pooled connection of its own.
    shared: SharedReads | None = None
    database: Database | None = None
    # The answer's objects as the reference executor counts them (schema/production.py).
    objects: int = 0
    # The rows read so far, each at least one object of the answer.
    rows_read: int = 0

    async def rows(
        self, statement: Select[Any] | Select[int, int], shared_as: tuple[Any, ...] = ()
    ) -> Rows:
        """`statement`'s rows; for a subscription event, read once for all its executions
        that read it `shared_as` (the step that built it and the values it was built from:
        its first item the step itself)."""
        if self.shared is None or not shared_as:
            return await read_rows(self.context.session_factory, statement)
        read = functools.partial(read_rows, statement=statement)
        return await self._shared(shared_as[0], (id(shared_as[0]), *shared_as[1:]), read)

    async def batch(self, batched: Batched, keys: Collection[Any]) -> Rows:
        if self.shared is None:
            return await read_batch(self.context.session_factory, batched, keys)
        read = functools.partial(read_batch, batched=batched, keys=keys)
        return await self._shared(batched, (id(batched), frozenset(keys)), read)

    async def _shared(self, reader: object, key: tuple[Any, ...], read: Read) -> Rows:
        """One read for every execution of the event, as the event's shielded loaders read
        (resolvers/loaders.py): an execution whose subscriber leaves mid-read (its task
        cancelled) does not cancel the read the others await. Sent by the driver on a pooled
        connection taken for it alone (db/engine.py RequestReads), where the database is
        known; else in a session of its own. A read that fails is forgotten once it has
        failed: the executions awaiting it fall back (executor.py), the next ones read anew."""
        shared = self.shared
        assert shared is not None
        entry = shared.get(key)
        if entry is None or entry[0] is not reader:
            if self.database is None:
                running = read(self.context.session_factory)
            else:
                running = _read_alone(self.database, read)
            task = asyncio.ensure_future(running)
            task.add_done_callback(functools.partial(_forget_failed, shared, key))
            entry = shared[key] = (reader, task)
        return await asyncio.shield(entry[1])

    async def bound(self, batched: Batched, values: Mapping[str, Any]) -> Rows:
        return await read_bound(self.context.session_factory, batched, values)

    def read(self, rows: int) -> None:
        """Counts a level's rows, before its objects are built: once the rows read pass the
        budget, so does the answer, and nothing more is read or built."""
        self.rows_read += rows
        if self.rows_read > self.budget:
            raise OverBudget(self.rows_read, exact=False)

    def produced(self, objects: int) -> None:
        """Counts objects as the reference executor does (schema/production.py): each object
        value of the response, list items included, one row's object under each of its
        places. Checked once every root field has been read (`check_budget`)."""
        self.objects += objects

    def check_budget(self) -> None:
        if self.objects > self.budget:
            raise OverBudget(self.objects, exact=True)


async def _read_alone(database: Database, read: Read) -> Rows:
    reads = database.request_reads()
    try:
        return await read(reads)
    finally:
        await reads.release(finished=True)


def _forget_failed(shared: SharedReads, key: tuple[Any, ...], task: "asyncio.Task[Rows]") -> None:
    """A failed (or cancelled) read is retrieved here, since every execution awaiting it may
    have left before it failed, and dropped, so that a later execution reads again."""
    if task.cancelled() or task.exception() is not None:
        entry = shared.get(key)
        if entry is not None and entry[1] is task:
            del shared[key]
