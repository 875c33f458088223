"""What federated tracing (ftv1) costs a request that does not ask for a trace: strawberry's
extension against ours (schema/observe.py FederatedTracing), against none.

    .venv/bin/python -m bench.tracing      (loads the benchmark data set into a temp SQLite)

Each variant runs `{ countries { code name organizations(first: 5) { name } } }` (about
1,500 fields) in-process through schema.execute, 20 warm-up runs, then 200 timed ones,
interleaved; it prints the median milliseconds per request.
"""

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from strawberry.extensions.tracing.apollo_federation import ApolloFederationTracingExtension

from bench.dataset import load
from club.access import Principal
from club.enums import Role
from club.settings import Settings
from db.engine import Database
from resolvers.context import Context
from schema.root import build_schema

QUERY = "{ countries { code name organizations(first: 5) { name } } }"


async def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}"
        await load(url)
        database = Database.open(url)
        settings = Settings(database_url=url, cost_budget_admin=10**9)
        variants: dict[str, Any] = {
            "no tracing extension": build_schema(federated_tracing=False),
            "strawberry's ApolloFederationTracingExtension": build_schema(federated_tracing=False),
            "FederatedTracing (ours)": build_schema(federated_tracing=True),
        }
        # strawberry's own extension, exactly as it ships
        stock = variants["strawberry's ApolloFederationTracingExtension"]
        stock.extensions = (*stock.extensions, ApolloFederationTracingExtension)

        async def run(schema: Any) -> float:
            context = Context(
                settings=settings,
                principal=Principal(Role.ADMIN),
                session_factory=database.session_factory,
                write_session_factory=database.write_session_factory,
            )
            started = time.perf_counter()
            result = await schema.execute(QUERY, context_value=context)
            assert not result.errors, result.errors
            return (time.perf_counter() - started) * 1000

        timings: dict[str, list[float]] = {name: [] for name in variants}
        for round_ in range(220):
            for name, schema in variants.items():
                elapsed = await run(schema)
                if round_ >= 20:
                    timings[name].append(elapsed)
        for name, values in timings.items():
            print(f"{statistics.median(values):7.2f} ms  {name}")
        await database.engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
