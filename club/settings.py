"""Settings from CLUBJUSTICE_* environment variables, read once at start-up.

List settings take comma-separated values (`a,b`) or a JSON list (`["a","b"]`). A
CLUBJUSTICE_* variable that names no setting is refused (`unknown_variables`), and a
refused value is explained in one line (`describe_invalid_settings`).
"""

import difflib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self, get_args, get_origin
from urllib.parse import unquote, urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from redis.connection import parse_url

from club.enums import Role

ALL_ROLES = frozenset(Role)
PREFIX = "CLUBJUSTICE_"
# Drivers the service runs on (db/engine.py maps postgresql:// and sqlite:// to them).
DATABASE_DRIVERS = {"postgresql+asyncpg": "PostgreSQL", "sqlite+aiosqlite": "SQLite"}
DATABASE_URL_FORM = "postgresql://user:password@host:5432/name or sqlite:///path/to/file.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# The URLs redis-py's `from_url` reads (server/shared_limits.py).
REDIS_SCHEMES = ("redis", "rediss", "unix")
REDIS_URL_FORM = "redis://[:password@]host:6379/0, rediss://… (TLS) or unix:///path/to/redis.sock"
# Settings that may hold a password: never echoed in an error.
SECRET_SETTINGS = frozenset({"database_url", "redis_url"})

# CLUBJUSTICE_* variables that are not settings of the service but belong to the project's
# other tools, so that an operator's shell may hold them: the test suite, the benchmarks,
# the federation gateway's script (federation/start-gateway.sh) and the client programs
# (examples/, tests/clients).
OTHER_VARIABLES = frozenset(
    {
        "CLUBJUSTICE_TEST_DATABASE_URL",
        "CLUBJUSTICE_TEST_REDIS_URL",
        "CLUBJUSTICE_FUZZ_EXAMPLES",
        "CLUBJUSTICE_DIFFERENTIAL_EXAMPLES",
        "CLUBJUSTICE_BENCH_DATABASE_URL",
        "CLUBJUSTICE_URL",
        "CLUBJUSTICE_SCHEMA",
        "CLUBJUSTICE_TOKEN",
        "CLUBJUSTICE_WS_URL",
    }
)


# The URLs people paste name a synchronous driver or none; the service runs the async ones.
ASYNC_DRIVERS = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
}
_URL_SCHEME = re.compile(r"^(?P<driver>[\w+]+)://")


