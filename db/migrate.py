"""Apply Alembic migrations and tell whether a database is at the head revision."""

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

ALEMBIC_INI = Path(__file__).with_name("alembic.ini")


class DatabaseNotMigrated(RuntimeError):
    """The database is not at the migration head; the message names the fix."""


@dataclass(frozen=True)
class MigrationState:
    current: frozenset[str]
    head: frozenset[str]

    @property
    def at_head(self) -> bool:
        return self.current == self.head

    def describe(self) -> str:
        current = ", ".join(sorted(self.current)) or "empty"
        head = ", ".join(sorted(self.head))
        return f"database is at revision {current}, the code expects {head}"


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(ALEMBIC_INI))
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _state(connection: Connection) -> MigrationState:
    current = MigrationContext.configure(connection).get_current_heads()
    head = ScriptDirectory.from_config(alembic_config()).get_heads()
    return MigrationState(frozenset(current), frozenset(head))


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, revision)


async def migration_state(engine: AsyncEngine) -> MigrationState:
    async with engine.connect() as connection:
        return await connection.run_sync(_state)


async def ensure_migrated(engine: AsyncEngine) -> None:
    state = await migration_state(engine)
    if not state.at_head:
        raise DatabaseNotMigrated(
            f"The database is not migrated ({state.describe()}). "
            "Run `clubjustice db upgrade`, or start with `clubjustice serve --migrate`."
        )
