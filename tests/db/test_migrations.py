"""Migrations are the only way the schema changes, and they match the models."""

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, Integer, String, column, func, inspect, select, table, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from club.enums import FocusArea
from db.base import Base, UTCDateTime
from db.countries import iso_countries
from db.engine import Database, create_engine, create_session_factory, create_write_session_factory
from db.migrate import alembic_config, ensure_migrated, migration_state, upgrade
from db.models import ActivityLogEntry, Country, Event, Organization, WorkingGroup
from db.notifier import read_events
from tests.conftest import BACKENDS, postgres_url
from tests.factories import T0, activity_log, add, country_ids, event, invitation, organization


def model_differences(connection: Any) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    found: list[Any] = compare_metadata(context, Base.metadata)
    return found


async def test_the_migrated_database_matches_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert await connection.run_sync(model_differences) == []


async def test_the_database_is_at_the_head_revision(engine: AsyncEngine) -> None:
    state = await migration_state(engine)
    assert state.at_head
    assert len(state.head) == 1  # one line of history, no branches to merge
    assert state.current == state.head
    await ensure_migrated(engine)  # does not raise


async def test_migrations_load_every_iso_country(session_factory: Any) -> None:
    async with session_factory() as session:
        assert (
            await session.scalar(select(func.count()).select_from(Country))
            == len(iso_countries())
            == 249
        )
        moldova = (await session.scalars(select(Country).where(Country.code == "MD"))).one()
    assert (moldova.name, moldova.region) == ("Moldova", "Europe")