def async_driver(url: str) -> str:
    """The async driver a database URL runs on (`postgresql://…` → `postgresql+asyncpg`)."""
    match = _URL_SCHEME.match(url)
    if match is None:
        raise ValueError("not a database URL")
    driver = match["driver"]
    return ASYNC_DRIVERS.get(driver, driver)


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
    port: int = Field(default=8000, ge=1, le=65535, description="Port to listen on.")
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
    gc_thresholds: Annotated[tuple[int, int, int], NoDecode] = Field(
        default=(100_000, 50, 1000),
        description="Python garbage-collector thresholds for server processes (a list).",
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
    cost_budget_anonymous: int = Field(
        default=2_000,
        ge=1,
        description="Cost budget of requests without a token (CLUBJUSTICE_ANONYMOUS_READS).",
    )
    list_size_refresh_seconds: float = Field(
        default=300.0,
        description="Seconds between observations of list sizes in the data, which the cost "
        "estimate assumes (0: never observe; the declared sizes; else at least 10).",
    )
    introspection_roles: Annotated[frozenset[Role], NoDecode] = Field(
        default=ALL_ROLES,
        description="Roles that may introspect (a list); others also get no field "
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
        description="Refused requests per minute per client address without a valid token "
        "(0: unlimited).",
    )
    anonymous_reads: bool = Field(
        default=False,
        description="Let requests without any token read the public graph as the ANONYMOUS "
        "role (public fields only, no mutations); off: they get UNAUTHENTICATED.",
    )
    rate_limit_anonymous_reads: int = Field(
        default=60,
        ge=0,
        description="Requests per minute per client address read as ANONYMOUS (0: unlimited).",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis through which all replicas share the rate-limit budgets; unset "
        "(or empty): each process has its own.",
    )
    rate_limit_key_prefix: str = Field(
        default="clubjustice:ratelimit",
        min_length=1,
        description="Prefix of the rate-limit keys in Redis (one per deployment that shares a "
        "Redis).",
    )
    redis_timeout: float = Field(
        default=0.25,
        gt=0,
        description="Seconds a rate-limit call to Redis may take; past it, or when Redis is "
        "unreachable, this process's own buckets decide.",
    )
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Browser origins allowed to call the API (a list); none: same-origin only.",
    )
    apq_cache_size: int = Field(
        default=1000, ge=0, description="Automatic persisted queries kept per process (0: off)."
    )
    response_cache_size: int = Field(
        default=1000,
        ge=0,
        description="Query results kept per process, until the next committed change (0: off).",
    )
    compiled_reads: bool = Field(
        default=True,
        description="Answer the queries the planner covers from a compiled plan "
        "(docs/architecture.md); false: every query through strawberry's executor.",
    )
    trusted_documents_file: Path | None = Field(
        default=None, description="Apollo persisted-query manifest of registered operations."
    )
    trusted_documents_roles: Annotated[frozenset[Role], NoDecode] = Field(
        default=frozenset(),
        description="Roles that may run only the registered operations (a list).",
    )

    def cost_budget(self, role: Role) -> int:
        return {
            Role.ADMIN: self.cost_budget_admin,
            Role.ORGANIZATION: self.cost_budget_organization,
            Role.PARTNER: self.cost_budget_partner,
            Role.ANONYMOUS: self.cost_budget_anonymous,
        }[role]

    def rate_limit(self, role: Role | None) -> int:
        """Requests per minute for a role's tokens (ANONYMOUS: per client address), or for a
        client refused for want of a valid token (None)."""
        return {
            Role.ADMIN: self.rate_limit_admin,
            Role.ORGANIZATION: self.rate_limit_organization,
            Role.PARTNER: self.rate_limit_partner,
            Role.ANONYMOUS: self.rate_limit_anonymous_reads,
            None: self.rate_limit_anonymous,
        }[role]

    @field_validator(
        "gc_thresholds",
        "introspection_roles",
        "cors_origins",
        "trusted_documents_roles",
        mode="before",
    )
    @classmethod
    def _read_list(cls, value: Any) -> Any:
        return parse_list(value) if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        driver = async_driver(value)
        if driver not in DATABASE_DRIVERS:
            raise ValueError(f"unknown database driver {driver.split('+')[0]!r}")
        return value

    @field_validator("redis_url", mode="before")
    @classmethod
    def _empty_redis_url_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("redis_url")
    @classmethod
    def _supported_redis_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme, separator, _ = value.partition("://")
        if not separator or scheme not in REDIS_SCHEMES:
            raise ValueError("not a Redis URL")
        try:  # read as redis-py reads it: the port and the query's options
            options = parse_url(value)  # type: ignore[no-untyped-call]  # redis-py 8.1: untyped
        except ValueError as error:
            raise ValueError(_redis_url_problem(str(error))) from None
        if scheme != "unix":
            # redis-py takes port 0 for its default and ignores a database that is not a
            # number: both would connect somewhere else than the operator meant.
            if urlsplit(value).port == 0:
                raise ValueError("its port should be a number from 1 to 65535")
            database = unquote(urlsplit(value).path).strip("/")
            if "db" not in options and database and not database.isdigit():
                raise ValueError("its database (the path after the host) should be a number")
        return value

    @field_validator("list_size_refresh_seconds")
    @classmethod
    def _refresh_off_or_not_too_often(cls, value: float) -> float:
        # Faster than the 10 s a failed refresh waits before it is tried again would make
        # that wait meaningless, and each refresh reads every list (tens of ms on large data).
        if value != 0 and not value >= 10:
            raise ValueError("must be 0 (off) or at least 10 seconds")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"unknown logging level {value!r}")
        return value.upper()

    @model_validator(mode="after")
    def _default_page_fits(self) -> Self:
        if self.default_page_size > self.max_page_size:
            raise ValueError(
                f"CLUBJUSTICE_DEFAULT_PAGE_SIZE ({self.default_page_size}) cannot exceed "
                f"CLUBJUSTICE_MAX_PAGE_SIZE ({self.max_page_size})"
            )
        return self

    @model_validator(mode="after")
    def _trusted_documents_named(self) -> Self:
        if self.trusted_documents_roles and self.trusted_documents_file is None:
            raise ValueError(
                "CLUBJUSTICE_TRUSTED_DOCUMENTS_ROLES needs CLUBJUSTICE_TRUSTED_DOCUMENTS_FILE"
            )
        return self


