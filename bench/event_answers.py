"""What one subscription event's answer costs on each path: the compiled plan
(schema/compiled/, `EventRoot`) and the reference executor (`compiled_reads` off).

One process, no network: a subscription replays `--events` logged events after a cursor
(strawberry's `subscribe`, the schema's executor, the fan-out's sharing: everything a
subscriber's execution runs but the transport), and the process CPU and statements per event
are measured, the two paths interleaved round by round. (With rounds, an event is executed
once per sharing key, whatever the number of subscribers: docs/architecture.md. This is the
cost of that one execution.)

    .venv/bin/python bench/event_answers.py                       # SQLite, in a temporary file
    .venv/bin/python bench/event_answers.py --url postgresql://postgres@127.0.0.1/clubjustice_ev

Writes bench/results/event-answers-<dialect>-<date>.json.
"""

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import dataset  # noqa: E402
from bench.suite import fresh_postgresql, version  # noqa: E402
from club.access import Principal  # noqa: E402
from club.cursors import activity_cursor  # noqa: E402
from club.enums import ActivityKind, Role  # noqa: E402
from club.metrics import Metrics  # noqa: E402
from club.settings import Settings  # noqa: E402
from db.activity import Subject, append_activity  # noqa: E402
from db.engine import Database  # noqa: E402
from db.models import ActivityLogEntry, Event, Organization  # noqa: E402
from db.notifier import ActivityFeed  # noqa: E402
from resolvers.context import Context  # noqa: E402
from schema.root import build_schema  # noqa: E402

DOCUMENTS = {
    # bench/fanout.py's subscription
    "fan-out": "subscription($after: String) { memberJoined(after: $after) "
    "{ cursor organization { slug } } }",
    "member joined, with relations": "subscription($after: String) { memberJoined(after: $after) "
    "{ cursor joinedAt organization { id name slug kind status website contactEmail "
    "country { code name } } sponsor { name country { code } } } }",
    "meeting updates, with relations": "subscription($after: String) { meetingUpdates(after: "
    "$after) { cursor kind occurredAt event { id title kind status startsAt endsAt meetingUrl "
    "host { name country { code } } } } }",
}
KINDS = {
    "fan-out": ActivityKind.MEMBER_JOINED,
    "member joined, with relations": ActivityKind.MEMBER_JOINED,
    "meeting updates, with relations": ActivityKind.EVENT_SCHEDULED,
}


async def prepare(database: Database, events: int) -> str:
    """The benchmark's small data set, then `events` members joined and `events` meetings
    scheduled (random subjects, seeded); the cursor before them."""
    tokens = await dataset.load(str(database.engine.url.render_as_string(False)), dataset.TINY)
    rng = random.Random(7)
    async with database.session_factory() as session:
        before = await session.scalar(select(func.max(ActivityLogEntry.id))) or 0
        event_ids = list((await session.scalars(select(Event.id))).all())
    async with database.session_factory() as session, session.begin():
        for n in range(events):
            occurred = datetime(2026, 12, 1, tzinfo=UTC)
            await append_activity(
                session,
                ActivityKind.MEMBER_JOINED,
                occurred_at=occurred,
                subject=Subject.of(Organization, rng.choice(tokens.organization_ids)),
            )
            await append_activity(
                session,
                ActivityKind.EVENT_SCHEDULED,
                occurred_at=occurred,
                subject=Subject.of(Event, event_ids[n % len(event_ids)]),
            )
    return activity_cursor(before)


