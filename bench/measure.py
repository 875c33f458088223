"""What the suite measures around each run: wrk's numbers, the machine's CPU counters
(/proc/stat, steal included), and PostgreSQL's side: its backends' CPU, new sessions, and
the statements a request sends (read from the server log during a counting phase)."""

import asyncio
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from bench.servers import cpu_seconds

WRK_SCRIPTS = Path(__file__).resolve().parent / "wrk"


def milliseconds(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if match is None:
        raise ValueError(f"not a wrk duration: {value}")
    number, unit = match.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(
    url: str, body: Path, token: str, connections: int, duration: int, cpu: str
) -> dict[str, Any]:
    """wrk pinned to `cpu`, POSTing `body` with the bearer token: requests, rate, p50, p99."""
    command = [
        "taskset", "-c", cpu, "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency",
        "--timeout", "60s", "-s", str(WRK_SCRIPTS / "post.lua"), url, "--", str(body), token,
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    done = re.search(r"(\d+) requests in ([\d.]+)(s|m)", output)
    if done is None:
        raise RuntimeError(f"wrk said:\n{output}")
    latency = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)", output, re.M))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    seconds = float(done.group(2)) * (60 if done.group(3) == "m" else 1)
    requests = int(done.group(1))
    return {
        "requests": requests,
        "seconds": seconds,
        "requests_per_second": requests / seconds,
        "p50_ms": milliseconds(latency["50"]) if "50" in latency else None,
        "p99_ms": milliseconds(latency["99"]) if "99" in latency else None,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1) if errors else None,
    }


@dataclass(frozen=True)
class CpuTimes:
    """Jiffies from /proc/stat: all CPUs, and the server's CPU."""

    total: list[int]
    server_cpu: list[int]

    @classmethod
    def read(cls, server_cpu: str) -> "CpuTimes":
        lines = {
            line.split()[0]: [int(v) for v in line.split()[1:]]
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("cpu")
        }
        return cls(lines["cpu"], lines[f"cpu{server_cpu}"])


def noise(before: CpuTimes, after: CpuTimes, server_seconds: float) -> dict[str, float]:
    """Steal over all CPUs, and the share of the server's CPU that something other than the
    server process used (other engineers' work, or database backends scheduled there), as
    percentages of the run."""

    def delta(a: list[int], b: list[int]) -> list[int]:
        return [y - x for x, y in zip(a, b, strict=False)]

    total = delta(before.total, after.total)
    server = delta(before.server_cpu, after.server_cpu)
    # user nice system idle iowait irq softirq steal (guest time is inside user)
    steal = total[7] if len(total) > 7 else 0
    elapsed = max(sum(server[:8]), 1)
    busy = elapsed - server[3] - server[4]
    server_jiffies = server_seconds * os.sysconf("SC_CLK_TCK")
    return {
        "steal_percent": 100 * steal / max(sum(total[:8]), 1),
        "other_load_on_server_cpu_percent": max(0.0, 100 * (busy - server_jiffies) / elapsed),
    }


class PostgresMonitor:
    """One long-lived connection to the benchmark database's server, reading its sessions
    counter and its backends' pids (for their CPU in /proc) around each run."""

    def __init__(self, url: str) -> None:
        self.database = url.rsplit("/", 1)[1]
        self.runner = asyncio.Runner()
        self.connection: asyncpg.Connection = self.runner.run(asyncpg.connect(url))

    def _run(self, query: str, *args: Any) -> list[asyncpg.Record]:
        return self.runner.run(self.connection.fetch(query, *args))

    def sessions(self) -> int:
        rows = self._run("SELECT sessions FROM pg_stat_database WHERE datname = $1", self.database)
        return int(rows[0][0])

    def backend_cpu(self) -> dict[int, float]:
        """CPU seconds of every backend connected to the database (ours excluded)."""
        pids = self._run(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            self.database,
        )
        times = {}
        for (pid,) in pids:
            try:
                times[pid] = cpu_seconds(pid)
            except (FileNotFoundError, ProcessLookupError):
                continue
        return times

    def execute(self, statement: str) -> None:
        self.runner.run(self.connection.execute(statement))

    def log_file(self) -> Path | None:
        """The server's log, when this user can read it: pg_current_logfile() with the
        logging collector, else Debian's /var/log/postgresql/postgresql-V-main.log."""
        (current,) = self._run("SELECT pg_current_logfile()")[0]
        (data,) = self._run("SHOW data_directory")[0]
        (version,) = self._run("SHOW server_version_num")[0]
        candidates: list[Path] = []
        if current:
            candidates.append(Path(data) / current)
        candidates += sorted(
            Path("/var/log/postgresql").glob(f"postgresql-{int(version) // 10000}-*.log"),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for path in candidates:
            if os.access(path, os.R_OK):
                return path
        return None

    def close(self) -> None:
        self.runner.run(self.connection.close())
        self.runner.close()


def backend_cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU the backends spent between two readings. A backend born in between counts in
    full; one that ended in between is lost (the server's pool would show it as new
    sessions)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


class StatementLog:
    """Counts the statements PostgreSQL logged for one database (`log_statement = 'all'`
    must be set for it) from the moment `mark()` was called. Debian's default
    `log_line_prefix` names the database (`user@database`); an empty statement (SQLAlchemy's
    pre-ping) is not logged, so round trips can exceed this count."""

    STATEMENT = re.compile(r"LOG:  (?:statement|execute [^:]*):")

    def __init__(self, path: Path, database: str) -> None:
        self.path, self.database = path, database
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.path.stat().st_size

    def count(self) -> int:
        with self.path.open("rb") as log:
            log.seek(self.offset)
            text = log.read().decode(errors="replace")
        tag = f"@{self.database} "
        return sum(1 for line in text.splitlines() if tag in line and self.STATEMENT.search(line))
