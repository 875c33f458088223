"""How long the graph's lists are in the data: each list field's observation (a relation's
largest fan-out, a root list's row count), all read in one statement, refreshed by a
background task of each server process, and read by the cost estimate (schema/cost.py).

A relation declared with `relation(...)` is observed through its loader (a `ListLoader`
knows the column it groups by, resolvers/loaders.py); a hand-written list field names its
observation (`field(list_size=..., observed_by=...)`, schema/fields.py).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute

from club.list_sizes import ObservedSizes
from db.engine import ReadSessions

logger = logging.getLogger("clubjustice.list_sizes")

# A refresh that takes longer is given up (and counts as failed).
REFRESH_TIMEOUT = 30.0
# After a failed refresh, the next one is tried this much sooner than the interval.
RETRY_AFTER = 10.0
# A snapshot is kept through failed refreshes until it is this many intervals old; then the
# estimate falls back to the declared sizes.
KEPT_FOR_INTERVALS = 3


@dataclass(frozen=True, slots=True, eq=False)
class Observation:
    """One list's largest size in the data: a statement returning one integer. `name` is
    unique; several fields may share one observation (compared by name)."""

    name: str
    statement: Select[Any]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Observation) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


def fan_out(
    name: str, parent: InstrumentedAttribute[Any], *where: ColumnElement[bool]
) -> Observation:
    """The most rows any one parent has: `parent` is the column pointing at it (rows without
    a parent are no parent's; no rows at all: 0)."""
    per_parent = (
        select(func.count().label("size"))
        .where(parent.is_not(None), *where)
        .group_by(parent)
        .subquery()
    )
    return Observation(name, select(func.max(per_parent.c.size)))


def row_count(name: str, model: type[Any], *where: ColumnElement[bool]) -> Observation:
    """The rows of a table: a root list that returns them all."""
    return Observation(name, select(func.count()).select_from(model).where(*where))


def observing_statement(observations: Iterable[Observation]) -> Select[Any]:
    """Every observation as one column of one row: one statement, one round trip."""
    return select(
        *(
            observation.statement.scalar_subquery().label(f"size_{position}")
            for position, observation in enumerate(observations)
        )
    )


async def observe(sessions: ReadSessions, observations: Iterable[Observation]) -> dict[str, int]:
    """Each observation's size now, in one statement."""
    ordered = sorted(set(observations), key=lambda observation: observation.name)
    if not ordered:
        return {}
    async with sessions() as session:
        row = (await session.execute(observing_statement(ordered))).one()
    return {
        observation.name: int(size or 0) for observation, size in zip(ordered, row, strict=True)
    }


class ListSizeObserver:
    """The process's latest snapshot of list sizes (`current`; None: use the declared
    sizes), and the task that refreshes it every `every` seconds (None: never in the
    background). A failed refresh keeps the last good snapshot while it is at most
    KEPT_FOR_INTERVALS intervals old, and the next one is tried after RETRY_AFTER seconds."""

    def __init__(
        self,
        sessions: ReadSessions,
        observations: Iterable[Observation],
        *,
        every: float | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.sessions = sessions
        self.observations = frozenset(observations)
        self.every = every
        self.clock = clock
        self.sleep = sleep
        self.current: ObservedSizes | None = None

    def kept_for(self) -> float:
        """Seconds a snapshot serves through failed refreshes (0: none without an interval)."""
        return KEPT_FOR_INTERVALS * self.every if self.every else 0.0

    async def refresh(self) -> ObservedSizes | None:
        """Observe every list now: the new snapshot, or None when the refresh failed (logged,
        never raised; the last snapshot is kept while it is young enough, else the estimate
        falls back to the declared sizes, the safe side, until a refresh succeeds)."""
        try:
            async with asyncio.timeout(REFRESH_TIMEOUT):
                sizes = await observe(self.sessions, self.observations)
        except Exception as error:  # the database down, a timeout
            failure = f"observing list sizes failed ({type(error).__name__}: {error})"
            if self.current is not None and self.age() <= self.kept_for():
                logger.warning(
                    "%s; the cost estimate keeps the sizes observed %.0f s ago",
                    failure,
                    self.age(),
                )
            else:
                self.current = None
                logger.warning(
                    "%s; the cost estimate uses the declared sizes until a refresh succeeds",
                    failure,
                )
            return None
        if self.current is None:
            logger.info("the cost estimate uses list sizes observed in the data")
        self.current = ObservedSizes(sizes, self.clock())
        return self.current

    async def run(self) -> None:
        """Refresh every `every` seconds (RETRY_AFTER after a failure), until cancelled."""
        assert self.every, "run() needs an interval"
        wait = self.every
        while True:
            await self.sleep(wait)
            refreshed = await self.refresh()
            wait = self.every if refreshed is not None else min(RETRY_AFTER, self.every)

    def age(self) -> float:
        """Seconds since the current snapshot was taken (-1: there is none)."""
        if self.current is None:
            return -1.0
        return (self.clock() - self.current.observed_at).total_seconds()
