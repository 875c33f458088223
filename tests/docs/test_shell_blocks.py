"""Every shell block of README.md and docs/*.md runs, as written, in bash (`set -euo
pipefail`), on SQLite, in a scratch copy of the repository (so files it writes stay out
of the checkout) whose `.venv` and `node_modules` are the real ones:

- `clubjustice` is on PATH (as in an activated virtualenv) and `.venv/bin/clubjustice`
  works; `CLUBJUSTICE_DATABASE_URL` names a migrated database with the demo data
  (`clubjustice seed`), and `$TOKEN` holds an ADMIN token of it;
- a block that mentions `127.0.0.1:8000` or `localhost:8000` gets a `clubjustice serve`
  process on that database, at a free port written in their place.

And `scripts/demo`, the README's first command, starts, serves its demo tokens and stops."""

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from tests.docs.blocks import HOW_TO, ROOT, Block, blocks_run_by
from tests.docs.demo import run, seed_with_tokens
from tests.e2e.servers import free_port, servers, wait_until_ready

pytestmark = pytest.mark.e2e

SHELL_BLOCKS = blocks_run_by("shell")
BLOCK_TIMEOUT = 60
DEMO_SERVER = re.compile(r"(127\.0\.0\.1|localhost):8000")
NODE = re.compile(r"\b(node|npm|npx)\b")
# Left out of the scratch copy; the first two are linked to the real ones instead.
LINKED = {".venv", "node_modules"}
SKIPPED = {".git", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"}


def scratch_copy(destination: Path) -> Path:
    def ignore(directory: str, names: list[str]) -> set[str]:
        return {name for name in names if name in LINKED | SKIPPED or name.endswith(".db")}

    shutil.copytree(ROOT, destination, ignore=ignore, symlinks=True)
    for linked in [ROOT / ".venv", *ROOT.glob("*/node_modules")]:
        if linked.exists():
            (destination / linked.relative_to(ROOT)).symlink_to(linked, target_is_directory=True)
    return destination


async def demo_database(url: str) -> str:
    """Migrates and seeds the database; returns an ADMIN token of it."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        return (await seed_with_tokens(create_session_factory(engine))).ADMIN
    finally:
        await engine.dispose()


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=str)
async def test_a_shell_block_runs(block: Block, tmp_path: Path) -> None:
    scratch = scratch_copy(tmp_path / "repository")
    url = f"sqlite+aiosqlite:///{scratch / 'clubjustice.db'}"
    env = {
        **os.environ,
        "PATH": f"{scratch / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "CLUBJUSTICE_DATABASE_URL": url,
        "TOKEN": await demo_database(url),
    }
    script = block.text
    if NODE.search(script):
        if shutil.which("node") is None:
            pytest.skip("Node.js is not installed")
        for package in ROOT.glob("*/package.json"):
            uninstalled = not (package.parent / "node_modules").is_dir()
            if uninstalled and f"{package.parent.name}/" in script:
                pytest.skip(f"{package.parent.name}/node_modules missing (scripts/bootstrap)")
    with ExitStack() as stack:
        if DEMO_SERVER.search(script):
            [base] = stack.enter_context(servers(1, url, tmp_path))
            script = DEMO_SERVER.sub(base.removeprefix("http://"), script)
        ran = await run(
            ["bash", "-euo", "pipefail", "-c", script],
            env=env,
            cwd=scratch,
            time_limit=BLOCK_TIMEOUT,
        )
    assert ran.returncode == 0, (
        f"{block} failed (exit {ran.returncode}) when run as the docs' convention says.\n"
        f"--- stdout\n{ran.stdout}--- stderr\n{ran.stderr}---\n"
        f"Fix the commands, or mark the block `<!-- not run: REASON -->`. {HOW_TO}"
    )


def test_the_docs_show_commands_that_run() -> None:
    # A parser that found none would make the test above pass vacuously.
    commands = "".join(block.text for block in SHELL_BLOCKS)
    assert "clubjustice token create --role ADMIN" in commands, commands


@pytest.fixture
def demo_process(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`scripts/demo --port P` from the repository's root, on a database of its own."""
    port = free_port()
    log = tmp_path / "demo.log"
    env = {**os.environ, "CLUBJUSTICE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"}
    with log.open("w") as output:
        demo = subprocess.Popen(
            [str(ROOT / "scripts" / "demo"), "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_ready(base, demo, log, timeout=60)
            yield base, log
        finally:
            demo.terminate()
            demo.wait(timeout=10)


def test_scripts_demo_serves_its_demo_tokens(demo_process: tuple[str, Path]) -> None:
    base, log = demo_process
    tokens = re.findall(r"\bcj_[A-Za-z0-9_-]{43}\b", log.read_text())
    assert len(tokens) == 4, log.read_text()
    for token in tokens:
        response = httpx.post(
            f"{base}/graphql",
            json={"query": "{ countries { code } }"},
            headers={"authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200 and "errors" not in response.json(), response.text
