"""Metrics per operation: counts and latency by operation name and type, and the name and
type handed to the request's log line (server/guard.py)."""

import time
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from club.errors import RequestError
from resolvers.context import context_of, request_state
from schema.errors import INTERNAL_MESSAGE
from schema.strawberry_private import OperationType, TracingHooks


class Observe(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        execution = self.execution_context
        try:
            operation_type = execution.operation_type
        except Exception:  # no document (a syntax error), or an ambiguous one
            operation_type = None
        if operation_type is OperationType.SUBSCRIPTION:
            return  # counted when it starts (on_validate), not when it ends
        self._record(operation_type, time.perf_counter() - started)

    def on_validate(self) -> Iterator[None]:
        yield
        execution = self.execution_context
        if execution.operation_type is OperationType.SUBSCRIPTION:
            self._record(OperationType.SUBSCRIPTION, None)

    def _record(self, operation_type: OperationType | None, seconds: float | None) -> None:
        execution = self.execution_context
        context = context_of(execution)
        metrics = context.metrics
        kind = operation_type.value if operation_type else "unknown"
        name = execution.operation_name
        request = context.request
        if request is not None and request.scope["type"] == "http":
            request_state(request.scope).operation = (name, kind)  # for the request's log line
        if metrics is None:
            return
        label = metrics.operation_name(name, refused=bool(execution.pre_execution_errors))
        metrics.requests.labels(label, kind).inc()
        if seconds is not None:
            metrics.latency.labels(label, kind).observe(seconds)


class FederatedTracing(TracingHooks):
    """strawberry's ftv1 extension, with two changes. It costs nothing when the request does
    not ask for a trace: its `resolve` awaits every field (an async wrapper around each
    one: 10 ms became 25 ms for 249 countries); this one hands the field straight on. And
    errors in the trace are masked like errors in the response, or the trace would show
    what masking hides."""

    def traced_error(self, error: Exception) -> Exception:
        return error if isinstance(error, RequestError) else Exception(INTERNAL_MESSAGE)
