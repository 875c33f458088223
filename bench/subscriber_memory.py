"""Where an idle subscriber's memory goes: the server in this process (uvicorn with uvloop
and the options `clubjustice serve` uses), N subscribers of
`memberJoined { cursor organization { slug } }` held by a load process of their own
(bench/fanout.py's lean client), and the server's growth per subscriber:

    .venv/bin/python bench/subscriber_memory.py -n 2000              # RSS, objects by type
    .venv/bin/python bench/subscriber_memory.py -n 300 --trace       # and tracemalloc by owner

RSS is what bench/fanout.py reports too (it agrees within 0.5 KiB at 2,000 subscribers);
`--trace` adds, per subscriber, the allocations tracemalloc sees, charged to the innermost
frame of a package or of this project, and the sites that allocated most (connecting is
much slower under it). A few subscribers connect first, so that what the first connection
loads once (caches, imports) is not counted. Prints JSON; `--json PATH` writes it too.
"""

import argparse
import asyncio
import collections
import gc
import json
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import uvicorn
import uvloop

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.fanout import Arrivals, prepare, rss_kib, subscribe_all  # noqa: E402

WARM = 50


def package(filename: str) -> str:
    if filename.startswith(str(ROOT) + "/") and "/.venv/" not in filename:
        return "project:" + filename[len(str(ROOT)) + 1 :].split("/")[0]
    if "site-packages/" in filename:
        return filename.split("site-packages/")[1].split("/")[0].removesuffix(".py")
    return "stdlib:" + Path(filename).stem


def short(frame: tracemalloc.Frame) -> str:
    name = frame.filename
    name = name.split("site-packages/")[-1] if "site-packages/" in name else name
    return f"{name.replace(str(ROOT) + '/', '')}:{frame.lineno}"


def owner(traceback: tracemalloc.Traceback) -> tuple[str, tracemalloc.Frame]:
    """The innermost frame of a package or of this project (else the innermost)."""
    for frame in reversed(traceback):
        if not package(frame.filename).startswith("stdlib:"):
            return package(frame.filename), frame
    return package(traceback[-1].filename), traceback[-1]


async def hold(url: str, tokens: list[str]) -> None:
    """The load process: subscribe with each token, say so, hold until stdin closes."""
    connections = await subscribe_all(url, tokens, Arrivals())
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.read)
    for connection in connections:
        connection.close()


async def until(condition: Any) -> None:
    async with asyncio.timeout(600):
        while True:
            if condition():
                return
            await asyncio.sleep(0.05)


async def subscribers(url: str, tokens: list[str], directory: Path) -> Any:
    path = directory / f"tokens-{len(tokens)}.json"
    path.write_text(json.dumps(tokens))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--hold",
        url,
        str(path),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert (await process.stdout.readline()).startswith(b"ready")
    return process


async def measure(n: int, trace: bool, directory: Path) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{directory}/memory.db"
    os.environ.update(CLUBJUSTICE_DATABASE_URL=url, CLUBJUSTICE_LOG_LEVEL="WARNING")
    from club.settings import Settings
    from server.app import create_served_app, uvicorn_options

    tokens = await prepare(url, 1, -(-(n + WARM) // 50))
    subscriber_tokens = [tokens["subscribers"][i // 50] for i in range(n + WARM)]
    settings = Settings()
    app = create_served_app(settings)
    config = uvicorn.Config(
        app, port=0, loop="uvloop", log_level="warning", **uvicorn_options(settings)
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    await until(lambda: server.started)
    port = server.servers[0].sockets[0].getsockname()[1]
    ws = f"ws://127.0.0.1:{port}/graphql"
    feed = app.state.feed

    async def registered(count: int) -> None:
        await until(lambda: len(feed.mailboxes) >= count)
        await asyncio.sleep(1)
        gc.collect()

    warm = await subscribers(ws, subscriber_tokens[:WARM], directory)
    await registered(WARM)
    alive = {id(o) for o in gc.get_objects()}
    if trace:
        tracemalloc.start(25)
    before = tracemalloc.take_snapshot() if trace else None
    rss = rss_kib(os.getpid())
    started = time.monotonic()
    load = await subscribers(ws, subscriber_tokens[WARM:], directory)
    await registered(WARM + n)
    result: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "subscribers": n,
        "connect_s": round(time.monotonic() - started, 1),
        "rss_kib_per_subscriber": round((rss_kib(os.getpid()) - rss) / n, 2),
    }
    new = [o for o in gc.get_objects() if id(o) not in alive and o is not alive]
    count: collections.Counter[str] = collections.Counter()
    size: collections.Counter[str] = collections.Counter()
    for o in new:
        kind = f"{type(o).__module__.split('.')[0]}.{type(o).__qualname__}"
        count[kind] += 1
        size[kind] += sys.getsizeof(o)
    result["gc_objects_per_subscriber"] = round(len(new) / n, 1)
    result["objects_by_type"] = [
        (kind, round(count[kind] / n, 2), round(total / n)) for kind, total in size.most_common(25)
    ]
    del new
    if before is not None:
        after = tracemalloc.take_snapshot()  # what this file allocated is left out below
        ignored = [
            tracemalloc.Filter(False, tracemalloc.__file__),
            tracemalloc.Filter(False, __file__),
        ]
        differences = after.filter_traces(ignored).compare_to(
            before.filter_traces(ignored), "traceback"
        )
        owners: collections.Counter[str] = collections.Counter()
        sites: collections.Counter[str] = collections.Counter()
        for difference in differences:
            name, frame = owner(difference.traceback)
            owners[name] += difference.size_diff
            sites[f"{name} {short(frame)}"] += difference.size_diff
        result["traced_bytes_per_subscriber"] = round(sum(owners.values()) / n)
        result["bytes_by_owner"] = {k: round(v / n) for k, v in owners.most_common() if v >= 8 * n}
        result["sites"] = [(site, round(total / n)) for site, total in sites.most_common(30)]
    for process in (load, warm):
        process.stdin.close()
        await process.wait()
    server.should_exit = True
    await serving
    return result


def main() -> None:
    if sys.argv[1:2] == ["--hold"]:
        uvloop.run(hold(sys.argv[2], json.loads(Path(sys.argv[3]).read_text())))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="subscribers (default 2000)")
    parser.add_argument("--trace", action="store_true", help="tracemalloc by owner and site")
    parser.add_argument("--json", help="also write the result here")
    arguments = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as directory:
        result = uvloop.run(measure(arguments.n, arguments.trace, Path(directory)))
    text = json.dumps(result, indent=1)
    print(text)
    if arguments.json:
        Path(arguments.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
