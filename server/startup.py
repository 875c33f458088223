"""What a command checks before it starts, and the one line that explains a failed start.

Every failure an operator can cause — a setting, the database, the port, permissions —
becomes a `StartupError` whose message names the problem and the fix; the command line
prints it as one line (server/cli.py). Checks run before anything is created: a failed
command leaves no file behind.
"""

import errno
import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from club.persisted import ManifestError
from club.settings import (
    DATABASE_DRIVERS,
    Settings,
    describe_invalid_settings,
    unknown_variables,
)
from db.engine import normalize_database_url
from db.migrate import DatabaseNotMigrated
from server.tracing import TracingUnavailable

DATABASE_FIX = "or set CLUBJUSTICE_DATABASE_URL"


class StartupError(Exception):
    """A failed start an operator can fix; the message says what is wrong and what to do."""


def read_settings(environ: Mapping[str, str]) -> Settings:
    """The settings, or a StartupError naming every unknown variable or invalid value."""
    unknown = unknown_variables(environ)
    if unknown:
        raise StartupError("; ".join(unknown) + ": correct or unset it")
    try:
        return Settings()
    except ValidationError as error:
        raise StartupError(
            describe_invalid_settings(error) + ". Correct it, or unset it for the default"
        ) from error


@dataclass(frozen=True)
class DatabaseLocation:
    """Where CLUBJUSTICE_DATABASE_URL points, as an operator should read it."""

    url: URL
    sqlite_file: Path | None  # absolute; None for PostgreSQL and in-memory SQLite
    relative: bool = False  # the URL named the file relative to the working directory

    @classmethod
    def of(cls, database_url: str) -> "DatabaseLocation":
        url = make_url(normalize_database_url(database_url))
        name = url.database
        if url.get_backend_name() != "sqlite" or not name or name == ":memory:":
            return cls(url, None)
        if name.startswith("file:"):  # an SQLite URI: left to SQLite
            return cls(url, None)
        return cls(url, Path(name).resolve(), relative=not Path(name).is_absolute())

    @property
    def server(self) -> str:
        return f"{self.url.host or 'localhost'}:{self.url.port or 5432}"

    def describe(self) -> str:
        if self.sqlite_file is not None:
            return f"SQLite file {self.sqlite_file}"
        if self.url.get_backend_name() == "sqlite":
            return "SQLite in memory"
        return (
            f"{DATABASE_DRIVERS[self.url.drivername]} database {self.url.database!r} "
            f"on {self.server} as {self.url.username!r}"
        )


@contextmanager
def database_files(location: DatabaseLocation, *, create: bool) -> Iterator[None]:
    """For an SQLite file: refuse a missing one unless this command creates databases, check
    that its directory can be written (SQLite writes its journal beside the file), and remove
    what a failed creation left. Nothing to do for PostgreSQL."""
    path = location.sqlite_file
    if path is None:
        yield
        return
    directory = path.parent
    if not directory.is_dir():
        raise StartupError(
            f"the directory of the SQLite database {path} does not exist: create it, {DATABASE_FIX}"
        )
    if not path.exists() and not create:
        where = " (the working directory's: the path is relative)" if location.relative else ""
        raise StartupError(
            f"no database at {path}{where}: create it with `clubjustice db upgrade`, run the "
            f"command where the database is, {DATABASE_FIX}"
        )
    if not os.access(directory, os.W_OK | os.X_OK):
        raise StartupError(
            f"cannot write to {directory}, where the SQLite database {path.name} lives "
            f"(permission denied): make it writable for this user, {DATABASE_FIX}"
        )
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise StartupError(
            f"cannot read and write the SQLite database {path} (permission denied): make it "
            f"readable and writable for this user, {DATABASE_FIX}"
        )
    if path.exists():
        yield  # an existing database is never removed
        return
    companions = [path.with_name(path.name + end) for end in ("", "-wal", "-shm", "-journal")]
    absent = [file for file in companions if not file.exists()]
    try:
        yield
    except BaseException:
        # This command created the file (and SQLite its journal): a failed creation leaves
        # nothing behind, and removes nothing that was there. Its connections are closed.
        for file in absent:
            with suppress(OSError):  # never hide the failure itself
                file.unlink(missing_ok=True)
        raise


