"""The benchmark suite: S1 to S5 on SQLite and PostgreSQL, against the floor, in one run.

    scripts/bench            (= .venv/bin/python -m bench.suite; needs wrk: apt install wrk)

1. Loads the data set (bench/dataset.py) into a fresh SQLite file and a fresh PostgreSQL
   database (CLUBJUSTICE_BENCH_DATABASE_URL, default
   postgresql://postgres@127.0.0.1:5432/clubjustice_bench_suite; dropped and recreated).
2. Starts four servers pinned to CPU 0 (taskset): for each database, one with the
   response cache and one without. Both serve the floor routes (bench/floor.py).
3. Runs wrk pinned to CPU 1, interleaved: each round runs every scenario on every
   database for every variant (GraphQL uncached, GraphQL cached, floor), so drift in the
   machine spreads over all of them alike.
4. Reads each server's CPU time (/proc/PID/stat) around every wrk run, and writes the
   medians over the rounds to bench/results/suite-DATE.json, a Markdown table next to it,
   and the chart docs/benchmarks.png.

With --profile, it also records the uncached S2 on PostgreSQL with py-spy and writes the
heaviest functions (self time) to bench/results/profile-DATE.txt.
"""

import argparse
import asyncio
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.dataset import Tokens, load
from schema.ids import encode_id
from tests.e2e.servers import free_port, wait_for

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
WRK = ROOT / "bench" / "wrk"
PYTHON = sys.executable
PG_URL = os.environ.get(
    "CLUBJUSTICE_BENCH_DATABASE_URL",
    "postgresql://postgres@127.0.0.1:5432/clubjustice_bench_suite",
)
SERVER_CPU, LOAD_CPU = "0", "1"

QUERIES = {
    "S1": "{ viewer { role } }",
    "S2": "query Directory { organizations(first: 50) { edges { node { name slug status kind "
    "website country { code name } } } } }",
    "S3": "query Walk { countries { name organizations(first: 20) { name attendances { role "
    "event { title host { name } } } } } }",
    "S4": "query Entities($representations: [_Any!]!) { _entities(representations: "
    "$representations) { ... on Organization { name slug country { code } } } }",
}
SCENARIOS = ["S1", "S2", "S3", "S4", "S5"]
DESCRIPTIONS = {
    "S1": "`{ viewer { role } }`",
    "S2": "directory page: 50 organizations with country",
    "S3": "countries → organizations(first: 20) → attendances → event → host",
    "S4": "`_entities` with 100 Organization representations",
    "S5": "mutation cycle: invite, then accept",
}


@dataclass
class Run:
    round: int
    scenario: str
    database: str
    variant: str
    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request: float
    non_2xx: int


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url: str, script: str, args: list[str], connections: int, duration: int) -> dict[str, Any]:
    command = [
        "taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{duration}s",
        "--latency", "--timeout", "30s", "-s", str(WRK / script), url, "--", *args,
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    done = re.search(r"(\d+) requests in ([\d.]+)(s|m)", output)
    assert done, output
    latency = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)", output, re.M))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    seconds = float(done.group(2)) * (60 if done.group(3) == "m" else 1)
    return {
        "requests": int(done.group(1)),
        "seconds": seconds,
        "requests_per_second": int(done.group(1)) / seconds,
        "p50_ms": milliseconds(latency["50"]),
        "p99_ms": milliseconds(latency["99"]),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
    }


