"""Starting `clubjustice demo` for end-to-end tests: its printed tokens, and its server."""

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.servers import CLUBJUSTICE, free_port, wait_until_ready


@dataclass
class DemoServer:
    base: str
    tokens: dict[str, str]  # "ADMIN", "member", "guest", "PARTNER" -> token
    heading: str  # the line above the tokens
    after: str  # the line below them


@contextmanager
def demo(cwd: Path, *args: str, **env: str) -> Iterator[DemoServer]:
    """`clubjustice demo` until it serves; stopped afterwards. Its log goes to a file."""
    # It says so when it turns anonymous reads on (unless told not to): one more line.
    anonymous_reads = env.get("CLUBJUSTICE_ANONYMOUS_READS", "true").lower() != "false"
    port = free_port()
    log = cwd / f"demo-{port}.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [CLUBJUSTICE, "demo", "--port", str(port), *args],
            cwd=cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(6 if anonymous_reads else 5)] + [""]
        # "  <who, in 52 columns> <token>": keyed by who's first word.
        tokens = {line.split()[0].rstrip(":"): line[55:].rstrip("\n") for line in lines[1:5]}
        wait_until_ready(base, process, log)
        yield DemoServer(base, tokens, lines[0].rstrip("\n"), lines[5].rstrip("\n"))
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()
        log.unlink()
