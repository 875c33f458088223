"""The database itself refuses what the club's rules forbid, on both backends."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from club.enums import AttendanceRole, InvitationStatus
from db.models import Attendance, Event, Organization
from tests.factories import T0, add, country_ids, event, invitation, organization


@pytest.fixture
async def md(session_factory: Any) -> int:
    return (await country_ids(session_factory, "MD"))["MD"]


async def test_slugs_are_unique(session_factory: Any, md: int) -> None:
    await add(session_factory, organization(md, slug="same"))
    with pytest.raises(IntegrityError):
        await add(session_factory, organization(md, slug="same"))


async def test_one_attendance_per_event_and_organization(session_factory: Any, md: int) -> None:
    host = organization(md, member=True)
    await add(session_factory, host)
    meeting = event(host.id)
    await add(session_factory, meeting)
    await add(
        session_factory,
        Attendance(
            event_id=meeting.id, organization_id=host.id, role=AttendanceRole.HOST, recorded_at=T0
        ),
    )
    with pytest.raises(IntegrityError):
        await add(
            session_factory,
            Attendance(
                event_id=meeting.id,
                organization_id=host.id,
                role=AttendanceRole.GUEST,
                recorded_at=T0,
            ),
        )


async def test_foreign_keys_are_enforced(session_factory: Any) -> None:
    with pytest.raises(IntegrityError):
        await add(session_factory, organization(999_999))


async def test_an_event_starts_before_it_ends(session_factory: Any, md: int) -> None:
    host = organization(md, member=True)
    await add(session_factory, host)
    with pytest.raises(IntegrityError):
        await add(session_factory, event(host.id, starts_at=T0, ends_at=T0))


async def test_one_pending_invitation_per_invitee_and_none_to_oneself(
    session_factory: Any, md: int
) -> None:
    a, b, c = organization(md, member=True), organization(md, member=True), organization(md)
    await add(session_factory, a, b, c)
    await add(session_factory, invitation(a.id, c.id))
    with pytest.raises(IntegrityError):
        await add(session_factory, invitation(b.id, c.id))
    # Once the first is answered, another member may invite.
    await add(session_factory, invitation(b.id, c.id, status=InvitationStatus.DECLINED))
    with pytest.raises(IntegrityError):
        await add(session_factory, invitation(a.id, a.id))


async def test_a_member_has_a_join_time(session_factory: Any, md: int) -> None:
    with pytest.raises(IntegrityError):
        await add(session_factory, organization(md, member=True, joined_at=None))


async def test_enum_columns_refuse_unknown_values_in_the_database_itself(
    session_factory: Any, md: int
) -> None:
    # Raw SQL, past SQLAlchemy's own check: the CHECK constraint from the migration refuses.
    insert = text(
        "INSERT INTO organizations (slug, name, kind, status, country_id, created_at) "
        "VALUES ('x', 'X', :kind, 'GUEST', :country, CURRENT_TIMESTAMP)"
    )
    async with session_factory() as session:
        with pytest.raises(IntegrityError):
            await session.execute(insert, {"kind": "CHARITY", "country": md})
        await session.rollback()
        await session.execute(insert, {"kind": "NGO", "country": md})  # the same row, valid


async def test_times_come_back_aware_and_in_utc(session_factory: Any, md: int) -> None:
    kyiv_noon = datetime(2021, 10, 28, 15, 0, tzinfo=UTC).astimezone(ZoneInfo("Europe/Kyiv"))
    host = organization(md, member=True)
    await add(session_factory, host)
    await add(session_factory, event(host.id, starts_at=kyiv_noon))
    async with session_factory() as session:
        stored = (await session.scalars(select(Event))).one()
    assert stored.starts_at == kyiv_noon
    assert stored.starts_at.tzinfo == UTC
    assert stored.ends_at - stored.starts_at == timedelta(hours=1)


async def test_naive_times_are_refused(session_factory: Any, md: int) -> None:
    with pytest.raises(StatementError):
        await add(session_factory, organization(md, created_at=datetime(2024, 1, 1)))
    async with session_factory() as session:
        assert (await session.scalars(select(Organization))).all() == []
