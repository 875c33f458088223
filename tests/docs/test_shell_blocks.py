"""Every shell block of README.md and docs/*.md runs, as written, in bash (`set -euo
pipefail`), on SQLite, in a scratch copy of the repository (so files it writes stay out
of the checkout) whose `.venv` and `node_modules` are the real ones:

- `clubjustice` is on PATH (as in an activated virtualenv) and `.venv/bin/clubjustice`
  works; `CLUBJUSTICE_DATABASE_URL` names a migrated database with the demo data
  (`clubjustice seed`), and `$TOKEN` holds an ADMIN token of it;
- a block that mentions `127.0.0.1:8000` or `localhost:8000` gets a `clubjustice serve`
  process on that database, at a free port written in their place.

A block marked `<!-- run until ready -->` starts a server: it runs in the background with
CLUBJUSTICE_PORT (and any `:8000` in it) set to a free port until `/readyz` answers, and is
then stopped. `scripts/demo`, the README's first command, runs that way and serves the demo
tokens it prints."""

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest

from db.demo import demo_tokens
from db.engine import create_engine, create_session_factory, create_write_session_factory
from db.migrate import upgrade
from tests.docs.blocks import HOW_TO, ROOT, Block, blocks_of, blocks_run_by, expected_output
from tests.docs.demo import run, seed_with_tokens
from tests.e2e.servers import free_port, servers, wait_until_ready

# One worker runs the module: its module-scoped fixture starts a server (or tool) once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("shell_blocks")]

SHELL_BLOCKS = blocks_run_by("shell")
SERVER_BLOCKS = blocks_run_by("shell server")
BLOCK_TIMEOUT = 60
DEMO_SERVER = re.compile(r"(127\.0\.0\.1|localhost):8000")
NODE = re.compile(r"\b(node|npm|npx)\b")
# Left out of the scratch copy; the first two are linked to the real ones instead.
LINKED = {".venv", "node_modules"}
SKIPPED = {".git", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"}


def scratch_copy(destination: Path) -> Path:
    def ignore(directory: str, names: list[str]) -> set[str]:
        # The other workers' coverage data files (`.coverage.<host>.pid…`) come and go while
        # the copy is made: copying one that was just combined away failed a CI run.
        return {
            name
            for name in names
            if name in LINKED | SKIPPED or name.endswith(".db") or name.startswith(".coverage")
        }

    shutil.copytree(ROOT, destination, ignore=ignore, symlinks=True)
    for linked in [ROOT / ".venv", *ROOT.glob("*/node_modules")]:
        if linked.exists():
            (destination / linked.relative_to(ROOT)).symlink_to(linked, target_is_directory=True)
    return destination


@dataclass(frozen=True)
class DemoDatabase:
    """A migrated SQLite file with the demo data, copied for each block (cheaper than
    migrating and seeding each time), and an ADMIN token of it."""

    path: Path
    admin_token: str

    def copy_to(self, destination: Path) -> None:
        for suffix in ("", "-wal", "-shm"):
            source = self.path.with_name(self.path.name + suffix)
            if source.exists():
                shutil.copyfile(source, destination.with_name(destination.name + suffix))


@pytest.fixture(scope="module")
async def demo_database(tmp_path_factory: pytest.TempPathFactory) -> DemoDatabase:
    path = tmp_path_factory.mktemp("demo-database") / "clubjustice.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(engine)
        token = (await seed_with_tokens(create_session_factory(engine))).ADMIN
        # The demo's own secret, as `clubjustice demo` would have made: blocks that start the
        # demo on this database find one it made.
        await demo_tokens(create_write_session_factory(engine))
    finally:
        await engine.dispose()
    return DemoDatabase(path, token)


@dataclass(frozen=True)
class Scratch:
    path: Path
    database_url: str
    env: dict[str, str]


def scratch_with_demo_data(tmp_path: Path, database: DemoDatabase) -> Scratch:
    path = scratch_copy(tmp_path / "repository")
    database.copy_to(path / "clubjustice.db")
    url = f"sqlite+aiosqlite:///{path / 'clubjustice.db'}"
    env = {
        **os.environ,
        "PATH": f"{path / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "CLUBJUSTICE_DATABASE_URL": url,
        "TOKEN": database.admin_token,
    }
    return Scratch(path, url, env)


def skip_or_refuse(script: str) -> None:
    """Skips a block whose tools are missing; refuses to run `scripts/…` on a stale .venv
    (their bootstrap would reinstall the project from the scratch copy into it)."""
    if NODE.search(script):
        if shutil.which("node") is None:
            pytest.skip("Node.js is not installed")
        for package in ROOT.glob("*/package.json"):
            uninstalled = not (package.parent / "node_modules").is_dir()
            if uninstalled and f"{package.parent.name}/" in script:
                pytest.skip(f"{package.parent.name}/node_modules missing (scripts/bootstrap)")
    if "scripts/" in script:
        stamp = subprocess.run(
            ["bash", "-c", "cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        installed = (ROOT / ".venv" / ".installed").read_text().strip()
        assert installed == stamp, "run scripts/bootstrap first: .venv is older than pyproject.toml"


def failed(block: Block, returncode: int | None, stdout: str, stderr: str) -> str:
    return (
        f"{block} failed (exit {returncode}) when run as the docs' convention says.\n"
        f"--- stdout\n{stdout}--- stderr\n{stderr}---\n"
        f"Fix the commands, or mark the block `<!-- not run: REASON -->`. {HOW_TO}"
    )


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=str)
async def test_a_shell_block_runs(
    block: Block, tmp_path: Path, demo_database: DemoDatabase
) -> None:
    scratch = scratch_with_demo_data(tmp_path, demo_database)
    script = block.text
    skip_or_refuse(script)
    with ExitStack() as stack:
        if DEMO_SERVER.search(script):
            [base] = stack.enter_context(servers(1, scratch.database_url, tmp_path))
            script = DEMO_SERVER.sub(base.removeprefix("http://"), script)
        ran = await run(
            ["bash", "-euo", "pipefail", "-c", script],
            env=scratch.env,
            cwd=scratch.path,
            time_limit=BLOCK_TIMEOUT,
        )
    assert ran.returncode == 0, failed(block, ran.returncode, ran.stdout, ran.stderr)
    expected = expected_output(block)
    if expected is not None:
        assert ran.stdout.rstrip("\n") == expected.rstrip("\n"), (
            f"{block} printed\n{ran.stdout}\nbut the `<!-- output -->` block after it says\n"
            f"{expected}Fix the commands or the output shown. {HOW_TO}"
        )


def test_the_docs_show_commands_that_run() -> None:
    # A parser that found none would make the test above pass vacuously.
    commands = "".join(block.text for block in SHELL_BLOCKS)
    assert "clubjustice token create --role ADMIN" in commands, commands


@contextmanager
def serving(block: Block, scratch: Scratch, log: Path) -> Iterator[str]:
    """The block in the background, with CLUBJUSTICE_PORT (and any `:8000` in it) set to a
    free port, until /readyz answers; yields its base URL, then stops it."""
    port = free_port()
    script = DEMO_SERVER.sub(f"127.0.0.1:{port}", block.text)
    skip_or_refuse(script)
    with log.open("w") as output:
        server = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=scratch.path,
            env={**scratch.env, "CLUBJUSTICE_PORT": str(port)},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: bash and the server it starts
        )
        try:
            base = f"http://127.0.0.1:{port}"
            try:
                wait_until_ready(base, server, log, timeout=BLOCK_TIMEOUT)
            except RuntimeError:
                raise AssertionError(failed(block, server.poll(), log.read_text(), "")) from None
            yield base
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=10)


