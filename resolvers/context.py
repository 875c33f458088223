"""The per-request context: who is asking, how to reach the database, and the loaders."""

from collections.abc import Callable, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import ExecutionContext

from club.access import Principal
from club.idempotency import Claim
from club.metrics import Metrics
from club.persisted import PersistedDocuments
from club.settings import Settings
from db.engine import Database, ReadSessions, RequestReads, SessionFactory
from db.notifier import ActivityFeed
from resolvers.list_sizes import ListSizeObserver
from resolvers.loaders import Loaders


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Keyed:
    """A mutation operation sent with an Idempotency-Key (server/app.py): each of its mutation
    fields claims the key in its own transaction (resolvers/mutations.py)."""

    claim: Claim
    # The transaction a mutation field's decorator opened around its body, which the body's
    # `transaction(info)` then joins.
    transaction: AsyncSession | None = None
    # Whether one of its mutation fields committed (and recorded what it returned).
    committed: bool = False


# Per operation, not per request: the operations of a batch share one Context and run at
# once, each in its own task (and so with its own value of this).
KEYED: ContextVar[Keyed | None] = ContextVar("keyed", default=None)


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
    # The id in log lines and next to masked errors.
    request_id: str | None = None
    client_address: str | None = None
    # The process's persisted operations (trusted documents are checked for every transport).
    persisted: PersistedDocuments | None = None
    metrics: Metrics | None = None
    # The Starlette request or WebSocket (its headers ask for federated tracing, ftv1).
    request: Any = None
    # The activity log's high-water mark read with the token (HTTP, and a query or mutation
    # on a WebSocket): where this request's data stands in the log. None where none was read.
    activity_high_water: int | None = None
    # One clock reading per request: every field of a response judges time alike.
    now: datetime = field(default_factory=utc_now)
    # The clock itself, read by a mutation once it holds its locks: it may have waited for
    # them, and what it decides (an invitation's quota year, whether an event has started,
    # whether an invitation expired) holds for the moment it decides, not the request's start.
    # Tests that fix `now` fix this too (tests/conftest.py), or give a clock of their own.
    clock: Callable[[], datetime] = utc_now
    # The process's observations of list sizes in the data, which the cost estimate assumes
    # (none, or no snapshot yet: the declared sizes; resolvers/list_sizes.py).
    list_sizes: ListSizeObserver | None = None
    # What this request's compiled plan found when the server's short path ran it and left
    # the answer to the view (schema/compiled/run.py `PlanOutcome`): the plan is not run again.
    plan_outcome: Any = None
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


def as_context(value: object) -> Context:
    """`value` as the request's typed Context; a TypeError naming what it is otherwise."""
    if not isinstance(value, Context):
        raise TypeError(
            "The schema runs with the request's Context (resolvers/context.py); "
            f"got {type(value).__name__}."
        )
    return value


def context_of(execution_context: ExecutionContext) -> Context:
    """The request's Context, as a schema extension (`self.execution_context`) reaches it."""
    return as_context(execution_context.context)


# Starlette's per-request `state` (the ASGI scope's "state" dict) holds two of ours, each
# under one key: what the process shares (from the lifespan) and what one request learns.
PROCESS_KEY = "clubjustice.process"
REQUEST_KEY = "clubjustice.request"


@dataclass(frozen=True, slots=True)
class ProcessState:
    """The process's database, activity feed and observations of list sizes, handed by the
    app's lifespan to every request and WebSocket (Starlette copies the lifespan's state
    into each)."""

    database: Database
    feed: ActivityFeed
    list_sizes: ListSizeObserver

    def as_lifespan_state(self) -> dict[str, object]:
        return {PROCESS_KEY: self}


def process_state(scope: MutableMapping[str, Any]) -> ProcessState:
    """The process's state, from a request's or WebSocket's ASGI scope."""
    found = scope.get("state", {}).get(PROCESS_KEY)
    if not isinstance(found, ProcessState):
        raise LookupError("No ProcessState: the app's lifespan has not run (server/app.py).")
    return found


@dataclass(slots=True)
class RequestState:
    """What one HTTP request (or one query or mutation over a WebSocket) learns on its way
    through, for the stages after it and for its access-log line.

    Mutable on purpose: the access log (server/guard.py) holds this one object from the start
    of the request and reads, once the request is done, what later stages wrote into it (the
    principal, the operation). Each field has one writer, named beside it; frozen, every writer
    would have to store a copy back under the key and every reader look it up again."""

    # GuardTransport: the id in the request's log lines and `x-request-id`.
    request_id: str | None = None
    # RequireToken (run_over_websocket: its own): the token's principal, the activity log's
    # high-water mark read with it (the response cache's validity), and the request's one read
    # connection, which the token check took.
    principal: Principal | None = None
    activity_high_water: int | None = None
    reads: RequestReads | None = None
    # schema/observe.py, or the view (a cached answer, a timeout): name and type of the
    # operation, for the log line.
    operation: tuple[str | None, str | None] | None = None
    # The view: the answer is a stream (or one event of one), not a plain JSON body.
    streamed: bool = False
    # server/app.py `_answer_compiled`, when it leaves the answer to the view: what the
    # request's plan found (schema/compiled/run.py `PlanOutcome`), and the seconds spent,
    # which the view's execution timeout counts.
    plan_outcome: Any = None
    execution_spent: float = 0.0


def start_request_state(scope: MutableMapping[str, Any], request_id: str) -> RequestState:
    """A new state for the request (its first stage, GuardTransport, calls this)."""
    created = RequestState(request_id=request_id)
    scope.setdefault("state", {})[REQUEST_KEY] = created
    return created


def request_state(scope: MutableMapping[str, Any]) -> RequestState:
    """The request's state, from its ASGI scope (`scope["state"]`), made on first use."""
    state = scope.setdefault("state", {})
    found = state.get(REQUEST_KEY)
    if found is None:
        found = state[REQUEST_KEY] = RequestState()
    if not isinstance(found, RequestState):
        raise TypeError(f"{REQUEST_KEY} holds a {type(found).__name__}, not a RequestState.")
    return found
