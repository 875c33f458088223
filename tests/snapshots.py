"""Whole-database snapshots, to prove that a refused mutation changed nothing."""

from typing import Any

from sqlalchemy import select

from db.base import Base
from db.engine import SessionFactory


async def snapshot(session_factory: SessionFactory) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    async with session_factory() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return tables
