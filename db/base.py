"""Declarative base: one naming convention and timezone-aware UTC datetimes on every backend."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Enum, MetaData, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, returns aware datetimes: SQLite keeps no zone, so we attach UTC on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        value = value.astimezone(UTC)
        # SQLite compares datetimes as text: store them naive and uniform so ordering holds.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_column(enum: type[StrEnum]) -> Enum:
    """A portable enum column: VARCHAR with a CHECK, never a native PostgreSQL ENUM type,
    so adding a value is a plain migration."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=True,
        length=32,
        name=enum.__name__.lower(),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime()}


def is_unique_violation(error: IntegrityError, constraint: str, columns: str) -> bool:
    """Whether the database refused a row because of the unique `constraint` (PostgreSQL
    names it; SQLite names the `columns`, as "table.column")."""
    cause = getattr(error.orig, "__cause__", None)
    name = getattr(cause, "constraint_name", None)
    if name is not None:
        return bool(name == constraint)
    return f"UNIQUE constraint failed: {columns}" in str(error.orig)
