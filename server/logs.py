"""Logging set-up: human-readable lines by default, one JSON object per line on request.

Every line carries the id of the request it was logged for (`-` outside requests), the id
a client sees next to a masked error and in the `X-Request-ID` response header.
"""

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

import orjson

from server.settings import Settings

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get() or "-"
        return True


# Fields a request's log line carries (server/guard.py), as JSON keys of their own.
REQUEST_FIELDS = (
    "method",
    "path",
    "status",
    "duration_ms",
    "role",
    "operation_type",
    "operation_name",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        entry.update(
            {name: getattr(record, name) for name in REQUEST_FIELDS if hasattr(record, name)}
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    # Alembic narrates every revision check at INFO; keep its warnings only.
    logging.getLogger("alembic").setLevel(logging.WARNING)
