"""The `clubjustice` command as a newcomer runs it: real processes, the embedded database."""

import json
import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest

from tests.e2e.demo import DemoServer, demo
from tests.e2e.servers import CLUBJUSTICE, clubjustice, free_port, wait_until_ready

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The embedded default is a file in the working directory; keep it in tmp_path.
    monkeypatch.delenv("CLUBJUSTICE_DATABASE_URL", raising=False)
    return tmp_path


def test_schema_export_prints_the_committed_sdl(workdir: Path) -> None:
    result = clubjustice("schema", "export", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (ROOT / "schema.graphql").read_text()


def test_upgrade_then_seed_twice(workdir: Path) -> None:
    assert clubjustice("db", "upgrade", cwd=workdir).returncode == 0
    first = clubjustice("seed", cwd=workdir)
    second = clubjustice("seed", cwd=workdir)
    assert (first.returncode, second.returncode) == (0, 0)
    assert "demo data: 93 rows added" in first.stderr
    assert "demo data: 0 rows added" in second.stderr
    assert (workdir / "clubjustice.db").exists()


@pytest.fixture
def demo_server(workdir: Path) -> Iterator[DemoServer]:
    with demo(workdir) as server:
        yield server


GEORGIAN_ORGANIZATIONS = """
{ organizations(filter: {countryCode: "GE"}) { totalCount edges { node { name status } } } }
"""


def test_demo_serves_the_launch_data_to_its_demo_tokens(demo_server: DemoServer) -> None:
    assert set(demo_server.tokens) == {"ADMIN", "member", "guest", "PARTNER"}
    response = httpx.post(
        f"{demo_server.base}/graphql",
        json={"query": GEORGIAN_ORGANIZATIONS},
        headers={"authorization": f"Bearer {demo_server.tokens['PARTNER']}"},
    )
    assert response.json() == {
        "data": {
            "organizations": {
                "totalCount": 1,
                "edges": [
                    {"node": {"name": "Tbilisi Community Justice Initiative", "status": "GUEST"}}
                ],
            }
        }
    }
    viewers = {
        who: httpx.post(
            f"{demo_server.base}/graphql",
            json={"query": "{ viewer { role organization { slug status } } }"},
            headers={"authorization": f"Bearer {token}"},
        ).json()["data"]["viewer"]
        for who, token in demo_server.tokens.items()
    }
    assert viewers == {
        "ADMIN": {"role": "ADMIN", "organization": None},
        "member": {
            "role": "ORGANIZATION",
            "organization": {"slug": "moldova-legal-empowerment", "status": "MEMBER"},
        },
        "guest": {
            "role": "ORGANIZATION",
            "organization": {"slug": "chisinau-law-clinic", "status": "GUEST"},
        },
        "PARTNER": {"role": "PARTNER", "organization": None},
    }
    # The demo turns anonymous reads on: no token reads as ANONYMOUS; a bad one is refused.
    anonymous = httpx.post(f"{demo_server.base}/graphql", json={"query": "{ viewer { role } }"})
    assert anonymous.json() == {"data": {"viewer": {"role": "ANONYMOUS"}}}
    bad = httpx.post(
        f"{demo_server.base}/graphql",
        json={"query": "{ viewer { role } }"},
        headers={"authorization": "Bearer not-a-token"},
    )
    assert bad.status_code == 401
    assert httpx.get(f"{demo_server.base}/healthz").json() == {"status": "ok"}


def test_tokens_from_the_command_line(workdir: Path) -> None:
    assert clubjustice("db", "upgrade", cwd=workdir).returncode == 0
    assert clubjustice("seed", cwd=workdir).returncode == 0
    created = clubjustice(
        "token", "create", "--role", "ORGANIZATION", "--org", "irf", "--label", "ci", cwd=workdir
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert created.stdout == token + "\n" and token.startswith("cj_")  # the token alone

    listed = clubjustice("token", "list", cwd=workdir).stdout.splitlines()
    (only,) = listed
    token_id, role, org, label, _created, revoked_at = only.split("\t")
    assert (token_id, role, org, label, revoked_at) == ("1", "ORGANIZATION", "irf", "ci", "-")
    assert token not in "\n".join(listed)

    revoked = clubjustice("token", "revoke", "1", cwd=workdir)
    assert revoked.returncode == 0
    assert clubjustice("token", "list", cwd=workdir).stdout.split("\t")[5].strip() != "-"
    again = clubjustice("token", "revoke", "1", cwd=workdir)
    assert (again.returncode, again.stderr.splitlines()[1:]) == (
        1,
        ["Error: no unrevoked token with id 1"],
    )
    # Every command that opens the database says which one, as an absolute path.
    assert again.stderr.splitlines()[0].endswith(
        f"INFO clubjustice.cli [-]: database: SQLite file {workdir / 'clubjustice.db'}"
    )

    for args, message in [
        (["--role", "ORGANIZATION"], "--org goes with --role ORGANIZATION, and only with it"),
        (
            ["--role", "ADMIN", "--org", "irf"],
            "--org goes with --role ORGANIZATION, and only with it",
        ),
        (["--role", "ORGANIZATION", "--org", "nobody"], "no organization with slug 'nobody'"),
    ]:
        refused = clubjustice("token", "create", *args, cwd=workdir)
        assert refused.returncode != 0
        assert message in refused.stderr


def test_version(workdir: Path) -> None:
    result = clubjustice("--version", cwd=workdir)
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"clubjustice, version {version('clubjustice')}\n",
        "",
    )


COMMAND_LINES = [
    [],
    ["serve"],
    ["demo"],
    ["db"],
    ["db", "upgrade"],
    ["seed"],
    ["token"],
    ["token", "create"],
    ["token", "list"],
    ["token", "revoke"],
    ["schema"],
    ["schema", "export"],
]


def test_every_command_has_short_help_even_with_a_broken_setting(workdir: Path) -> None:
    # Help does not read the settings: it still shows when one is wrong.
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = {
            " ".join(args): pool.submit(
                clubjustice, *args, "-h", cwd=workdir, env={"CLUBJUSTICE_PORT": "eighty"}
            )
            for args in COMMAND_LINES
        }
        outcomes = {
            name: (r.returncode, r.stdout.splitlines()[0], "--debug" in r.stdout, r.stderr)
            for name, r in ((name, future.result()) for name, future in results.items())
        }
    usage = {
        "": "clubjustice [OPTIONS] COMMAND [ARGS]...",
        "token revoke": "clubjustice token revoke [OPTIONS] TOKEN_ID",
    }
    assert outcomes == {
        name: (
            0,
            "Usage: "
            + usage.get(
                name,
                f"clubjustice {name} [OPTIONS]"
                + (" COMMAND [ARGS]..." if name in ("db", "token", "schema") else ""),
            ),
            True,
            "",
        )
        for name in (" ".join(args) for args in COMMAND_LINES)
    }
    assert files_in(workdir) == []


def files_in(directory: Path) -> list[str]:
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*"))


PROCESS_AND_PYTHON_METRICS = {
    "process_virtual_memory_bytes",
    "process_resident_memory_bytes",
    "process_start_time_seconds",
    "process_cpu_seconds_total",
    "process_open_fds",
    "process_max_fds",
    "python_info",
    "python_gc_objects_collected_total",
    "python_gc_objects_uncollectable_total",
    "python_gc_collections_total",
}


def test_json_logs_from_the_first_line_comma_separated_origins_and_process_metrics(
    workdir: Path,
) -> None:
    env = {
        "CLUBJUSTICE_LOG_FORMAT": "json",
        # A list setting, comma-separated (a JSON list works too: tests/server).
        "CLUBJUSTICE_CORS_ORIGINS": "https://a.example, https://b.example",
    }
    upgrade = clubjustice("db", "upgrade", cwd=workdir, env=env)
    assert upgrade.returncode == 0
    port = free_port()
    log = workdir / "serve.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [CLUBJUSTICE, "serve", "--port", str(port), "--workers", "2"],
            cwd=workdir,
            env={**os.environ, **env},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, process, log)
        preflight = httpx.options(
            f"{base}/graphql",
            headers={"origin": "https://b.example", "access-control-request-method": "POST"},
        )
        metrics = httpx.get(f"{base}/metrics").text
        refused = httpx.post(f"{base}/graphql", json={"query": "{ viewer { role } }"})
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert (preflight.status_code, preflight.headers["access-control-allow-origin"]) == (
        200,
        "https://b.example",
    )
    assert refused.status_code == 401
    names = {line.split("{")[0].split(" ")[0] for line in metrics.splitlines() if line[:1] != "#"}
    assert {n for n in names if n.startswith(("process_", "python_"))} == PROCESS_AND_PYTHON_METRICS

    entries = [json.loads(line) for line in upgrade.stderr.splitlines()]
    assert [(e["logger"], e["message"]) for e in entries] == [
        ("clubjustice.cli", f"database: SQLite file {workdir / 'clubjustice.db'}"),
        ("clubjustice.cli", "the database is at the latest migration"),
    ]
    entries = [json.loads(line) for line in log.read_text().splitlines()]  # every line
    messages = [(e["logger"], e["message"].split(" [")[0]) for e in entries]
    assert messages[:4] == [
        ("clubjustice.cli", f"database: SQLite file {workdir / 'clubjustice.db'}"),
        (
            "clubjustice.cli",
            f"GraphQL (and GraphiQL in a browser): {base}/graphql; the club page: {base}/",
        ),
        ("uvicorn.error", f"Uvicorn running on {base} (Press CTRL+C to quit)"),
        ("uvicorn.error", "Started parent process"),
    ]
    # Both worker processes log in JSON from their first line.
    assert messages.count(("uvicorn.error", "Started server process")) == 2
    assert messages.count(("uvicorn.error", "Application startup complete.")) == 2
    (access,) = [e for e in entries if e["logger"] == "clubjustice.access"]
    assert (access["path"], access["status"]) == ("/graphql", 401)