def parse_list(text: str) -> list[Any]:
    """A list setting's items: a JSON list, or comma-separated values (spaces trimmed)."""
    text = text.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"not a JSON list ({error.msg})") from None
        if not isinstance(items, list):
            raise ValueError("not a JSON list")
        return items
    return [item.strip() for item in text.split(",") if item.strip()]


def variable_name(field: str) -> str:
    return PREFIX + field.upper()


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """One sentence per CLUBJUSTICE_* variable that names no setting, with the closest known
    name when there is one (a misspelled setting would otherwise be silently ignored)."""
    known = {variable_name(name) for name in Settings.model_fields} | OTHER_VARIABLES
    problems = []
    for name in sorted(environ):
        upper = name.upper()  # settings are read case-insensitively
        if not upper.startswith(PREFIX) or upper in known:
            continue
        # Compared without the shared prefix, which would make every name look alike.
        close = difflib.get_close_matches(
            upper.removeprefix(PREFIX), [k.removeprefix(PREFIX) for k in sorted(known)], n=1
        )
        hint = f" (did you mean {PREFIX}{close[0]}?)" if close else ""
        problems.append(f"unknown setting {name}{hint}")
    return problems


def describe_invalid_settings(error: ValidationError) -> str:
    """Pydantic's report reduced to what an operator acts on: the variable, what is wrong
    with its value, and the form it expects."""
    problems = []
    for detail in error.errors(include_url=False):
        message = detail["msg"].removeprefix("Value error, ")
        if not detail["loc"]:  # a rule across settings
            problems.append(message)
            continue
        name = str(detail["loc"][0])
        field = Settings.model_fields[name]
        if detail["type"] == "missing":  # an item of a fixed-length list
            message = "it has too few items"
        message = message[0].lower() + message[1:]
        # "Input should be a valid integer, unable to parse string as an integer": the first
        # clause says it.
        message = message.split(", unable to")[0].replace("input should", "it should")
        if name in SECRET_SETTINGS:  # never echoed: it may hold a password
            subject = variable_name(name)
        elif len(detail["loc"]) > 1 and detail["type"] != "missing":
            subject = f"{variable_name(name)}: the item {_shown(detail['input'])}"
        else:
            subject = f"{variable_name(name)}={_shown(detail['input'])}"
        problems.append(f"{subject} is invalid: {message}; expected {expected_form(name, field)}")
    unique = list(dict.fromkeys(problems))  # a tuple's items may repeat the same complaint
    return "; ".join(unique)


def _redis_url_problem(error: str) -> str:
    """redis-py's complaint about a Redis URL, in this module's words (never the URL)."""
    if error.startswith("Port"):
        return "its port should be a number from 1 to 65535"
    if match := re.fullmatch(r"Invalid value for '(\w+)' in connection URL\.", error):
        return f"its option {match[1]} has an invalid value"
    return "not a Redis URL"


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def expected_form(name: str, field: FieldInfo) -> str:
    """The form a setting takes, in words, for error messages."""
    if name == "database_url":
        return DATABASE_URL_FORM
    if name == "redis_url":
        return REDIS_URL_FORM
    if name == "log_level":
        return "one of " + ", ".join(LOG_LEVELS)
    annotation = field.annotation
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in args)
    if annotation is bool:
        return "true or false"
    if origin in (tuple, frozenset):
        if args and args[0] is Role:
            items = "roles among " + ", ".join(role.value for role in Role)
        elif args and args[0] is int:
            items = f"{len(args)} whole numbers"
        else:
            items = "values"
        return f"{items}, comma-separated or as a JSON list"
    if annotation in (Path, Path | None):
        return "a file path"
    bounds = []
    for constraint in field.metadata:  # annotated-types' Ge, Gt, Le, as pydantic keeps them
        for attribute, words in (("ge", "at least"), ("gt", "above"), ("le", "at most")):
            if getattr(constraint, attribute, None) is not None:
                bounds.append(f"{words} {getattr(constraint, attribute)}")
    kind = "a whole number" if annotation is int else "a number" if annotation is float else "text"
    return ", ".join([kind, " and ".join(bounds)]) if bounds else kind
