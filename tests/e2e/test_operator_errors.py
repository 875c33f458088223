"""Every start-up failure of every command, as an operator meets it: one line naming the
problem and the fix, status 1, no traceback (unless --debug), and no file left behind.

Real `clubjustice` processes. The commands of one case run side by side (they all fail
before they touch anything), and each case compares every command's whole outcome at once.
"""

import ctypes
import json
import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import make_url

from db.migrate import alembic_config
from tests.conftest import POSTGRES_SKIP_REASON, POSTGRES_URL
from tests.e2e.postgres import scratch_database
from tests.e2e.servers import CLUBJUSTICE, free_port

pytestmark = pytest.mark.e2e

# Every command that opens the database; {port} is a free port for each run.
DATABASE_COMMANDS = {
    "serve": ["serve", "--port", "{port}"],
    "demo": ["demo", "--port", "{port}"],
    "db upgrade": ["db", "upgrade"],
    "seed": ["seed"],
    "token create": ["token", "create", "--role", "ADMIN"],
    "token list": ["token", "list"],
    "token revoke": ["token", "revoke", "1"],
}
COMMANDS = {**DATABASE_COMMANDS, "schema export": ["schema", "export"]}
# The commands that create a database that does not exist (an SQLite file).
CREATING = {"demo", "db upgrade"}
NEEDING_A_DATABASE = DATABASE_COMMANDS.keys() - CREATING

HEAD = ", ".join(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))
NOT_MIGRATED = (
    f"Error: The database is not migrated (database is at revision empty, the code expects "
    f"{HEAD}). Run `clubjustice db upgrade`, or start with `clubjustice serve --migrate`."
)


@dataclass(frozen=True)
class Outcome:
    status: int
    stdout: str
    stderr: list[str]


def failed(line: str) -> Outcome:
    """What an operator sees of a failed start: this one line on stderr, and status 1."""
    return Outcome(1, "", [line])


def clubjustice(
    args: list[str],
    cwd: Path,
    env: dict[str, str],
    preexec_fn: Callable[[], Any] | None = None,
) -> Outcome:
    result = subprocess.run(
        [CLUBJUSTICE, *(arg.format(port=free_port()) for arg in args)],
        cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=preexec_fn,
    )
    return Outcome(result.returncode, result.stdout, result.stderr.splitlines())


def run_each(
    names: set[str] | Any,
    cwd: Path,
    env: dict[str, str] | None = None,
    preexec_fn: Callable[[], Any] | None = None,
) -> dict[str, Outcome]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {
            name: pool.submit(clubjustice, COMMANDS[name], cwd, env or {}, preexec_fn)
            for name in names
        }
        return {name: future.result() for name, future in futures.items()}


