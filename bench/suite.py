"""The benchmark: this project against a strong floor and PostGraphile 5, in one run.

    scripts/bench [--quick] [--baseline-rev REV]       (= python -m bench.suite …)

1. Loads the data set (bench/dataset.py) into a fresh SQLite file and a fresh PostgreSQL
   database (CLUBJUSTICE_BENCH_DATABASE_URL, default …/clubjustice_bench_suite).
2. Counting phase (PostgreSQL): with `log_statement = 'all'` on the database, starts every
   PostgreSQL server, checks that each answers every scenario with JSON equal to our
   uncached server's, and counts the statements per request in the server log.
3. Timing phase: starts every server again (logging off) pinned to CPU 0, checks equal
   JSON once more, and runs wrk pinned to CPU 1, interleaved: each round runs every
   scenario on every database against every server. Around each run it reads the
   server's CPU (/proc/PID/stat), the database backends' CPU, pg_stat_database.sessions,
   and /proc/stat (steal, how busy CPU 0 was).
4. Writes bench/results/bench-DATE.json (every run, the medians, the machine), the
   Markdown tables next to it, and the chart docs/benchmarks.png.

Servers: ours (uncached, and with its response cache), ours uncached with the compiled read
path off (the reference executor, CLUBJUSTICE_COMPILED_READS=false), optionally ours at another git
revision (--baseline-rev, served from a `git worktree` with this venv), the strong floor
(bench/strong_floor.py) with and without the token lookup, and PostGraphile 5
(bench/postgraphile/, PostgreSQL only).
"""

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench import measure, report, servers
from bench.dataset import FULL, Tokens, load
from bench.scenarios import DESCRIPTIONS, OURS, bodies
from bench.servers import ROOT, Server

RESULTS = ROOT / "bench" / "results"
PG_URL = os.environ.get(
    "CLUBJUSTICE_BENCH_DATABASE_URL",
    "postgresql://postgres@127.0.0.1:5432/clubjustice_bench_suite",
)
SERVER_CPU, LOAD_CPU = "0", "1"
SCENARIOS = list(OURS)


@dataclass
class Variant:
    """One column of the results: a server, the path it answers on, and whose documents
    it is sent (ours, or PostGraphile's)."""

    name: str
    server: Server
    path: str
    documents: str = "ours"

    def url(self, scenario: str) -> str:
        return self.server.url(self.path.format(scenario=scenario.lower()))


REFERENCE = "ours, reference executor"


def start_servers(
    database: str, url: str, logs: Path, baseline: tuple[str, Path] | None, peer: bool
) -> list[Variant]:
    """Every server of one database, started (pinned to the server CPU) and ready."""
    started: list[Server] = []

    def start(server: Any, *args: Any) -> Server:
        started.append(server(*args))
        return started[-1]

    try:
        variants = [
            Variant(
                "ours",
                start(servers.ours, f"{database}-ours", url, False, logs, SERVER_CPU),
                "/graphql",
            ),
            Variant(
                "ours cached",
                start(servers.ours, f"{database}-ours-cached", url, True, logs, SERVER_CPU),
                "/graphql",
            ),
        ]
        # The reference executor (graphql-core's, every field resolved), uncached: what the
        # compiled read path answers instead, in the same run.
        reference = start(
            servers.ours,
            f"{database}-reference",
            url,
            False,
            logs,
            SERVER_CPU,
            servers.ROOT,
            {"CLUBJUSTICE_COMPILED_READS": "false"},
        )
        variants.append(Variant(REFERENCE, reference, "/graphql"))
        if baseline is not None:
            rev, source = baseline
            for cache in (False, True):
                name = f"{rev} cached" if cache else rev
                server = start(
                    servers.ours,
                    f"{database}-{name.replace(' ', '-')}",
                    url,
                    cache,
                    logs,
                    SERVER_CPU,
                    source,
                )
                variants.append(Variant(name, server, "/graphql"))
        floor = start(servers.strong_floor, f"{database}-floor", url, logs, SERVER_CPU)
        variants += [
            Variant(report.FLOOR_TOKEN, floor, "/token/{scenario}"),
            Variant("floor", floor, "/plain/{scenario}"),
        ]
        if peer and database == "postgresql":
            server = start(servers.postgraphile, "postgresql-postgraphile", url, logs, SERVER_CPU)
            variants.append(Variant(report.PEER, server, "/graphql", documents="postgraphile"))
        return variants
    except BaseException:
        for server in started:
            server.stop()
        raise


