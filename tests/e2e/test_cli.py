"""The `clubjustice` command as a newcomer runs it: real processes, the embedded database."""

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import CLUBJUSTICE, free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def clubjustice(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLUBJUSTICE, *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The embedded default is a file in the working directory; keep it in tmp_path.
    monkeypatch.delenv("CLUBJUSTICE_DATABASE_URL", raising=False)
    return tmp_path


def test_schema_export_prints_the_committed_sdl(workdir: Path) -> None:
    result = clubjustice("schema", "export", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (ROOT / "schema.graphql").read_text()


def test_serve_refuses_an_unmigrated_database_and_names_the_fix(workdir: Path) -> None:
    result = clubjustice("serve", "--port", str(free_port()), cwd=workdir)
    assert result.returncode == 1
    assert "The database is not migrated" in result.stderr
    assert "clubjustice db upgrade" in result.stderr


def test_upgrade_then_seed_twice(workdir: Path) -> None:
    assert clubjustice("db", "upgrade", cwd=workdir).returncode == 0
    first = clubjustice("seed", cwd=workdir)
    second = clubjustice("seed", cwd=workdir)
    assert (first.returncode, second.returncode) == (0, 0)
    assert "demo data: 56 rows added" in first.stderr
    assert "demo data: 0 rows added" in second.stderr
    assert (workdir / "clubjustice.db").exists()


@dataclass
class DemoServer:
    base: str
    tokens: dict[str, str]  # "ADMIN", "member", "guest", "PARTNER" -> token


@pytest.fixture
def demo_server(workdir: Path) -> Iterator[DemoServer]:
    port = free_port()
    process = subprocess.Popen(
        [CLUBJUSTICE, "demo", "--port", str(port)],
        cwd=workdir,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(5)]
        assert lines[0].startswith("Demo tokens"), lines
        tokens = {line.split()[0].rstrip(":").split(" ")[0]: line.split()[-1] for line in lines[1:]}
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("clubjustice demo did not become ready")
            time.sleep(0.1)
        yield DemoServer(base, tokens)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()


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
    assert (
        httpx.post(f"{demo_server.base}/graphql", json={"query": "{ viewer { role } }"}).status_code
        == 401
    )
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
    assert (again.returncode, again.stderr.strip()) == (1, "Error: no unrevoked token with id 1")

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
