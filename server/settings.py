"""Settings from CLUBJUSTICE_* environment variables, read once at start-up."""

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from db.enums import Role

ALL_ROLES = frozenset(Role)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLUBJUSTICE_", frozen=True)

    database_url: str = Field(
        default="sqlite+aiosqlite:///./clubjustice.db",
        description="SQLAlchemy URL; postgresql://… uses asyncpg, sqlite:///… uses aiosqlite.",
    )
    database_pool_size: int = Field(
        default=10,
        ge=1,
        description="Database connections each server process keeps open: the requests it "
        "serves at once (a request holds one connection from its token check to its answer).",
    )
    database_max_overflow: int = Field(
        default=0,
        ge=0,
        description="Connections opened beyond the pool in a burst and closed after it "
        "(0: a request beyond the pool waits for a connection instead).",
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
    opentelemetry: bool = Field(
        default=False,
        description="Trace operations with OpenTelemetry (OTLP/HTTP; needs the `otel` extra).",
    )
    federated_tracing: bool = Field(
        default=True,
        description="Answer a gateway's `apollo-federation-include-trace: ftv1` with a trace.",
    )

    # Limits on what one caller may ask of the service (docs/security.md).
    max_depth: int = Field(default=10, ge=1, description="Deepest field nesting of an operation.")
    max_aliases: int = Field(default=15, ge=0, description="Aliases in an operation.")
    max_fields_per_selection: int = Field(
        default=50, ge=1, description="Fields written directly in one selection set."
    )
    max_document_length: int = Field(
        default=65_536, ge=100, description="Characters in a GraphQL document."
    )
    max_tokens: int = Field(
        default=2000, ge=1, description="Lexical tokens in a document (checked while parsing)."
    )
    max_directives: int = Field(default=50, ge=0, description="Directives in an operation.")
    max_root_fields: int = Field(default=10, ge=1, description="Root fields in an operation.")
    max_introspection_fields: int = Field(
        default=3,
        ge=0,
        description="`__schema`, `__type` and `_service` selections in an operation.",
    )
    cost_budget_admin: int = Field(default=50_000, ge=1, description="Cost budget of ADMIN.")
    cost_budget_organization: int = Field(
        default=20_000, ge=1, description="Cost budget of ORGANIZATION tokens."
    )
    cost_budget_partner: int = Field(default=5_000, ge=1, description="Cost budget of PARTNER.")
    introspection_roles: frozenset[Role] = Field(
        default=ALL_ROLES,
        description="Roles that may introspect (JSON list); others also get no field "
        "suggestions in errors.",
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Largest HTTP request body and WebSocket message, in bytes.",
    )
    max_batch_operations: int = Field(
        default=1, ge=1, description="Operations in one batched HTTP request (1: no batching)."
    )
    execution_timeout: float = Field(
        default=10.0, gt=0, description="Seconds a query or mutation may run before it is stopped."
    )
    rate_limit_admin: int = Field(
        default=1200, ge=0, description="Requests per minute per ADMIN token (0: unlimited)."
    )
    rate_limit_organization: int = Field(
        default=600, ge=0, description="Requests per minute per ORGANIZATION token (0: unlimited)."
    )
    rate_limit_partner: int = Field(
        default=120, ge=0, description="Requests per minute per PARTNER token (0: unlimited)."
    )
    rate_limit_anonymous: int = Field(
        default=30,
        ge=0,
        description="Requests per minute per client address without a valid token (0: unlimited).",
    )
    cors_origins: tuple[str, ...] = Field(
        default=(),
        description="Browser origins allowed to call the API (JSON list); none: same-origin only.",
    )
    apq_cache_size: int = Field(
        default=1000, ge=0, description="Automatic persisted queries kept per process (0: off)."
    )
    response_cache_size: int = Field(
        default=1000,
        ge=0,
        description="Query results kept per process, until the next committed change (0: off).",
    )
    trusted_documents_file: Path | None = Field(
        default=None, description="Apollo persisted-query manifest of registered operations."
    )
    trusted_documents_roles: frozenset[Role] = Field(
        default=frozenset(),
        description="Roles that may run only the registered operations (JSON list).",
    )

    def cost_budget(self, role: Role) -> int:
        return {
            Role.ADMIN: self.cost_budget_admin,
            Role.ORGANIZATION: self.cost_budget_organization,
            Role.PARTNER: self.cost_budget_partner,
        }[role]

    def rate_limit(self, role: Role | None) -> int:
        """Requests per minute for a role's tokens, or for a client without a valid token."""
        return {
            Role.ADMIN: self.rate_limit_admin,
            Role.ORGANIZATION: self.rate_limit_organization,
            Role.PARTNER: self.rate_limit_partner,
            None: self.rate_limit_anonymous,
        }[role]

    @model_validator(mode="after")
    def _default_page_fits(self) -> Self:
        if self.default_page_size > self.max_page_size:
            raise ValueError("default_page_size cannot exceed max_page_size")
        return self

    @model_validator(mode="after")
    def _trusted_documents_named(self) -> Self:
        if self.trusted_documents_roles and self.trusted_documents_file is None:
            raise ValueError("trusted_documents_roles needs trusted_documents_file")
        return self