def stop_servers(variants: list[Variant]) -> None:
    for server in {id(v.server): v.server for v in variants}.values():
        server.stop()


def post(url: str, body: bytes, token: str) -> httpx.Response:
    return httpx.post(
        url,
        content=body,
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
        timeout=300,
    )


def check_equal_json(
    database: str, variants: list[Variant], files: dict[tuple[str, str], Path], token: str
) -> None:
    """Every server answers every scenario it runs with JSON equal to our uncached
    server's answer: compared exactly, after parsing (no normalization is needed: no
    document selects an id)."""
    reference = variants[0]
    for scenario in SCENARIOS:
        expected_answer = post(
            reference.url(scenario), files[(scenario, "ours")].read_bytes(), token
        )
        expected_answer.raise_for_status()
        expected = orjson.loads(expected_answer.content)
        if "errors" in expected:
            raise SystemExit(f"{database} {scenario}: our server answered errors: {expected}")
        for variant in variants[1:]:
            if (scenario, variant.documents) not in files:
                continue
            body = files[(scenario, variant.documents)].read_bytes()
            answer = post(variant.url(scenario), body, token)
            if answer.status_code != 200 or orjson.loads(answer.content) != expected:
                raise SystemExit(
                    f"{database} {scenario}: {variant.name} answered HTTP {answer.status_code} "
                    f"with JSON unequal to ours:\n{answer.text[:600]}\nours:\n"
                    f"{expected_answer.text[:600]}"
                )


def count_statements(
    monitor: measure.PostgresMonitor,
    logs: Path,
    baseline: tuple[str, Path] | None,
    peer: bool,
    files: dict[tuple[str, str], Path],
    token: str,
    requests: int,
) -> dict[tuple[str, str, str], float]:
    """Statements per request on PostgreSQL, from the server log, with every server
    started while the database has `log_statement = 'all'`."""
    log_path = monitor.log_file()
    if log_path is None:
        print("bench: cannot read PostgreSQL's log: statements are not counted", file=sys.stderr)
        return {}
    log = measure.StatementLog(log_path, monitor.database)
    counts = {}
    monitor.execute(f"ALTER DATABASE \"{monitor.database}\" SET log_statement = 'all'")
    try:
        variants = start_servers("postgresql", PG_URL, logs, baseline, peer)
        try:
            check_equal_json("postgresql", variants, files, token)
            for variant in variants:
                for scenario in SCENARIOS:
                    if (scenario, variant.documents) not in files:
                        continue
                    body = files[(scenario, variant.documents)].read_bytes()
                    post(variant.url(scenario), body, token)  # warm: caches, pools
                    variant.server.wait_idle()
                    log.mark()
                    for _ in range(requests):
                        post(variant.url(scenario), body, token).raise_for_status()
                    variant.server.wait_idle()
                    time.sleep(0.3)  # the log is written by the backends themselves
                    counts[("postgresql", scenario, variant.name)] = log.count() / requests
        finally:
            stop_servers(variants)
    finally:
        monitor.execute(f'ALTER DATABASE "{monitor.database}" RESET log_statement')
    return counts


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


def write_bodies(directory: Path, tokens: Tokens) -> dict[tuple[str, str], Path]:
    scenario_bodies = bodies(tokens.country_ids, tokens.organization_ids)
    files = {}
    directory.mkdir(parents=True, exist_ok=True)
    for documents, by_scenario in (
        ("ours", scenario_bodies.ours),
        ("postgraphile", scenario_bodies.postgraphile),
    ):
        for scenario, body in by_scenario.items():
            path = directory / f"{scenario}.{documents}.json"
            path.write_bytes(orjson.dumps(body))
            files[(scenario, documents)] = path
    return files


