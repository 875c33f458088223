"""Logging set-up: human-readable lines by default, one JSON object per line on request.

Every line carries the id of the request it was logged for (`-` outside requests), the id
a client sees next to a masked error and in the `X-Request-ID` response header.
"""

import logging
import logging.config
import time
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

from club.access import Principal
from club.settings import Settings

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

access_log = logging.getLogger("clubjustice.access")


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


def log_request(
    request_id: str | None,
    method: str,
    path: str,
    status: int | None,
    began: float,
    principal: Principal | None,
    operation: tuple[str | None, str | None],
    *,
    disconnected: bool = False,
) -> None:
    """One line in the access log (`clubjustice.access`) for an HTTP request
    (server/guard.py) or a query or mutation over a WebSocket (`WS`, no status): method,
    path, status, duration, the caller's role and the operation's type and name (`-` where
    there is none). Its fields are gathered only for a line that is written: at `WARNING`,
    say, `logging` would drop the record, but building them cost about 4 µs a request."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    operation_name, operation_type = operation
    # One reading of each field, for the text line and for its JSON keys alike.
    fields: dict[str, Any] = {
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round((time.perf_counter() - began) * 1000, 2),
        "role": principal.role.value if principal is not None else None,
        "operation_type": operation_type,
        "operation_name": operation_name,
    }
    line = [value if value is not None else "-" for value in fields.values()]
    if disconnected:
        fields["client_disconnected"] = True
    access_log.info(
        "%s %s %s %.1f ms %s %s %s" + (" (client disconnected)" if disconnected else ""),
        *line,
        extra={"request_id": request_id, **fields},
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


def logging_config(settings: Settings) -> dict[str, Any]:
    """The logging set-up as a `logging.config.dictConfig` dictionary. uvicorn applies it in
    every process it starts (its worker processes inherit nothing), before its own first
    line, so that every line of every process has the chosen format."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter} if settings.log_format == "json" else {"format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"configured": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "filters": ["request_id"],
                "formatter": "configured",
            }
        },
        "root": {"handlers": ["stderr"], "level": settings.log_level},
        "loggers": {
            # Alembic narrates every revision check at INFO; keep its warnings only.
            "alembic": {"level": "WARNING"},
            # uvicorn's own loggers pass their lines to ours (and it sets their handlers
            # only when given its own configuration).
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
        },
    }


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def configure_logging(settings: Settings) -> None:
    logging.config.dictConfig(logging_config(settings))
    # Python's warnings, too, become log lines in the chosen format.
    logging.captureWarnings(True)


def error_line(message: str, *, json: bool, error: BaseException | None = None) -> str:
    """The one line a failed command prints (with the traceback of `error`, if given: in the
    JSON object, or before the line in text)."""
    if not json:
        trace = "".join(traceback.format_exception(error)) if error is not None else ""
        return f"{trace}Error: {message}"
    record = logging.LogRecord(
        "clubjustice.cli",
        logging.ERROR,
        __file__,
        0,
        message,
        None,
        (type(error), error, error.__traceback__) if error is not None else None,
    )
    record.request_id = "-"
    return JsonFormatter().format(record)
