"""The demo data: the club's launch, seeded once however often the command runs."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from db.base import Base
from db.seed import seed

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


async def row_counts(session_factory: Any) -> dict[str, int]:
    async with session_factory() as session:
        return {
            table.name: await session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }


async def test_seeding_twice_adds_nothing_the_second_time(session_factory: Any) -> None:
    first = await seed(session_factory, now=NOW)
    counts = await row_counts(session_factory)
    second = await seed(session_factory, now=NOW)
    assert second.total == 0
    assert await row_counts(session_factory) == counts
    assert first.created == {
        "organizations": 13,
        "working_groups": 3,
        "working_group_members": 11,
        "action_items": 6,
        "events": 3,
        "attendances": 16,
        "invitations": 4,
        "incubator_programs": 1,
        "program_supporters": 1,
        "program_graduates": 2,
        "initiatives": 5,
        "initiative_countries": 7,
        "initiative_partners": 6,
        "initiative_supporters": 2,
        "initiative_stage_changes": 13,
    }
