"""The per-request context: who is asking, how to reach the database, and the loaders."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import strawberry

from club.access import Principal
from club.metrics import Metrics
from club.persisted import PersistedDocuments
from club.ratelimit import RateLimiter
from club.settings import Settings
from db.engine import ReadSessions, RequestReads, SessionFactory
from db.notifier import ActivityFeed
from resolvers.loaders import Loaders


@dataclass(slots=True)
class Context:
    settings: Settings
    principal: Principal
    # Reads: over HTTP the request's one connection (RequestReads, shared by its loaders,
    # one at a time); on a WebSocket short sessions from a factory. A mutation runs in one
    # transaction from `write_session_factory` (BEGIN IMMEDIATE on SQLite).
    session_factory: ReadSessions
    write_session_factory: SessionFactory
    # The process's activity feed: subscriptions listen to it, mutations wake it on commit.
    feed: ActivityFeed | None = None
    # graphql-transport-ws and graphql-ws put `connection_init`'s payload here.
    connection_params: dict[str, object] | None = None
    # Whether the operation spent its request budget before the schema saw it (HTTP:
    # RequireToken; a query or mutation over a WebSocket: server/app.py). A WebSocket
    # connection's own context does not: each subscription spends it in OperationLimits.
    budget_spent: bool = True
    # The id in log lines and next to masked errors.
    request_id: str | None = None
    client_address: str | None = None
    # The process's request budgets and its
    # persisted operations (trusted documents are checked for every transport).
    limiter: RateLimiter | None = None
    persisted: PersistedDocuments | None = None
    metrics: Metrics | None = None
    # The Starlette request or WebSocket (its headers ask for federated tracing, ftv1).
    request: Any = None
    # One clock reading per request: every field of a response judges time alike.
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders.for_request(self.session_factory)

    async def release_reads(self) -> None:
        """Give the request's read connection back before a mutation's transaction takes its
        own (a request never holds two, so the pool cannot deadlock), and after it commits
        (later reads start on a new session: the old one's objects predate the change)."""
        if isinstance(self.session_factory, RequestReads):
            await self.session_factory.release()


Info = strawberry.Info[Context, None]
