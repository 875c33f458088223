"""The client programs in examples/, which the docs include verbatim, run against a real
`clubjustice serve` process on the demo data: the Node.js subscriber (graphql-ws on ws,
as the README shows it) follows a member joining live, resumes after a restart from the
cursor it saved, and gives up on a refused token; the Python subscriber replays from a
cursor given on its command line."""

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from tests.docs.blocks import ROOT
from tests.docs.demo import DemoTokens, guest_joins, second_guest_joins, seed_with_tokens
from tests.e2e.servers import servers

# One worker runs the module: its module-scoped fixture starts a server (or tool) once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("examples")]

EXAMPLES = ROOT / "examples"
NODE_SUBSCRIBER = "examples/follow-members.mjs"
PYTHON_SUBSCRIBER = "examples/follow_members.py"
# The programs the docs may include (`<!-- include: … -->`): each is run by a test here.
RUN_HERE = {NODE_SUBSCRIBER, PYTHON_SUBSCRIBER}
LINE_TIMEOUT = 20.0

SPONSOR = "sponsored by Moldova Legal Empowerment Network"
CHISINAU = f"Chisinau Law School Legal Clinic (Moldova) joined, {SPONSOR}"
TBILISI = f"Tbilisi Community Justice Initiative (Georgia) joined, {SPONSOR}"


@dataclass
class Demo:
    base: str
    tokens: DemoTokens
    directory: Path


@pytest.fixture(scope="module")
async def demo_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Demo]:
    """One server for this module: the refused token changes nothing."""
    tmp_path = tmp_path_factory.mktemp("examples")
    url = f"sqlite+aiosqlite:///{tmp_path / 'clubjustice.db'}"
    engine = create_engine(url)
    try:
        await upgrade(engine)
        tokens = await seed_with_tokens(create_session_factory(engine))
    finally:
        await engine.dispose()
    with servers(1, url, tmp_path, live_poll_interval="0.2") as [base]:
        yield Demo(base, tokens, tmp_path)


async def subscriptions(base: str) -> float:
    """The server's `clubjustice_subscriptions` gauge, from /metrics."""
    async with httpx.AsyncClient() as client:
        metrics = (await client.get(f"{base}/metrics")).text
    [value] = [
        line.split()[1]
        for line in metrics.splitlines()
        if line.startswith("clubjustice_subscriptions ")
    ]
    return float(value)


async def until_subscribed(
    base: str, count: int, example: asyncio.subprocess.Process | None = None
) -> None:
    """Until the server holds `count` subscriptions; fails with the example's output if not."""
    deadline = asyncio.get_running_loop().time() + LINE_TIMEOUT
    while await subscriptions(base) != count:
        if asyncio.get_running_loop().time() > deadline:
            output = ""
            if example is not None:
                await stop(example)
                assert example.stderr is not None
                output = (await example.stderr.read()).decode()
            raise AssertionError(f"{count} subscriptions expected; the example said:\n{output}")
        await asyncio.sleep(0.05)


async def start(*command: str, env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def next_line(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), LINE_TIMEOUT)
    except TimeoutError:
        await stop(process)
        raise
    if not line:
        assert process.stderr is not None
        raise AssertionError(f"the example ended: {(await process.stderr.read()).decode()}")
    return line.decode().rstrip("\n")


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
    await process.wait()


@pytest.fixture
def node_example() -> None:
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
    if int(version.lstrip("v").split(".")[0]) < 20:
        pytest.skip(f"the README names Node.js 20 or newer; this is {version.strip()}")
    if not (EXAMPLES / "node_modules" / "graphql-ws").is_dir():
        pytest.skip("the examples' packages are not installed (scripts/bootstrap runs npm ci)")


async def test_the_node_subscriber_follows_and_resumes(
    demo_server: Demo, node_example: None
) -> None:
    cursor_file = demo_server.directory / "member-joined.cursor"
    env = {
        "CLUBJUSTICE_WS_URL": demo_server.base.replace("http://", "ws://") + "/graphql",
        "CLUBJUSTICE_TOKEN": demo_server.tokens.PARTNER,
    }
    # The README's way to run it: from the repository's root, the cursor in the cwd.
    command = ("node", str(ROOT / NODE_SUBSCRIBER))
    follower = await start(*command, env=env, cwd=demo_server.directory)
    try:
        await until_subscribed(demo_server.base, 1, follower)
        await guest_joins(demo_server.base, demo_server.tokens)
        assert await next_line(follower) == CHISINAU
    finally:
        await stop(follower)
    saved = cursor_file.read_text()
    await until_subscribed(demo_server.base, 0)

    # Offline, another organization joins; back online, only that one is new.
    await second_guest_joins(demo_server.base, demo_server.tokens)
    follower = await start(*command, env=env, cwd=demo_server.directory)
    try:
        assert await next_line(follower) == TBILISI
    finally:
        await stop(follower)
    assert cursor_file.read_text() != saved

    # The Python subscriber, from the first cursor: it replays the same event.
    python = await start(
        sys.executable,
        str(ROOT / PYTHON_SUBSCRIBER),
        saved,
        env=env,
        cwd=ROOT,
    )
    try:
        assert json.loads(await next_line(python)) == {"type": "connection_ack"}
        event = json.loads(await next_line(python))
    finally:
        await stop(python)
    assert event["type"] == "next" and set(event["payload"]) == {"data"}, event
    joined = event["payload"]["data"]["memberJoined"]
    assert joined["organization"] == {"name": "Tbilisi Community Justice Initiative"}
    assert joined["cursor"] == cursor_file.read_text()


async def test_the_node_subscriber_gives_up_on_a_refused_token(
    demo_server: Demo, node_example: None
) -> None:
    env = {
        "CLUBJUSTICE_WS_URL": demo_server.base.replace("http://", "ws://") + "/graphql",
        "CLUBJUSTICE_TOKEN": "cj_not-a-token",
    }
    follower = await start("node", str(ROOT / NODE_SUBSCRIBER), env=env, cwd=demo_server.directory)
    assert process_output(await asyncio.wait_for(follower.communicate(), LINE_TIMEOUT)) == (
        "",
        "The server refused the token (4403).\n",
    )
    assert follower.returncode == 1


def process_output(output: tuple[bytes, bytes]) -> tuple[str, str]:
    return output[0].decode(), output[1].decode()
