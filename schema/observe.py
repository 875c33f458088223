"""Metrics per operation: counts and latency by operation name and type, and the name and
type handed to the request's log line (server/guard.py)."""

import time
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType


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
        context = execution.context
        metrics = getattr(context, "metrics", None)
        kind = operation_type.value if operation_type else "unknown"
        name = execution.operation_name
        request = getattr(context, "request", None)
        if request is not None and request.scope["type"] == "http":
            request.state.operation = (name, kind)  # for the request's log line
        if metrics is None:
            return
        label = metrics.operation_name(name)
        metrics.requests.labels(label, kind).inc()
        if seconds is not None:
            metrics.latency.labels(label, kind).observe(seconds)
