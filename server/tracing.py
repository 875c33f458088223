"""OpenTelemetry tracing (optional: `pip install 'clubjustice[otel]'`, then
CLUBJUSTICE_OPENTELEMETRY=true). Spans go to an OTLP/HTTP collector configured by the
standard variables (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, …)."""

from typing import Any


class TracingUnavailable(RuntimeError):
    pass


def tracer_provider() -> Any:
    """A tracer provider exporting to OTLP over HTTP in batches."""
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as error:
        raise TracingUnavailable(
            "CLUBJUSTICE_OPENTELEMETRY needs the extra: pip install 'clubjustice[otel]'"
        ) from error
    provider = TracerProvider(resource=Resource.create({"service.name": "clubjustice"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider
