"""Appending to the activity log, inside the transaction of the change it records."""

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from club.enums import ActivityKind
from db.models import ActivityLogEntry

# Key of the transaction-level advisory lock that serializes appends on PostgreSQL, so that
# log ids become visible in commit order (see "Live updates" in the design).
APPEND_LOCK_KEY = 0x436C75624A  # "ClubJ"
NOTIFY_CHANNEL = "clubjustice_activity"


async def append_activity(
    session: AsyncSession,
    kind: ActivityKind,
    *,
    occurred_at: datetime,
    organization_id: int | None = None,
    event_id: int | None = None,
    invitation_id: int | None = None,
    working_group_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> ActivityLogEntry:
    """Add one log row to the session's transaction; it exists if and only if that commits.

    Call it last in a mutation: on PostgreSQL it takes a lock held until commit, so appends
    from concurrent transactions, and their ids, are ordered as they commit. (SQLite runs one
    writer at a time already.)"""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(APPEND_LOCK_KEY)))
    entry = ActivityLogEntry(
        kind=kind.value,
        occurred_at=occurred_at,
        organization_id=organization_id,
        event_id=event_id,
        invitation_id=invitation_id,
        working_group_id=working_group_id,
        payload=payload or {},
    )
    session.add(entry)
    await session.flush()
    if session.get_bind().dialect.name == "postgresql":
        # Delivered at commit, and only then: listeners in every process wake and read.
        await session.execute(select(func.pg_notify(NOTIFY_CHANNEL, str(entry.id))))
    return entry
