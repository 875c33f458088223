"""Appending to the activity log, inside the transaction of the change it records.

A row names its subject generically: the name of a mapped class and a row id (`Subject`).
The feed loads subjects by that name (`subject_models`), so a new kind of subject needs no
new column and no change to the feed."""

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from club.enums import ActivityKind
from db.base import Base
from db.models import ActivityLogEntry

# Key of the transaction-level advisory lock that serializes appends on PostgreSQL, so that
# log ids become visible in commit order (see "Live updates" in the design).
APPEND_LOCK_KEY = 0x436C75624A  # "ClubJ"
NOTIFY_CHANNEL = "clubjustice_activity"


@dataclass(frozen=True, slots=True)
class Subject:
    """What a log row is about: a mapped class's name ('Event') and the row's id."""

    type: str
    id: int

    @classmethod
    def of(cls, model: builtins.type[Base], pk: int) -> Self:
        return cls(model.__name__, pk)


def subject_models() -> dict[str, type[Base]]:
    """Every mapped class with an `id` key, by its name: the subject types the feed loads."""
    return {
        mapper.class_.__name__: mapper.class_
        for mapper in Base.registry.mappers
        if [column.key for column in mapper.primary_key] == ["id"]
    }


async def append_activity(
    session: AsyncSession,
    kind: ActivityKind,
    *,
    occurred_at: datetime,
    subject: Subject | None = None,
    related: Mapping[str, int | None] | None = None,
    payload: Mapping[str, Any] | None = None,
) -> ActivityLogEntry:
    """Add one log row to the session's transaction; it exists if and only if that commits.

    `related` names other rows the change touched, by `<name>_id` key (the host of an
    event, the organization that joined a group); they are kept in the payload, for the
    record, and a missing one (None) is left out. Subscriptions filter on the subject's row.

    Call it last in a mutation: on PostgreSQL it takes a lock held until commit, so appends
    from concurrent transactions, and their ids, are ordered as they commit. (SQLite runs one
    writer at a time already.)"""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(APPEND_LOCK_KEY)))
    entry = ActivityLogEntry(
        kind=kind.value,
        occurred_at=occurred_at,
        subject_type=None if subject is None else subject.type,
        subject_id=None if subject is None else subject.id,
        payload={
            **{key: pk for key, pk in (related or {}).items() if pk is not None},
            **(payload or {}),
        },
    )
    session.add(entry)
    await session.flush()
    if session.get_bind().dialect.name == "postgresql":
        # Delivered at commit, and only then: listeners in every process wake and read.
        await session.execute(select(func.pg_notify(NOTIFY_CHANNEL, str(entry.id))))
    return entry