class Server:
    def __init__(self, name: str, database_url: str, cache: bool, logs: Path) -> None:
        self.name, self.port = name, free_port()
        env = {
            **os.environ,
            "CLUBJUSTICE_DATABASE_URL": database_url,
            "CLUBJUSTICE_RESPONSE_CACHE_SIZE": "1000" if cache else "0",
            "CLUBJUSTICE_LOG_LEVEL": "WARNING",
            "CLUBJUSTICE_INVITATION_QUOTA": "1000000",
            "CLUBJUSTICE_EXECUTION_TIMEOUT": "120",
            "CLUBJUSTICE_MAX_PAGE_SIZE": "100",
            **{
                f"CLUBJUSTICE_RATE_LIMIT_{role}": "0"
                for role in ("ADMIN", "PARTNER", "ORGANIZATION")
            },
            # S3 is a deliberately large walk (about 25,000 objects): over any default budget.
            "CLUBJUSTICE_COST_BUDGET_ADMIN": "100000000",
        }
        self.log = (logs / f"{name}.log").open("w")
        self.process = subprocess.Popen(
            [
                "taskset", "-c", SERVER_CPU, PYTHON, "-m", "uvicorn",
                "bench.floor:create_bench_app", "--factory", "--port", str(self.port),
                "--no-access-log", "--log-level", "warning",
            ],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for(f"http://127.0.0.1:{self.port}/readyz", self.process, Path(self.log.name), 60)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_idle(self, timeout: float = 300) -> None:
        """Until the server has finished what the last run left in flight (its CPU time
        stops moving), so that no run measures the one before it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = cpu_seconds(self.process.pid)
            time.sleep(0.25)
            if cpu_seconds(self.process.pid) - before < 0.01:
                return

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


async def fresh_postgresql(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_async_engine(
        url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + "/postgres",
        isolation_level="AUTOCOMMIT",
    )
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()


def bodies(directory: Path, tokens: Tokens) -> dict[str, Path]:
    random.seed(7)
    representations = [
        {"__typename": "Organization", "id": encode_id("Organization", n)}
        for n in random.sample(tokens.organization_ids, 100)
    ]
    paths = {}
    for scenario, query in QUERIES.items():
        variables = {"representations": representations} if scenario == "S4" else {}
        paths[scenario] = directory / f"{scenario}.json"
        paths[scenario].write_text(json.dumps({"query": query, "variables": variables}))
    paths["guests"] = directory / "guests.txt"
    paths["guests"].write_text(
        "".join(f"{encode_id('Organization', i)} {token}\n" for i, token in tokens.guests)
    )
    return paths


def median_rows(runs: list[Run]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str, str], list[Run]] = defaultdict(list)
    for run in runs:
        groups[(run.scenario, run.database, run.variant)].append(run)
    rows = []
    for (scenario, database, variant), group in groups.items():
        rows.append(
            {
                "scenario": scenario,
                "database": database,
                "variant": variant,
                "requests_per_second": statistics.median(r.requests_per_second for r in group),
                "p50_ms": statistics.median(r.p50_ms for r in group),
                "p99_ms": statistics.median(r.p99_ms for r in group),
                "cpu_ms_per_request": statistics.median(r.cpu_ms_per_request for r in group),
                "non_2xx": sum(r.non_2xx for r in group),
            }
        )
    floors = {(r["scenario"], r["database"]): r for r in rows if r["variant"] == "floor"}
    for row in rows:
        floor = floors.get((row["scenario"], row["database"]))
        row["ratio_to_floor"] = (
            row["requests_per_second"] / floor["requests_per_second"] if floor else None
        )
    order = {"uncached": 0, "cached": 1, "floor": 2}
    return sorted(rows, key=lambda r: (r["scenario"], r["database"], order[r["variant"]]))


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| scenario | database | variant | req/s | p50 ms | p99 ms | server CPU ms/req "
        "| ratio to floor |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        ratio = f"{row['ratio_to_floor']:.2f}" if row["ratio_to_floor"] is not None else "—"
        lines.append(
            f"| {row['scenario']} | {row['database']} | {row['variant']} | "
            f"{_rate(row['requests_per_second'])} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | "
            f"{row['cpu_ms_per_request']:.2f} | {ratio} |"
        )
    return "\n".join(lines) + "\n"


def _rate(requests_per_second: float) -> str:
    return (
        f"{requests_per_second:.2f}" if requests_per_second < 10 else f"{requests_per_second:,.0f}"
    )


def chart(rows: list[dict[str, Any]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = ["S1", "S2", "S3", "S4"]
    figure, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for axis, database in zip(axes, ["sqlite", "postgresql"], strict=True):
        for offset, variant in ((-0.2, "uncached"), (0.2, "cached")):
            ratios = [
                next(
                    (r["ratio_to_floor"] for r in rows
                     if (r["scenario"], r["database"], r["variant"]) == (s, database, variant)),
                    0,
                )
                for s in scenarios
            ]  # fmt: skip
            axis.bar([i + offset for i in range(len(scenarios))], ratios, 0.4, label=variant)
        axis.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
        axis.set_yscale("log")
        axis.set_xticks(range(len(scenarios)), scenarios)
        axis.set_title(database)
    axes[0].set_ylabel("req/s ÷ the floor's (log scale)")
    axes[1].legend()
    figure.suptitle(title + "  (dashed: the floor, raw Starlette + SQL + orjson)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def profile(server: Server, body: Path, token: str, seconds: int, out: Path) -> str:
    raw = out.with_suffix(".raw")
    recorder = subprocess.Popen(
        [str(Path(PYTHON).with_name("py-spy")), "record", "--pid", str(server.process.pid),
         "--duration", str(seconds), "--rate", "250", "--format", "raw",
         "--output", str(raw), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wrk(server.url("/graphql"), "post.lua", [str(body), token], 8, seconds)
    recorder.wait(timeout=seconds + 30)
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        total += int(count)
        self_time[_module(frames[-1])] += int(count)
        for module in {_module(frame) for frame in frames}:
            inclusive[module] += int(count)
    summary = [f"{total} samples of the uncached S2 on PostgreSQL ({seconds} s at 250 Hz)", ""]
    summary += ["self time by package:"]
    summary += [f"  {100 * n / total:5.1f}%  {name}" for name, n in self_time.most_common(12)]
    summary += ["", "inclusive time by package (a sample counts once per package on its stack):"]
    summary += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(12)]
    out.write_text("\n".join(summary) + "\n")
    raw.unlink()
    return "\n".join(summary)


OUR_PACKAGES = ("schema", "resolvers", "db", "server", "bench")


def _module(frame: str) -> str:
    """`execute_field (graphql/execution/execute.py:540)` → `graphql`; our own packages as
    `clubjustice:schema` and so on; the standard library as `stdlib:asyncio` etc."""
    match = re.search(r"\((.*?)(?::\d+)?\)$", frame)
    path = match.group(1) if match else frame
    if "site-packages/" in path:
        path = path.split("site-packages/")[1]
    elif "/work/" in path:
        path = path.split("/", 3)[-1]
    first = path.lstrip("/").split("/")[0].removesuffix(".py")
    if first in OUR_PACKAGES:
        return f"clubjustice:{first}"
    if "/lib/python3" in path:
        return "stdlib:" + path.split("/lib/python3")[1].split("/")[1].removesuffix(".py")
    return first or "?"


async def prepare(directory: Path) -> dict[str, tuple[str, Tokens]]:
    sqlite_url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    await fresh_postgresql(PG_URL)
    return {
        "sqlite": (sqlite_url, await load(sqlite_url)),
        "postgresql": (PG_URL, await load(PG_URL)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--profile-only", action="store_true", help="only the profile of S2 on PostgreSQL"
    )
    options = parser.parse_args()
    if options.profile_only:
        profile_only()
        return
    date = datetime.now(UTC).strftime("%Y%m%d")
    with tempfile.TemporaryDirectory(prefix="clubjustice-bench-") as scratch:
        directory = Path(scratch)
        started = time.monotonic()
        databases = asyncio.run(prepare(directory))
        print(f"data loaded in {time.monotonic() - started:.0f} s", file=sys.stderr)
        servers: dict[tuple[str, bool], Server] = {}
        try:
            for database, (url, _) in databases.items():
                for cache in (False, True):
                    servers[(database, cache)] = Server(
                        f"{database}-{'cached' if cache else 'uncached'}", url, cache, directory
                    )
            files = {}
            for database, (_, tokens) in databases.items():
                (directory / database).mkdir()
                files[database] = bodies(directory / database, tokens)
            for (database, _), server in servers.items():  # warm: pools, caches, imports
                token = databases[database][1].admin
                for scenario in QUERIES:
                    httpx.post(
                        server.url("/graphql"),
                        content=files[database][scenario].read_bytes(),
                        headers={
                            "authorization": f"Bearer {token}",
                            "content-type": "application/json",
                        },
                        timeout=120,
                    ).raise_for_status()
            runs: list[Run] = []
            RESULTS.mkdir(exist_ok=True)
            progress = RESULTS / f"suite-{date}.runs.jsonl"  # kept if the suite stops midway
            progress.write_text("")
            for round_ in range(options.rounds):
                for scenario in SCENARIOS:
                    for database, (_, tokens) in databases.items():
                        variants = (
                            ["uncached"] if scenario == "S5" else ["uncached", "cached", "floor"]
                        )
                        for variant in variants:
                            server = servers[(database, variant == "cached")]
                            duration = options.duration * (3 if scenario == "S3" else 1)
                            if scenario == "S5":
                                url, script = server.url("/graphql"), "cycle.lua"
                                offset = round_ * len(tokens.guests) // options.rounds
                                guests = str(files[database]["guests"])
                                args = [guests, tokens.inviter, str(offset)]
                                connections = 1
                            else:
                                # S3 answers with about 25,000 objects: one at a time
                                connections = 1 if scenario == "S3" else options.connections
                                path = (
                                    f"/floor/{scenario.lower()}"
                                    if variant == "floor"
                                    else "/graphql"
                                )
                                url, script = server.url(path), "post.lua"
                                args = [str(files[database][scenario]), tokens.admin]
                            server.wait_idle()
                            before = cpu_seconds(server.process.pid)
                            result = wrk(url, script, args, connections, duration)
                            # what the run left in flight is part of its cost
                            server.wait_idle()
                            cpu = cpu_seconds(server.process.pid) - before
                            run = Run(
                                round=round_, scenario=scenario, database=database,
                                variant=variant, **result,
                                cpu_ms_per_request=1000 * cpu / max(result["requests"], 1),
                            )  # fmt: skip
                            runs.append(run)
                            with progress.open("a") as lines:
                                lines.write(json.dumps(asdict(run)) + "\n")
                            print(
                                f"round {round_} {scenario} {database} {variant}: "
                                f"{run.requests_per_second:,.0f} req/s, p99 {run.p99_ms:.1f} ms",
                                file=sys.stderr,
                            )
            profile_text = None
            if options.profile:
                server = servers[("postgresql", False)]
                server.wait_idle()
                profile_text = profile(
                    server,
                    files["postgresql"]["S2"],
                    databases["postgresql"][1].admin,
                    10,
                    RESULTS / f"profile-{date}.txt",
                )
        finally:
            for server in servers.values():
                server.stop()
    rows = median_rows(runs)
    machine = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "cpu_model": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        ),
        "python": platform.python_version(),
        "server_cpu": SERVER_CPU,
        "load_cpu": LOAD_CPU,
        "rounds": options.rounds,
        "duration_s": options.duration,
        "connections": options.connections,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"suite-{date}.json").write_text(
        json.dumps(
            {"machine": machine, "medians": rows, "runs": [asdict(r) for r in runs]}, indent=1
        )
    )
    table = markdown(rows)
    (RESULTS / f"suite-{date}.md").write_text(table)
    chart(
        rows,
        ROOT / "docs" / "benchmarks.png",
        f"Club Justice API vs the floor, {machine['date'][:10]}",
    )
    print(table)
    if profile_text:
        print(profile_text)


def profile_only() -> None:
    date = datetime.now(UTC).strftime("%Y%m%d")
    with tempfile.TemporaryDirectory(prefix="clubjustice-bench-") as scratch:
        directory = Path(scratch)

        async def prepare_postgresql() -> Tokens:
            await fresh_postgresql(PG_URL)
            return await load(PG_URL)

        tokens = asyncio.run(prepare_postgresql())
        server = Server("postgresql-uncached", PG_URL, False, directory)
        try:
            files = bodies(directory, tokens)
            wrk(server.url("/graphql"), "post.lua", [str(files["S2"]), tokens.admin], 8, 3)
            server.wait_idle()
            print(profile(server, files["S2"], tokens.admin, 10, RESULTS / f"profile-{date}.txt"))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
