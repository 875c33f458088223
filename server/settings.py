"""Settings from CLUBJUSTICE_* environment variables, read once at start-up."""

from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLUBJUSTICE_", frozen=True)

    database_url: str = Field(
        default="sqlite+aiosqlite:///./clubjustice.db",
        description="SQLAlchemy URL; postgresql://… uses asyncpg, sqlite:///… uses aiosqlite.",
    )
    host: str = Field(default="127.0.0.1", description="Interface to listen on.")
    port: int = Field(default=8000, description="Port to listen on.")
    workers: int = Field(default=1, ge=1, description="Server processes (uvicorn workers).")
    migrate_on_start: bool = Field(
        default=False, description="Apply migrations at start-up instead of refusing to start."
    )
    default_page_size: int = Field(
        default=20, ge=1, description="Page size when `first` is omitted."
    )
    max_page_size: int = Field(
        default=100, ge=1, description="Largest `first` a connection accepts."
    )
    invitation_quota: int = Field(
        default=5, ge=0, description="Invitations a member may send per calendar year (UTC)."
    )
    invitation_ttl_days: int = Field(
        default=30, ge=1, description="Days an invitation stays valid."
    )
    graphiql: bool = Field(default=True, description="Serve GraphiQL to browsers at /graphql.")
    subscriber_queue_size: int = Field(
        default=100,
        ge=1,
        description="Events a slow subscriber may fall behind before it is ended.",
    )
    max_subscriptions_per_connection: int = Field(
        default=20, ge=1, description="Live subscriptions one WebSocket connection may hold."
    )
    connection_init_timeout: float = Field(
        default=5.0, gt=0, description="Seconds a WebSocket client has to send connection_init."
    )
    live_poll_interval: float = Field(
        default=2.0,
        gt=0,
        description="Seconds between reads of the activity log when nothing woke the reader "
        "(changes by other processes on SQLite; a safety net on PostgreSQL).",
    )
    gc_thresholds: tuple[int, int, int] = Field(
        default=(100_000, 50, 1000),
        description="Python garbage-collector thresholds for server processes (JSON list).",
    )
    log_format: Literal["text", "json"] = Field(default="text", description="Log line format.")
    log_level: str = Field(default="INFO", description="Python logging level.")
    db_echo: bool = Field(default=False, description="Log every SQL statement (debugging).")

    @model_validator(mode="after")
    def _default_page_fits(self) -> Self:
        if self.default_page_size > self.max_page_size:
            raise ValueError("default_page_size cannot exceed max_page_size")
        return self
