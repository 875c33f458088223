"""The benchmark data set: every ISO country (from the migrations), 10,000 organizations,
2,000 events, 50,000 attendances, 50 working groups, and tokens. Deterministic (seeded),
bulk-inserted with SQLAlchemy Core into an empty, migrated database.

    .venv/bin/python -m bench.dataset postgresql://postgres@127.0.0.1/clubjustice_bench
"""

import asyncio
import random
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text

from club.enums import AttendanceRole, EventKind, EventStatus, FocusArea, OrganizationKind, Role
from club.enums import OrganizationStatus as Status
from db.engine import Database
from db.migrate import upgrade
from db.models import (
    ApiToken,
    Attendance,
    Country,
    Event,
    Organization,
    WorkingGroup,
    WorkingGroupMember,
)
from db.tokens import TOKEN_PREFIX, token_hash


@dataclass(frozen=True)
class Size:
    organizations: int = 10_000
    events: int = 2_000
    attendances: int = 50_000
    working_groups: int = 50
    # Guests that each attended meeting 1 as a guest, hold no invitation, and have a token
    # (a mutation cycle's invitees).
    cycle_guests: int = 2_000


FULL = Size()
# For tests/bench: every relation the scenarios walk, in a second.
TINY = Size(organizations=100, events=12, attendances=300, working_groups=3, cycle_guests=10)
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
BATCH = 5_000


@dataclass
class Tokens:
    admin: str = ""
    partner: str = ""
    inviter: str = ""
    inviter_id: int = 0
    guests: list[tuple[int, str]] = field(default_factory=list)  # (organization id, token)
    organization_ids: list[int] = field(default_factory=list)
    country_ids: list[int] = field(default_factory=list)


def _token(n: int) -> str:
    # Deterministic, so reruns print the same tokens; this is benchmark data, not secrets.
    return f"{TOKEN_PREFIX}bench-{n:08d}-" + "x" * 24


async def _insert(database: Database, table: type, rows: Sequence[Mapping[str, Any]]) -> None:
    async with database.engine.begin() as connection:
        for start in range(0, len(rows), BATCH):
            await connection.execute(insert(table), rows[start : start + BATCH])


async def load(url: str, size: Size = FULL) -> Tokens:
    random.seed(2026)
    database = Database.open(url)
    await upgrade(database.engine)
    async with database.engine.connect() as connection:
        if await connection.scalar(select(Organization.id).limit(1)) is not None:
            raise SystemExit(f"{url} already holds organizations: load into an empty database")
        countries = list(await connection.scalars(select(Country.id).order_by(Country.id)))

    members = int(size.organizations * 0.3)
    organizations = [
        {
            "id": n,
            "slug": f"bench-org-{n:05d}",
            "name": f"{random.choice(NAMES)} {n:05d}",
            "kind": random.choice(list(OrganizationKind)),
            "status": Status.MEMBER if n <= members else Status.GUEST,
            "country_id": random.choice(countries),
            "website": f"https://org-{n}.example.org",
            "description": "Legal aid, paralegal services and community justice.",
            "contact_email": f"contact@org-{n}.example.org",
            "joined_at": T0 if n <= members else None,
            "sponsor_id": None,
            "created_at": T0,
        }
        for n in range(1, size.organizations + 1)
    ]
    await _insert(database, Organization, organizations)
    groups = [
        {
            "id": n,
            "slug": f"bench-group-{n:02d}",
            "name": f"Working group {n:02d}",
            "focus_area": random.choice(list(FocusArea)),
            "description": None,
            "lead_id": random.randint(1, members),
            "created_at": T0,
        }
        for n in range(1, size.working_groups + 1)
    ]
    await _insert(database, WorkingGroup, groups)
    await _insert(
        database,
        WorkingGroupMember,
        [
            {"working_group_id": g, "organization_id": o, "joined_at": T0}
            for g in range(1, size.working_groups + 1)
            for o in random.sample(range(1, members + 1), 20)
        ],
    )
    events = []
    for n in range(1, size.events + 1):
        starts = T0 + timedelta(days=n % 300, hours=n % 8)
        events.append(
            {
                "id": n,
                "title": f"Meeting {n:04d}",
                "description": None,
                "kind": random.choice(list(EventKind)),
                "status": EventStatus.COMPLETED,
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=2),
                "meeting_url": None,
                "host_id": random.randint(1, members),
                "working_group_id": random.choice([None, random.randint(1, size.working_groups)]),
                "cancellation_reason": None,
                "created_at": T0,
            }
        )
    await _insert(database, Event, events)
    # The guests of the mutation cycle attended event 1 as guests; everyone else attends
    # random events in random roles, once per event.
    cycle_guests = list(range(size.organizations - size.cycle_guests + 1, size.organizations + 1))
    pairs = {(1, guest) for guest in cycle_guests}
    attendances = [
        {"event_id": 1, "organization_id": guest, "role": AttendanceRole.GUEST, "recorded_at": T0}
        for guest in cycle_guests
    ]
    while len(attendances) < size.attendances:
        event, organization = random.randint(2, size.events), random.randint(1, size.organizations)
        if (event, organization) in pairs:
            continue
        pairs.add((event, organization))
        role = AttendanceRole.MEMBER if organization <= members else AttendanceRole.GUEST
        attendances.append(
            {"event_id": event, "organization_id": organization, "role": role, "recorded_at": T0}
        )
    await _insert(database, Attendance, attendances)

    tokens = Tokens(
        inviter_id=1,
        organization_ids=list(range(1, size.organizations + 1)),
        country_ids=countries,
    )
    rows = []
    for n, (token_role, organization_id) in enumerate(
        [(Role.ADMIN, None), (Role.PARTNER, None), (Role.ORGANIZATION, 1)]
        + [(Role.ORGANIZATION, guest) for guest in cycle_guests]
    ):
        plain = _token(n)
        rows.append(
            {
                "token_hash": token_hash(plain),
                "role": token_role,
                "organization_id": organization_id,
                "label": "benchmark",
                "created_at": T0,
            }
        )
        if n == 0:
            tokens.admin = plain
        elif n == 1:
            tokens.partner = plain
        elif n == 2:
            tokens.inviter = plain
        else:
            tokens.guests.append((organization_id or 0, plain))
    await _insert(database, ApiToken, rows)
    if database.engine.dialect.name == "postgresql":
        async with database.engine.begin() as connection:
            for table in ("organizations", "events", "working_groups", "attendances"):
                await connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
            await connection.execute(text("ANALYZE"))
    await database.engine.dispose()
    return tokens


NAMES = [
    "Legal Aid Society",
    "Access to Justice Lab",
    "Paralegal Network",
    "Law Clinic",
    "Justice Foundation",
    "Community Legal Centre",
    "Rights Advocacy Group",
    "Pro Bono Initiative",
]

if __name__ == "__main__":
    loaded = asyncio.run(load(sys.argv[1]))
    print(f"loaded; admin token {loaded.admin}")