@pytest.fixture(params=BACKENDS)
async def blank_engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    """An empty database of its own: a file on SQLite, a schema of its own on PostgreSQL
    (the session's database stays at the head)."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}")
        yield engine
        await engine.dispose()
        return
    admin = create_engine(postgres_url())
    async with admin.begin() as connection:
        await connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        await connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    engine = create_engine(
        postgres_url(), connect_args={"server_settings": {"search_path": SCHEMA}}
    )
    yield engine
    await engine.dispose()
    async with admin.begin() as connection:
        await connection.execute(text(f"DROP SCHEMA {SCHEMA} CASCADE"))
    await admin.dispose()


SCHEMA = "migration_test"
# The activity kinds when migration 0004 was written.
KINDS_AT_0004 = frozenset(
    {
        "ORGANIZATION_REGISTERED",
        "ORGANIZATION_UPDATED",
        "EVENT_SCHEDULED",
        "EVENT_UPDATED",
        "EVENT_CANCELLED",
        "EVENT_COMPLETED",
        "ATTENDANCE_RECORDED",
        "INVITATION_SENT",
        "INVITATION_ACCEPTED",
        "INVITATION_DECLINED",
        "INVITATION_REVOKED",
        "INVITATION_EXPIRED",
        "MEMBER_JOINED",
        "WORKING_GROUP_CREATED",
        "WORKING_GROUP_JOINED",
        "WORKING_GROUP_LEFT",
        "ACTION_ITEM_ADDED",
        "ACTION_ITEM_UPDATED",
        "TOKEN_REVOKED",
    }
)
OLD_LOG = table(
    "activity_log",
    column("id", Integer()),
    column("kind", String()),
    column("occurred_at", UTCDateTime()),
    column("organization_id", Integer()),
    column("event_id", Integer()),
    column("invitation_id", Integer()),
    column("working_group_id", Integer()),
    column("payload", JSON()),
)
OLD_COLUMNS = ("organization_id", "event_id", "invitation_id", "working_group_id")


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    def run(connection: Any) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def test_0004_names_each_rows_subject_and_moves_back(blank_engine: AsyncEngine) -> None:
    """Rows of every kind, as the code before 0004 wrote them, get their subject and keep
    the other rows they mentioned in their payload; the downgrade restores them exactly."""
    await upgrade(blank_engine, "0003")
    factory = create_session_factory(blank_engine)
    md = (await country_ids(factory, "MD"))["MD"]
    host = organization(md, member=True, slug="host")
    guest = organization(md, slug="guest")
    await add(factory, host, guest)
    group = WorkingGroup(
        slug="data", name="Data", focus_area=FocusArea.DATA_AND_EVIDENCE, created_at=T0
    )
    await add(factory, group)
    meeting = event(host.id, working_group_id=group.id)
    sent = invitation(host.id, guest.id)
    await add(factory, meeting, sent)
    h, g, e, i, w = host.id, guest.id, meeting.id, sent.id, group.id
    old = [
        # kind, organization_id, event_id, invitation_id, working_group_id, payload
        ("ORGANIZATION_REGISTERED", g, None, None, None, {}),
        ("ORGANIZATION_UPDATED", h, None, None, None, {"changed": ["website"]}),
        ("EVENT_SCHEDULED", h, e, None, w, {}),
        ("EVENT_UPDATED", h, e, None, w, {"changed": ["title"]}),
        ("ATTENDANCE_RECORDED", g, e, None, w, {"role": "GUEST"}),
        ("EVENT_CANCELLED", h, e, None, w, {"reason": "storm"}),
        ("EVENT_COMPLETED", h, e, None, None, {}),
        ("INVITATION_SENT", g, None, i, None, {"inviter_id": h, "invitee_id": g}),
        ("INVITATION_DECLINED", g, None, i, None, {}),
        ("INVITATION_REVOKED", g, None, i, None, {}),
        ("INVITATION_EXPIRED", g, None, i, None, {}),
        ("INVITATION_ACCEPTED", g, None, i, None, {}),
        ("MEMBER_JOINED", g, None, i, None, {"sponsor_id": h, "country_id": md}),
        ("WORKING_GROUP_CREATED", h, None, None, w, {}),
        ("WORKING_GROUP_JOINED", g, None, None, w, {}),
        ("WORKING_GROUP_LEFT", g, None, None, w, {}),
        ("ACTION_ITEM_ADDED", None, None, None, w, {"action_item_id": 1}),
        ("ACTION_ITEM_UPDATED", h, None, None, w, {"action_item_id": 1, "changed": ["owner"]}),
        ("TOKEN_REVOKED", None, None, None, None, {"token_id": 3}),
    ]
    # Every kind there was when 0004 was written (later kinds never had the old columns).
    assert {kind for kind, *_ in old} == KINDS_AT_0004
    async with blank_engine.begin() as connection:
        await connection.execute(
            OLD_LOG.insert(),
            [
                {"kind": kind, "occurred_at": T0, "payload": payload}
                | dict(zip(OLD_COLUMNS, ids, strict=True))
                for kind, *ids, payload in old
            ],
        )

    await upgrade(blank_engine)
    new = await activity_log(factory, ActivityLogEntry.payload)
    assert new == [
        ("ORGANIZATION_REGISTERED", "Organization", g, {}),
        ("ORGANIZATION_UPDATED", "Organization", h, {"changed": ["website"]}),
        ("EVENT_SCHEDULED", "Event", e, {"organization_id": h, "working_group_id": w}),
        (
            "EVENT_UPDATED",
            "Event",
            e,
            {"organization_id": h, "working_group_id": w, "changed": ["title"]},
        ),
        (
            "ATTENDANCE_RECORDED",
            "Event",
            e,
            {"organization_id": g, "working_group_id": w, "role": "GUEST"},
        ),
        (
            "EVENT_CANCELLED",
            "Event",
            e,
            {"organization_id": h, "working_group_id": w, "reason": "storm"},
        ),
        ("EVENT_COMPLETED", "Event", e, {"organization_id": h}),
        (
            "INVITATION_SENT",
            "Invitation",
            i,
            {"organization_id": g, "inviter_id": h, "invitee_id": g},
        ),
        ("INVITATION_DECLINED", "Invitation", i, {"organization_id": g}),
        ("INVITATION_REVOKED", "Invitation", i, {"organization_id": g}),
        ("INVITATION_EXPIRED", "Invitation", i, {"organization_id": g}),
        ("INVITATION_ACCEPTED", "Invitation", i, {"organization_id": g}),
        (
            "MEMBER_JOINED",
            "Organization",
            g,
            {"invitation_id": i, "sponsor_id": h, "country_id": md},
        ),
        ("WORKING_GROUP_CREATED", "WorkingGroup", w, {"organization_id": h}),
        ("WORKING_GROUP_JOINED", "WorkingGroup", w, {"organization_id": g}),
        ("WORKING_GROUP_LEFT", "WorkingGroup", w, {"organization_id": g}),
        ("ACTION_ITEM_ADDED", "WorkingGroup", w, {"action_item_id": 1}),
        (
            "ACTION_ITEM_UPDATED",
            "WorkingGroup",
            w,
            {"organization_id": h, "action_item_id": 1, "changed": ["owner"]},
        ),
        ("TOKEN_REVOKED", None, None, {"token_id": 3}),
    ]
    # The feed reads the migrated rows with their subjects.
    database = Database(blank_engine, factory, create_write_session_factory(blank_engine))
    assert [
        (type(live.subject).__name__, getattr(live.subject, "id", None))
        for live in await read_events(database, after=0, limit=100)
    ] == [(t or "NoneType", pk) for _, t, pk, _ in new]
    async with blank_engine.connect() as connection:
        assert await connection.run_sync(model_differences) == []

    await downgrade(blank_engine, "0003")
    async with blank_engine.connect() as connection:
        back = (
            await connection.execute(
                select(
                    OLD_LOG.c.kind,
                    *(OLD_LOG.c[name] for name in OLD_COLUMNS),
                    OLD_LOG.c.payload,
                ).order_by(OLD_LOG.c.id)
            )
        ).all()
    assert [tuple(row) for row in back] == old
    await upgrade(blank_engine)  # and up again, from rows the downgrade wrote
    assert (await migration_state(blank_engine)).at_head


async def test_0006_normalizes_stored_addresses_and_logs_the_rest(
    blank_engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """Addresses stored as typed before 0006 are normalized; those that cannot be are left
    as they are and logged, one warning each naming the row and why."""
    await upgrade(blank_engine, "0005")
    factory = create_session_factory(blank_engine)
    md = (await country_ids(factory, "MD"))["MD"]
    websites = {
        "quoted": 'https://Example.org/"><script>alert(1)</script>',
        "credentials": "https://user:secret@example.org/",
        "normal": "https://example.org/",
        "none": None,
        "ftp": "ftp://files.example.org/",
    }
    rows = {slug: organization(md, slug=slug, website=url) for slug, url in websites.items()}
    await add(factory, *rows.values())
    meetings = {
        "spaced": event(rows["normal"].id, meeting_url="HTTPS://meet.example.org/a b'c"),
        "long": event(rows["normal"].id, meeting_url="https://meet.example.org/" + '"' * 170),
    }
    await add(factory, *meetings.values())

    with caplog.at_level(logging.WARNING, logger="clubjustice.migrations"):
        await upgrade(blank_engine)

    async with factory() as session:
        stored = dict(
            (await session.execute(select(Organization.slug, Organization.website))).all()
        )
        urls = dict((await session.execute(select(Event.id, Event.meeting_url))).all())
    assert stored == {
        "quoted": "https://example.org/%22%3E%3Cscript%3Ealert(1)%3C/script%3E",
        "credentials": "https://user:secret@example.org/",
        "normal": "https://example.org/",
        "none": None,
        "ftp": "ftp://files.example.org/",
    }
    assert urls == {
        meetings["spaced"].id: "https://meet.example.org/a%20b%27c",
        meetings["long"].id: "https://meet.example.org/" + '"' * 170,  # 535 once encoded
    }
    long_id, credentials_id, ftp_id = (
        meetings["long"].id,
        rows["credentials"].id,
        rows["ftp"].id,
    )
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "clubjustice.migrations",
            "WARNING",
            f"organizations {credentials_id}: website 'https://user:secret@example.org/' "
            "may not hold a user name or password; left as it is",
        ),
        (
            "clubjustice.migrations",
            "WARNING",
            f"organizations {ftp_id}: website 'ftp://files.example.org/' "
            "must be an http:// or https:// address; left as it is",
        ),
        (
            "clubjustice.migrations",
            "WARNING",
            f"events {long_id}: meeting_url {'https://meet.example.org/' + chr(34) * 170!r} "
            "is longer than 500 characters once normalized; left as it is",
        ),
    ]
    await downgrade(blank_engine, "0005")  # changes nothing
    async with factory() as session:
        assert dict((await session.execute(select(Event.id, Event.meeting_url))).all()) == urls
    await upgrade(blank_engine)
    assert (await migration_state(blank_engine)).at_head


async def test_0008_adds_two_focus_areas_to_working_groups_and_moves_back(
    blank_engine: AsyncEngine,
) -> None:
    """The CHECK on working groups' focus area takes PUBLIC_HEALTH once 0008 ran; the
    downgrade drops the incubator's tables and narrows it again."""
    await upgrade(blank_engine, "0007")
    factory = create_session_factory(blank_engine)

    def group(slug: str, focus_area: FocusArea) -> WorkingGroup:
        return WorkingGroup(slug=slug, name=slug, focus_area=focus_area, created_at=T0)

    with pytest.raises(IntegrityError):
        await add(factory, group("health", FocusArea.PUBLIC_HEALTH))
    await upgrade(blank_engine)
    await add(factory, group("health", FocusArea.PUBLIC_HEALTH), group("data", FocusArea.OTHER))

    await downgrade(blank_engine, "0007")
    async with blank_engine.connect() as connection:
        names = await connection.run_sync(lambda c: inspect(c).get_table_names())
        slugs = (await connection.execute(text("SELECT slug FROM working_groups"))).scalars()
        assert list(slugs) == ["data"]
    assert "initiatives" not in names
    with pytest.raises(IntegrityError):
        await add(factory, group("social", FocusArea.SOCIAL_PROBLEMS))
    await upgrade(blank_engine)
    await add(factory, group("social", FocusArea.SOCIAL_PROBLEMS))
