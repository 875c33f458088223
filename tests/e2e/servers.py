"""Starting real `clubjustice serve` processes for end-to-end tests, and stopping them."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

CLUBJUSTICE = str(Path(sys.executable).with_name("clubjustice"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def servers(count: int, database_url: str, cwd: Path, **settings: str) -> Iterator[list[str]]:
    """`count` server processes on one database; yields their base URLs. Their logs go to
    files in `cwd` (a pipe nobody reads could fill up and stall a server)."""
    ports = [free_port() for _ in range(count)]
    env = {
        **os.environ,
        "CLUBJUSTICE_DATABASE_URL": database_url,
        "CLUBJUSTICE_LOG_LEVEL": "WARNING",
        **{f"CLUBJUSTICE_{name.upper()}": value for name, value in settings.items()},
    }
    logs = [(cwd / f"server-{port}.log").open("w") for port in ports]
    processes = [
        subprocess.Popen(
            [CLUBJUSTICE, "serve", "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for port, log in zip(ports, logs, strict=True)
    ]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for base, process, log in zip(bases, processes, logs, strict=True):
            wait_until_ready(base, process, Path(log.name))
        yield bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
        for log in logs:
            log.close()


def wait_until_ready(
    base: str, process: subprocess.Popen[Any], log: Path, timeout: float = 30
) -> None:
    wait_for(f"{base}/readyz", process, log, timeout)


def wait_for(url: str, process: subprocess.Popen[Any], log: Path, timeout: float = 30) -> None:
    """Until `url` answers 200; fails with the process's log if it exits or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up:\n{log.read_text()}")
        time.sleep(0.1)


def clubjustice(
    *args: str, cwd: Path, timeout: float = 60, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """One `clubjustice` command run to its end, with `env` added to ours."""
    return subprocess.run(
        [CLUBJUSTICE, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
