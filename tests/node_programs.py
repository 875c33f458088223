"""A Node.js program run by a test: its stdout read as JSON lines, one at a time or all at
its end, words written to its stdin; killed if the test leaves it running."""

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any


class NodeProgram:
    def __init__(
        self, process: asyncio.subprocess.Process, stderr: Path, line_timeout: float
    ) -> None:
        self.process = process
        self.stderr = stderr
        self.line_timeout = line_timeout

    async def next(self) -> Any:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), self.line_timeout)
        if not line:
            await self.process.wait()
            raise AssertionError(
                f"the program ended (exit {self.process.returncode}) without printing a line:\n"
                + self.stderr.read_text()
            )
        return json.loads(line)

    async def rest(self) -> list[Any]:
        """Every line still to come, once the program has ended (with success)."""
        assert self.process.stdout is not None
        output = await asyncio.wait_for(self.process.stdout.read(), self.line_timeout)
        await self.process.wait()
        assert self.process.returncode == 0, self.stderr.read_text()
        return [json.loads(line) for line in output.splitlines()]

    async def say(self, word: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{word}\n".encode())
        await self.process.stdin.drain()

    async def end(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        await asyncio.wait_for(self.process.wait(), self.line_timeout)
        assert self.process.returncode == 0, self.stderr.read_text()


@asynccontextmanager
async def node_program(
    node: str,
    script: Path,
    *args: str,
    logs: Path,
    env: dict[str, str],
    line_timeout: float,
    stdin: bool = False,
) -> AsyncIterator[NodeProgram]:
    """`node script args…` in the script's directory, with `env` added to ours; its stderr
    goes to `logs/<script name>.stderr`."""
    stderr = logs / f"{script.name}.stderr"
    with stderr.open("wb") as errors:
        process = await asyncio.create_subprocess_exec(
            node,
            str(script),
            *args,
            cwd=script.parent,
            env={**os.environ, **env},
            stdin=asyncio.subprocess.PIPE if stdin else None,
            stdout=asyncio.subprocess.PIPE,
            stderr=errors,
        )
    try:
        yield NodeProgram(process, stderr, line_timeout)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