@pytest.mark.parametrize(
    "block",
    SERVER_BLOCKS
    or [pytest.param(None, marks=pytest.mark.skip(reason="no block is marked run until ready"))],
    ids=str,
)
async def test_a_server_block_serves(
    block: Block, tmp_path: Path, demo_database: DemoDatabase
) -> None:
    scratch = scratch_with_demo_data(tmp_path, demo_database)
    with serving(block, scratch, tmp_path / "server.log") as base:
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{base}/readyz")).status_code == 200


def the_readme_demo_command() -> Block:
    """The README's first command, `scripts/demo`, as a block of its own."""
    [two_commands] = [
        block
        for block in blocks_of(ROOT / "README.md")
        if block.text.splitlines()[0].split("#")[0].strip() == "scripts/demo"
    ]
    command = two_commands.text.splitlines()[0].split("#")[0].strip()
    assert command == "scripts/demo", two_commands
    return replace(two_commands, text=command + "\n", marker="run until ready", value="")


async def test_scripts_demo_serves_its_demo_tokens(
    tmp_path: Path, demo_database: DemoDatabase
) -> None:
    scratch = scratch_with_demo_data(tmp_path, demo_database)
    log = tmp_path / "demo.log"
    with serving(the_readme_demo_command(), scratch, log) as base:
        tokens = re.findall(r"\bcj_[A-Za-z0-9_-]{43}\b", log.read_text())
        assert len(tokens) == 4, log.read_text()
        async with httpx.AsyncClient() as client:
            for token in tokens:
                response = await client.post(
                    f"{base}/graphql",
                    json={"query": "{ countries { code } }"},
                    headers={"authorization": f"Bearer {token}"},
                )
                assert response.status_code == 200, response.text
                assert set(response.json()) == {"data"}, response.text
