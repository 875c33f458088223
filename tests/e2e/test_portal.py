"""The example portal subgraph survives bad requests: each gets its own error answer."""

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import free_port, wait_for

pytestmark = pytest.mark.e2e
FEDERATION = Path(__file__).resolve().parents[2] / "federation"


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[str]:
    if shutil.which("node") is None or not (FEDERATION / "node_modules").exists():
        pytest.skip("Node.js or the federation tooling is not installed")
    port = free_port()
    log = (tmp_path / "portal.log").open("w")
    process = subprocess.Popen(
        ["node", "portal/server.mjs"],
        cwd=FEDERATION,
        env={"PORT": str(port), "HOST": "127.0.0.1", "PATH": "/usr/bin:/usr/local/bin:/bin"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/healthz", process, Path(log.name))
        yield url
        assert process.poll() is None, Path(log.name).read_text()
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_bad_requests_get_answers_and_the_portal_keeps_serving(portal: str) -> None:
    graphql = f"{portal}/graphql"
    headers = {"content-type": "application/json"}
    broken = httpx.post(graphql, content=b"{not json", headers=headers)
    assert (broken.status_code, broken.json()) == (
        400,
        {"errors": [{"message": "request body is not JSON"}]},
    )
    huge = httpx.post(graphql, content=b'{"query": "' + b"x" * 2_000_000 + b'"}', headers=headers)
    assert huge.status_code == 413
    answer = httpx.post(graphql, json={"query": "{ localPrograms { id } }"})
    assert answer.json() == {"data": {"localPrograms": []}}
