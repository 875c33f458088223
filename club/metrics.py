"""Prometheus metrics for one server process, served at /metrics (prometheus_client).

Each application has its own registry (no process-global state: tests run many apps), so
the collectors prometheus_client puts in its global registry are added to it explicitly:
the process's CPU, memory and file descriptors (process_*), the Python version
(python_info) and the garbage collector (python_gc_*). With several uvicorn workers each
process would answer for itself only; run one worker per replica (as docker-compose.yml
does) and let Prometheus scrape every replica.
"""

from dataclasses import dataclass, field

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

# Operation names come from clients: beyond this many distinct ones, the rest are counted
# as OTHER, so that a client inventing names cannot grow the series without bound.
MAX_OPERATION_NAMES = 200
MAX_NAME_LENGTH = 100
OTHER = "__other__"
ANONYMOUS = "__anonymous__"
REFUSED = "__refused__"
TOO_LONG = "__too_long__"


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        registry = self.registry
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        self.requests = Counter(
            "clubjustice_graphql_operations",
            "GraphQL operations run, by operation name and type.",
            ["operation_name", "operation_type"],
            registry=registry,
        )
        self.latency = Histogram(
            "clubjustice_graphql_operation_duration_seconds",
            "Time to run a query or mutation (parse to result), by operation name and type.",
            ["operation_name", "operation_type"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.errors = Counter(
            "clubjustice_graphql_errors",
            "Errors returned to clients (top-level and HTTP refusals), by extensions.code.",
            ["code"],
            registry=registry,
        )
        self.websocket_connections = Gauge(
            "clubjustice_websocket_connections",
            "Open WebSocket connections.",
            registry=registry,
        )
        self.subscriptions = Gauge(
            "clubjustice_subscriptions",
            "Live subscriptions registered with this process's activity feed.",
            registry=registry,
        )
        self.events_delivered = Counter(
            "clubjustice_subscription_events_delivered",
            "Events handed to subscribers (one per subscriber and event).",
            registry=registry,
        )
        self.event_executions = Counter(
            "clubjustice_subscription_event_executions",
            "Subscription events executed: one per distinct document, variables and "
            "visibility among an event's subscribers (schema/fanout.py); the events "
            "delivered beyond these shared an answer.",
            registry=registry,
        )
        self.round_deliveries = Counter(
            "clubjustice_subscription_round_deliveries",
            "Events delivered by a round: sent the answer another subscriber of the event "
            "computed, without waking the subscriber (db/notifier.py); counted among the "
            "events delivered.",
            registry=registry,
        )
        self.refusals = Counter(
            "clubjustice_mutation_refusals",
            "Mutations refused by the club's rules, by mutation and error code "
            "(e.g. inviteOrganization, INVITATION_QUOTA_EXCEEDED).",
            ["mutation", "code"],
            registry=registry,
        )
        self.response_cache = Counter(
            "clubjustice_response_cache",
            "Queries answered from the response cache (hit), run and stored (miss), or run "
            "without it (bypass: mutations, introspection, clock-dependent fields).",
            ["result"],
            registry=registry,
        )
        self.read_paths = Counter(
            "clubjustice_query_executions",
            "Queries executed (not answered from the response cache), by the path that "
            "answered: compiled (a plan, docs/architecture.md) or reference (strawberry's "
            "executor).",
            ["path"],
            registry=registry,
        )
        self.event_paths = Counter(
            "clubjustice_subscription_event_answers",
            "Subscription events executed, by the path that answered: compiled (a plan, "
            "docs/architecture.md) or reference (strawberry's executor).",
            ["path"],
            registry=registry,
        )
        self.rate_limit_fallbacks = Counter(
            "clubjustice_rate_limit_fallbacks",
            "Requests whose rate limit this process's own buckets decided because Redis "
            "(CLUBJUSTICE_REDIS_URL) did not answer.",
            registry=registry,
        )
        self.list_sizes_age = Gauge(
            "clubjustice_list_sizes_age_seconds",
            "Seconds since the list sizes the cost estimate assumes were observed in the data "
            "(-1: none; it assumes the declared sizes).",
            registry=registry,
        )
        self._names: set[str] = set()

    def operation_name(self, name: str | None, *, refused: bool = False) -> str:
        """The label for an operation name. Names are the client's: a refused operation
        could name itself anything, so refused ones share one label, as do overlong ones."""
        if refused:
            return REFUSED
        if not name:
            return ANONYMOUS
        if len(name) > MAX_NAME_LENGTH:
            return TOO_LONG
        if name in self._names:
            return name
        if len(self._names) >= MAX_OPERATION_NAMES:
            return OTHER
        self._names.add(name)
        return name

    def exposition(self) -> tuple[bytes, str]:
        """The registry in Prometheus's text format, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