def check_listen_address(host: str, port: int) -> None:
    """Bind where the server will listen, and let go: a port in use, a privileged port or a
    foreign address fails here, before the command says it serves. (Another process could
    still take the port in the instant between; uvicorn then fails with its own line.)"""
    where = f"{host}:{port}"
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        raise StartupError(
            f"cannot listen on {where}: {host!r} is not a known host name or address; "
            "correct --host or CLUBJUSTICE_HOST"
        ) from None
    for family, kind, protocol, _, address in addresses:
        with socket.socket(family, kind, protocol) as probe:
            # As asyncio's create_server binds (which uvicorn uses).
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as error:
                raise StartupError(_bind_failure(where, port, error)) from error


def _bind_failure(where: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return (
            f"cannot listen on {where}: the port is in use (perhaps by a running clubjustice): "
            "stop what uses it, or choose another port with --port or CLUBJUSTICE_PORT"
        )
    if error.errno == errno.EACCES:
        return (
            f"cannot listen on {where}: permission denied (ports below 1024 need privileges): "
            "choose another port with --port or CLUBJUSTICE_PORT"
        )
    if error.errno == errno.EADDRNOTAVAIL:
        return (
            f"cannot listen on {where}: not an address of this machine; correct --host or "
            "CLUBJUSTICE_HOST"
        )
    return f"cannot listen on {where}: {error.strerror or error}"


# PostgreSQL error classes (SQLSTATE) an operator fixes, and how.
_POSTGRES_LOGIN = {"28000", "28P01"}
_POSTGRES_MISSING_DATABASE = "3D000"
_POSTGRES_PRIVILEGE = "42501"


def explain(error: BaseException, location: DatabaseLocation | None) -> str | None:
    """One line naming the problem and the fix, for a failure an operator can cause; None
    for anything else (a bug: the command line then names it without a traceback)."""
    if isinstance(error, StartupError):
        return str(error)
    if isinstance(error, DatabaseNotMigrated):
        return str(error)
    if isinstance(error, ManifestError):
        return f"{error}: correct CLUBJUSTICE_TRUSTED_DOCUMENTS_FILE"
    if isinstance(error, TracingUnavailable):
        return str(error)
    if location is None:
        return None
    if isinstance(error, DBAPIError):
        return _database_refusal(error, location)
    if isinstance(error, socket.gaierror):
        return (
            f"cannot find the database server {location.url.host!r} "
            f"({error.strerror}): correct the host in CLUBJUSTICE_DATABASE_URL"
        )
    if isinstance(error, ConnectionError | TimeoutError) or (
        isinstance(error, OSError) and "Connect call failed" in str(error)
    ):
        reason = "no answer in time" if isinstance(error, TimeoutError) else "connection refused"
        return (
            f"cannot reach PostgreSQL at {location.server} ({reason}): start it, or correct the "
            "host and port in CLUBJUSTICE_DATABASE_URL"
        )
    return None


def _database_refusal(error: DBAPIError, location: DatabaseLocation) -> str | None:
    cause = error.orig
    message = str(cause.args[0] if cause is not None and cause.args else error).splitlines()[0]
    if location.sqlite_file is not None or location.url.get_backend_name() == "sqlite":
        path = location.sqlite_file
        if "readonly database" in message:
            return (
                f"cannot write to the SQLite database {path} ({message}): make it and its "
                f"directory writable for this user, {DATABASE_FIX}"
            )
        if "file is not a database" in message:
            return (
                f"{path} is not an SQLite database: move it away, {DATABASE_FIX} to a database file"
            )
        if "database is locked" in message:
            return (
                f"the SQLite database {path} is locked by another process: wait for it or stop "
                "it, then try again"
            )
        if "unable to open database file" in message:
            return (
                f"cannot open the SQLite database {path}: check that its directory exists and "
                f"is writable for this user, {DATABASE_FIX}"
            )
        return (
            f"the SQLite database {path} failed ({message}): check the file, the files beside "
            f"it ({path.name if path else ''}-wal, -shm) and the disk, {DATABASE_FIX}"
        )
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate == _POSTGRES_MISSING_DATABASE:
        name = location.url.database
        return (
            f"the database {name!r} does not exist on PostgreSQL at {location.server}: create "
            f"it (createdb -h {location.url.host or 'localhost'} -p {location.url.port or 5432} "
            f"-U {location.url.username} {name}), {DATABASE_FIX}"
        )
    if sqlstate in _POSTGRES_LOGIN:
        return (
            f"PostgreSQL at {location.server} refused the login ({message}): correct the user "
            "or password in CLUBJUSTICE_DATABASE_URL"
        )
    if sqlstate == _POSTGRES_PRIVILEGE:
        return (
            f"PostgreSQL at {location.server} refused an operation ({message}): grant the "
            f"user {location.url.username!r} the privilege, {DATABASE_FIX} with another user"
        )
    return None
