"""Migrations are the only way the schema changes, and they match the models."""

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.base import Base
from db.countries import iso_countries
from db.migrate import ensure_migrated, migration_state
from db.models import Country


async def test_the_migrated_database_matches_the_models(engine: AsyncEngine) -> None:
    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_the_database_is_at_the_head_revision(engine: AsyncEngine) -> None:
    state = await migration_state(engine)
    assert state.at_head
    assert len(state.head) == 1  # one line of history, no branches to merge
    assert state.current == state.head
    await ensure_migrated(engine)  # does not raise


async def test_migrations_load_every_iso_country(session_factory: Any) -> None:
    async with session_factory() as session:
        assert (
            await session.scalar(select(func.count()).select_from(Country))
            == len(iso_countries())
            == 249
        )
        moldova = (await session.scalars(select(Country).where(Country.code == "MD"))).one()
    assert (moldova.name, moldova.region) == ("Moldova", "Europe")