def files_in(directory: Path) -> list[str]:
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*"))


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty working directory, which must stay as it was (no file left behind)."""
    monkeypatch.delenv("CLUBJUSTICE_DATABASE_URL", raising=False)
    yield tmp_path
    assert files_in(tmp_path) == [], "a failed command left files behind"


def test_an_invalid_setting_is_named_with_the_expected_form(workdir: Path) -> None:
    line = (
        "Error: CLUBJUSTICE_INVITATION_QUOTA='-1' is invalid: it should be greater than or "
        "equal to 0; expected a whole number, at least 0. Correct it, or unset it for the default"
    )
    assert run_each(COMMANDS.keys(), workdir, {"CLUBJUSTICE_INVITATION_QUOTA": "-1"}) == {
        name: failed(line) for name in COMMANDS
    }


def test_an_unknown_variable_is_refused_with_the_closest_setting(workdir: Path) -> None:
    line = (
        "Error: unknown setting CLUBJUSTICE_INVITATON_QUOTA (did you mean "
        "CLUBJUSTICE_INVITATION_QUOTA?): correct or unset it"
    )
    assert run_each(COMMANDS.keys(), workdir, {"CLUBJUSTICE_INVITATON_QUOTA": "3"}) == {
        name: failed(line) for name in COMMANDS
    }


def test_an_unknown_database_driver(workdir: Path) -> None:
    line = (
        "Error: CLUBJUSTICE_DATABASE_URL is invalid: unknown database driver 'mysql'; expected "
        "postgresql://user:password@host:5432/name or sqlite:///path/to/file.db. Correct it, or "
        "unset it for the default"
    )
    env = {"CLUBJUSTICE_DATABASE_URL": "mysql://club:secret@127.0.0.1/club"}
    assert run_each(DATABASE_COMMANDS.keys(), workdir, env) == {
        name: failed(line) for name in DATABASE_COMMANDS
    }


def test_an_unreachable_postgresql(workdir: Path) -> None:
    port = free_port()  # nothing listens there
    line = (
        f"Error: cannot reach PostgreSQL at 127.0.0.1:{port} (connection refused): start it, or "
        "correct the host and port in CLUBJUSTICE_DATABASE_URL"
    )
    env = {"CLUBJUSTICE_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/clubjustice"}
    assert run_each(DATABASE_COMMANDS.keys(), workdir, env) == {
        name: failed(line) for name in DATABASE_COMMANDS
    }


@pytest.mark.skipif(POSTGRES_URL is None, reason=POSTGRES_SKIP_REASON)
def test_a_database_missing_on_the_postgresql_server(workdir: Path) -> None:
    assert POSTGRES_URL is not None
    url = make_url(POSTGRES_URL)
    missing = f"{url.database}_missing"
    host, port, user = url.host, url.port or 5432, url.username
    line = (
        f"Error: the database '{missing}' does not exist on PostgreSQL at {host}:{port}: create "
        f"it (createdb -h {host} -p {port} -U {user} {missing}), or set CLUBJUSTICE_DATABASE_URL"
    )
    env = {"CLUBJUSTICE_DATABASE_URL": url.set(database=missing).render_as_string(False)}
    assert run_each(DATABASE_COMMANDS.keys(), workdir, env) == {
        name: failed(line) for name in DATABASE_COMMANDS
    }


@pytest.mark.skipif(POSTGRES_URL is None, reason=POSTGRES_SKIP_REASON)
def test_an_unmigrated_postgresql_database(workdir: Path) -> None:
    with scratch_database("unmigrated") as url:
        outcomes = run_each(NEEDING_A_DATABASE, workdir, {"CLUBJUSTICE_DATABASE_URL": url})
    assert outcomes == {name: failed(NOT_MIGRATED) for name in NEEDING_A_DATABASE}


def test_an_unmigrated_sqlite_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLUBJUSTICE_DATABASE_URL", raising=False)
    (tmp_path / "clubjustice.db").write_bytes(b"")  # an empty SQLite database
    assert run_each(NEEDING_A_DATABASE, tmp_path) == {
        name: failed(NOT_MIGRATED) for name in NEEDING_A_DATABASE
    }
    assert files_in(tmp_path) == ["clubjustice.db"]


def test_no_sqlite_database_where_the_command_runs(workdir: Path) -> None:
    # Commands other than `db upgrade` and `demo` never create the database: run in the
    # wrong directory, they say where they looked.
    line = (
        f"Error: no database at {workdir}/clubjustice.db (the working directory's: the path is "
        "relative): create it with `clubjustice db upgrade`, run the command where the database "
        "is, or set CLUBJUSTICE_DATABASE_URL"
    )
    assert run_each(NEEDING_A_DATABASE, workdir) == {
        name: failed(line) for name in NEEDING_A_DATABASE
    }


def test_the_directory_of_the_sqlite_database_is_missing(workdir: Path) -> None:
    path = workdir / "absent" / "club.db"
    line = (
        f"Error: the directory of the SQLite database {path} does not exist: create it, or set "
        "CLUBJUSTICE_DATABASE_URL"
    )
    env = {"CLUBJUSTICE_DATABASE_URL": f"sqlite:///{path}"}
    assert run_each(DATABASE_COMMANDS.keys(), workdir, env) == {
        name: failed(line) for name in DATABASE_COMMANDS
    }


def _without_permission_overrides() -> None:
    # Root writes anywhere: drop the capabilities that let it (CAP_DAC_OVERRIDE,
    # CAP_DAC_READ_SEARCH) from what the command will run with.
    libc = ctypes.CDLL(None, use_errno=True)
    pr_capbset_drop = 24
    for capability in (1, 2):
        if libc.prctl(pr_capbset_drop, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def test_an_unwritable_directory(workdir: Path) -> None:
    readonly = workdir / "readonly"
    readonly.mkdir()
    readonly.chmod(0o555)
    try:
        outcomes = run_each(
            CREATING,
            readonly,
            preexec_fn=_without_permission_overrides if os.geteuid() == 0 else None,
        )
        assert files_in(readonly) == []
    finally:
        readonly.chmod(0o755)
        readonly.rmdir()
    line = (
        f"Error: cannot write to {readonly}, where the SQLite database clubjustice.db lives "
        "(permission denied): make it writable for this user, or set CLUBJUSTICE_DATABASE_URL"
    )
    assert outcomes == {name: failed(line) for name in CREATING}


def test_a_database_that_fails_as_it_is_created_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLUBJUSTICE_DATABASE_URL", raising=False)
    (tmp_path / "clubjustice.db-wal").mkdir()  # where SQLite's journal must go
    path = tmp_path / "clubjustice.db"
    line = (
        f"Error: the SQLite database {path} failed (disk I/O error): check the file, the files "
        "beside it (clubjustice.db-wal, -shm) and the disk, or set CLUBJUSTICE_DATABASE_URL"
    )
    # One after the other: each creates the file, fails, and removes it.
    outcomes = {name: run_each({name}, tmp_path)[name] for name in sorted(CREATING)}
    assert outcomes == {name: failed(line) for name in CREATING}
    assert files_in(tmp_path) == ["clubjustice.db-wal"]  # what was there stays


def test_a_file_that_is_not_a_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLUBJUSTICE_DATABASE_URL", raising=False)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database, but something of value\n" * 200)
    line = (
        f"Error: {notes} is not an SQLite database: move it away, or set "
        "CLUBJUSTICE_DATABASE_URL to a database file"
    )
    env = {"CLUBJUSTICE_DATABASE_URL": f"sqlite:///{notes}"}
    assert run_each(DATABASE_COMMANDS.keys(), tmp_path, env) == {
        name: failed(line) for name in DATABASE_COMMANDS
    }
    assert files_in(tmp_path) == ["notes.txt"]
    assert notes.read_text() == "not a database, but something of value\n" * 200


def test_a_port_in_use_is_found_before_the_server_says_it_serves(workdir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = (
            f"Error: cannot listen on 127.0.0.1:{port}: the port is in use (perhaps by a running "
            "clubjustice): stop what uses it, or choose another port with --port or "
            "CLUBJUSTICE_PORT"
        )
        outcomes = {
            name: clubjustice([name, "--port", str(port)], workdir, {})
            for name in ("serve", "demo")
        }
    # The demo found it before creating its database: nothing is left (workdir checks).
    assert outcomes == {"serve": failed(line), "demo": failed(line)}


def test_json_logs_make_the_failure_a_json_line(workdir: Path) -> None:
    outcome = clubjustice(
        ["token", "list"], workdir, {"CLUBJUSTICE_LOG_FORMAT": "json", "CLUBJUSTICE_PORT": "x"}
    )
    assert (outcome.status, outcome.stdout, len(outcome.stderr)) == (1, "", 1)
    entry = json.loads(outcome.stderr[0])
    assert entry.pop("time")
    assert entry == {
        "level": "ERROR",
        "logger": "clubjustice.cli",
        "request_id": "-",
        "message": "CLUBJUSTICE_PORT='x' is invalid: it should be a valid integer; expected a "
        "whole number, at least 1 and at most 65535. Correct it, or unset it for the default",
    }


def test_debug_shows_the_traceback_then_the_same_line(workdir: Path) -> None:
    plain = clubjustice(["token", "list"], workdir, {})
    debug = clubjustice(["token", "list", "--debug"], workdir, {})
    root_debug = clubjustice(["--debug", "token", "list"], workdir, {})
    assert plain.status == debug.status == root_debug.status == 1
    (line,) = plain.stderr
    for outcome in (debug, root_debug):
        assert outcome.stderr[0] == "Traceback (most recent call last):"
        assert outcome.stderr[-2].startswith("server.startup.StartupError: no database at")
        assert outcome.stderr[-1] == line