class Statements:
    """Statements sent: through SQLAlchemy (but SQLite's BEGIN), and by the driver itself
    past it (asyncpg's `Connection.fetch`/`fetchrow`, aiosqlite's `Connection.execute`: the
    compiled path's and the token check's, db/engine.py RequestReads), which SQLAlchemy does
    not use."""

    def __init__(self, database: Database) -> None:
        self.count = 0
        sqlalchemy_event.listen(database.engine.sync_engine, "before_cursor_execute", self._one)
        for kind, names in (
            (asyncpg.Connection, ("fetch", "fetchrow")),
            (aiosqlite.Connection, ("execute",)),
        ):
            for name in names:
                setattr(kind, name, self._counting(getattr(kind, name)))

    def _one(self, connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith("BEGIN"):
            self.count += 1

    def _counting(self, method: Any) -> Any:
        def counted(driver: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return method(driver, *args, **kwargs)

        return counted


async def one_round(
    schema: Any,
    database: Database,
    feed: ActivityFeed,
    statements: Statements,
    settings: Settings,
    document: str,
    after: str,
    events: int,
) -> dict[str, float]:
    """One subscription that replays `events` events; CPU, wall time and statements per
    event, and the path that answered them."""
    context = Context(
        settings=settings,
        principal=Principal(Role.ADMIN),
        session_factory=database.session_factory,
        write_session_factory=database.write_session_factory,
    )
    context.metrics = Metrics()
    context.feed = feed
    stream: Any = await schema.subscribe(
        document, variable_values={"after": after}, context_value=context
    )
    # Past the subscription's start (its token check, the replay's first read).
    first = await anext(stream)
    assert not first.errors, first.errors
    cpu, wall, before = time.process_time(), time.perf_counter(), statements.count
    for _ in range(events - 1):
        result = await anext(stream)
        assert not result.errors, result.errors
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    sent = statements.count - before
    await stream.aclose()
    registry = context.metrics.registry
    compiled = registry.get_sample_value(
        "clubjustice_subscription_event_answers_total", {"path": "compiled"}
    )
    return {
        "cpu_us": cpu / (events - 1) * 1e6,
        "wall_us": wall / (events - 1) * 1e6,
        "statements": sent / (events - 1),
        "compiled": (compiled or 0) / events,
    }


def _median(rounds: list[dict[str, float]], key: str) -> dict[str, float]:
    values = [r[key] for r in rounds]
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a database to fill (default: SQLite in a temporary file)")
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--label", default="")
    options = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="event-answers-")
    url = options.url or f"sqlite+aiosqlite:///{scratch}/bench.db"
    if url.startswith("postgresql"):
        await fresh_postgresql(url)
    database = Database.open(url)
    after = await prepare(database, options.events)
    feed = ActivityFeed(database)
    async with database.session_factory() as session:
        feed.high_water = await session.scalar(select(func.max(ActivityLogEntry.id))) or 0
    statements = Statements(database)
    schema = build_schema()
    base = Settings(database_url=url, redis_url=None)
    results: dict[str, Any] = {}
    for name, document in DOCUMENTS.items():
        # A subscription's events are replayed in batches; every other event is of the kind.
        rounds: dict[str, list[dict[str, float]]] = {"reference": [], "compiled": []}
        for n in range(options.rounds + 1):  # the first round warms both paths up
            order = ["reference", "compiled"] if n % 2 else ["compiled", "reference"]
            for path in order:
                settings = base.model_copy(update={"compiled_reads": path == "compiled"})
                measured = await one_round(
                    schema, database, feed, statements, settings, document, after, options.events
                )
                if n:
                    rounds[path].append(measured)
        results[name] = {
            path: {key: _median(measured, key) for key in measured[0]}
            for path, measured in rounds.items()
        }
        reference = results[name]["reference"]["cpu_us"]["median"]
        compiled = results[name]["compiled"]["cpu_us"]["median"]
        print(
            f"{name}: CPU per event, reference {reference:,.0f} µs, compiled {compiled:,.0f} µs "
            f"(ratio {reference / compiled:.2f}); statements per event "
            f"{results[name]['reference']['statements']['median']:.2f} / "
            f"{results[name]['compiled']['statements']['median']:.2f}"
        )
    await database.engine.dispose()
    dialect = database.engine.dialect.name
    facts = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "git_revision": version(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        "load_average_at_start": os.getloadavg(),
        "dialect": dialect,
        "events": options.events,
        "rounds": options.rounds,
        "label": options.label,
    }
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    out = ROOT / "bench" / "results" / f"event-answers-{dialect}-{stamp}.json"
    out.write_text(json.dumps({"machine": facts, "results": results}, indent=2) + "\n")
    print(f"written: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    asyncio.run(main())
