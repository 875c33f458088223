"""What every part of the demo seed shares: add a row unless it is there, and count what
was added. (The launch story: db/seed.py; the incubator's part: db/incubator_seed.py.)"""

from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

M = TypeVar("M")


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str) -> None:
        self.created[kind] = self.created.get(kind, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.created.values())


async def get_or_add(
    session: AsyncSession, report: SeedReport, model: type[M], lookup: dict[str, Any], **values: Any
) -> M:
    """The row matching `lookup`, added with `values` when there is none: seeding twice adds
    nothing the second time."""
    existing = (await session.scalars(select(model).filter_by(**lookup))).first()
    if existing is not None:
        return existing
    row = model(**lookup, **values)
    session.add(row)
    await session.flush()
    report.count(model.__tablename__)  # type: ignore[attr-defined]
    return row