def baseline_worktree(rev: str, scratch: Path) -> tuple[str, Path]:
    path = scratch / "baseline"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), rev],
        check=True,
        capture_output=True,
    )
    # Both are served from one database, migrated by this revision: the baseline gets the
    # migrations it lacks, or it would refuse a database newer than its own head. They only
    # add what the baseline never reads (e.g. 0003's demo secret), so it runs as it was.
    versions = Path("db/migrations/versions")
    for migration in (ROOT / versions).glob("*.py"):
        if not (path / versions / migration.name).exists():
            shutil.copy2(migration, path / versions / migration.name)
    short = subprocess.run(
        ["git", "-C", str(path), "rev-parse", "--short", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return short, path


def version(command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except OSError:
        return "?"
    return (
        (result.stdout or result.stderr).strip().splitlines()[0]
        if (result.stdout or result.stderr)
        else "?"
    )


def machine_facts(monitor: measure.PostgresMonitor | None) -> dict[str, Any]:
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    facts = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": version([str(servers.NODE), "--version"]),
        "wrk": version(["wrk", "--version"]),
        "git_revision": version(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        "load_average_at_start": os.getloadavg(),
        "server_cpu": SERVER_CPU,
        "load_cpu": LOAD_CPU,
    }
    if monitor is not None:
        facts["postgresql"] = monitor._run("SHOW server_version")[0][0]
    return facts


def timed_run(
    variant: Variant,
    database: str,
    scenario: str,
    round_: int,
    body: Path,
    token: str,
    connections: int,
    duration: int,
    monitor: measure.PostgresMonitor | None,
) -> dict[str, Any]:
    server = variant.server
    server.wait_idle()
    sessions = monitor.sessions() if monitor else None
    backends = monitor.backend_cpu() if monitor else {}
    cpu_times = measure.CpuTimes.read(SERVER_CPU)
    before = server.cpu()
    result = measure.wrk(variant.url(scenario), body, token, connections, duration, LOAD_CPU)
    server.wait_idle()  # what the run left in flight is part of its cost
    cpu = server.cpu() - before
    noise = measure.noise(cpu_times, measure.CpuTimes.read(SERVER_CPU), cpu)
    requests = result["requests"]

    def per_request(value: float) -> float | None:
        return value / requests if requests else None

    run = {
        "round": round_,
        "database": database,
        "scenario": scenario,
        "server": variant.name,
        **result,
        "connections": connections,
        "server_cpu_us_per_request": per_request(1e6 * cpu),
        **noise,
    }
    if monitor is not None:
        backend_cpu = measure.backend_cpu_delta(backends, monitor.backend_cpu())
        run["database_cpu_us_per_request"] = per_request(1e6 * backend_cpu)
        run["new_connections_per_request"] = per_request(monitor.sessions() - (sessions or 0))
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=4, help="seconds per wrk run (S3: twice)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--count-requests", type=int, default=10, help="per counting run")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 round of 2 s runs")
    parser.add_argument("--baseline-rev", help="also run this project at another git revision")
    parser.add_argument("--no-postgraphile", action="store_true")
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument("--tag", default="", help="suffix of the result files' names")
    options = parser.parse_args()
    if options.quick:
        options.rounds, options.duration, options.count_requests = 1, 2, 3
    databases = options.databases.split(",")
    peer = not options.no_postgraphile
    if peer and not servers.NODE.exists():
        raise SystemExit("bench: run `npm ci` in bench/postgraphile first (scripts/bench does)")
    started = time.monotonic()
    tag = options.tag or ("quick" if options.quick else "")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M") + (f"-{tag}" if tag else "")
    RESULTS.mkdir(exist_ok=True)
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="clubjustice-bench-") as scratch_name:
        scratch = Path(scratch_name)
        logs = scratch / "logs"
        logs.mkdir()
        urls = {"postgresql": PG_URL, "sqlite": f"sqlite+aiosqlite:///{scratch / 'bench.db'}"}
        tokens: dict[str, Tokens] = {}
        for database in databases:
            if database == "postgresql":
                asyncio.run(fresh_postgresql(PG_URL))
            tokens[database] = asyncio.run(load(urls[database], FULL))
            print(f"bench: {database} loaded ({time.monotonic() - started:.0f} s)", file=sys.stderr)
        files = {d: write_bodies(scratch / d, tokens[d]) for d in databases}
        baseline = (
            baseline_worktree(options.baseline_rev, scratch) if options.baseline_rev else None
        )
        monitor = measure.PostgresMonitor(PG_URL) if "postgresql" in databases else None
        try:
            counts: dict[tuple[str, str, str], float] = {}
            if monitor is not None:
                counts = count_statements(
                    monitor, logs, baseline, peer, files["postgresql"],
                    tokens["postgresql"].admin, options.count_requests,
                )  # fmt: skip
                print(
                    f"bench: statements counted ({time.monotonic() - started:.0f} s)",
                    file=sys.stderr,
                )
            variants = {d: start_servers(d, urls[d], logs, baseline, peer) for d in databases}
            try:
                for database in databases:
                    check_equal_json(
                        database, variants[database], files[database], tokens[database].admin
                    )
                print("bench: every server answers with equal JSON", file=sys.stderr)
                progress = RESULTS / f"bench-{stamp}.runs.jsonl"  # kept if the run stops midway
                progress.write_text("")
                for round_ in range(options.rounds):
                    for scenario in SCENARIOS:
                        # S3 answers with about 9,000 objects: twice as long, and 2
                        # connections, so that few requests are still in flight at the end;
                        # but a cache hit of it is as short as any other, and is measured as
                        # they are (with 2 connections it waited on its token check more than
                        # it worked: docs/benchmarks.md, issue 12's third round)
                        duration = options.duration * (2 if scenario == "S3" else 1)
                        for database in databases:
                            for variant in variants[database]:
                                if (scenario, variant.documents) not in files[database]:
                                    continue
                                connections = (
                                    min(2, options.connections)
                                    if scenario == "S3" and not variant.name.endswith(" cached")
                                    else options.connections
                                )
                                run = timed_run(
                                    variant, database, scenario, round_,
                                    files[database][(scenario, variant.documents)],
                                    tokens[database].admin, connections, duration,
                                    monitor if database == "postgresql" else None,
                                )  # fmt: skip
                                runs.append(run)
                                with progress.open("a") as lines:
                                    lines.write(json.dumps(run) + "\n")
                                print(
                                    f"round {round_} {scenario} {database} {variant.name}: "
                                    f"{run['requests_per_second']:,.1f} req/s, "
                                    f"{run['server_cpu_us_per_request'] or 0:,.0f} µs CPU",
                                    file=sys.stderr,
                                )
            finally:
                for database_variants in variants.values():
                    stop_servers(database_variants)
            machine = machine_facts(monitor)
        finally:
            if monitor is not None:
                monitor.close()
            if baseline is not None:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(baseline[1])],
                    check=False,
                )
    server_names = ["ours", "ours cached"]
    if baseline is not None:
        server_names += [baseline[0], f"{baseline[0]} cached"]
    server_names += [report.FLOOR_TOKEN, "floor", report.PEER]
    rows = report.medians(runs, counts)
    steal = [r["steal_percent"] for r in runs]
    other = [r["other_load_on_server_cpu_percent"] for r in runs]
    spreads = sorted(
        r["round_spread_percent"] for r in rows if r["round_spread_percent"] is not None
    )
    machine.update(
        {
            "rounds": options.rounds,
            "duration_s": options.duration,
            "connections": options.connections,
            "baseline_rev": baseline[0] if baseline else None,
            "minutes": round((time.monotonic() - started) / 60, 1),
            "steal_percent_median": sorted(steal)[len(steal) // 2],
            "steal_percent_max": max(steal),
            "other_load_on_server_cpu_percent_median": sorted(other)[len(other) // 2],
            "other_load_on_server_cpu_percent_max": max(other),
            "round_spread_percent_median": spreads[len(spreads) // 2] if spreads else None,
            "round_spread_percent_max": spreads[-1] if spreads else None,
        }
    )
    (RESULTS / f"bench-{stamp}.json").write_text(
        json.dumps(
            {
                "machine": machine,
                "scenarios": DESCRIPTIONS,
                "medians": rows,
                "runs": runs,
            },
            indent=1,
        )
    )
    table = (
        f"Run of {machine['date']} ({machine['minutes']} min, {options.rounds} rounds, "
        f"revision {machine['git_revision']}): "
        f"steal median {machine['steal_percent_median']:.1f} % "
        f"(max {machine['steal_percent_max']:.1f} %), round spread median "
        f"{machine['round_spread_percent_median'] or 0:.0f} % "
        f"(max {machine['round_spread_percent_max'] or 0:.0f} %); other load on the server's "
        f"CPU median {machine['other_load_on_server_cpu_percent_median']:.0f} %."
        "\n\n### PostgreSQL: req/s · server CPU per request\n\n"
        + report.headline(rows, server_names, SCENARIOS)
        + "\n### Every measure\n\n"
        + report.markdown(rows, server_names, SCENARIOS)
    )
    (RESULTS / f"bench-{stamp}.md").write_text(table)
    picture = RESULTS / f"bench-{stamp}.png"
    report.chart(
        rows, server_names, SCENARIOS, picture,
        f"Club Justice API, strong floor, PostGraphile 5: req/s ({machine['date'][:10]})",
    )  # fmt: skip
    if not options.quick:
        shutil.copyfile(picture, ROOT / "docs" / "benchmarks.png")
    print(table)


if __name__ == "__main__":
    main()
