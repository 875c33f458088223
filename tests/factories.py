"""Building club data for tests, straight through the models (no GraphQL, no rules)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy import select

from club.enums import (
    AttendanceRole,
    EventKind,
    EventStatus,
    FocusArea,
    InitiativeStage,
    InvitationStatus,
    OrganizationKind,
    OrganizationStatus,
)
from db.engine import SessionFactory
from db.models import (
    ActivityLogEntry,
    Attendance,
    Country,
    Event,
    IncubatorProgram,
    Initiative,
    Invitation,
    Organization,
    WorkingGroup,
    WorkingGroupMember,
)

T0 = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
_sequence = count(1)


async def country_ids(session_factory: SessionFactory, *codes: str) -> dict[str, int]:
    async with session_factory() as session:
        rows = await session.execute(
            select(Country.code, Country.id).where(Country.code.in_(codes))
        )
        return {code: pk for code, pk in rows}


async def add(session_factory: SessionFactory, *rows: Any) -> None:
    async with session_factory() as session, session.begin():
        session.add_all(rows)


def organization(country_id: int, *, member: bool = False, **values: Any) -> Organization:
    n = next(_sequence)
    defaults: dict[str, Any] = {
        "slug": f"org-{n}",
        "name": f"Organization {n:05d}",
        "kind": OrganizationKind.NGO,
        "status": OrganizationStatus.MEMBER if member else OrganizationStatus.GUEST,
        "country_id": country_id,
        "joined_at": T0 if member else None,
        "contact_email": f"contact@org-{n}.example.org",
        "created_at": T0,
    }
    return Organization(**{**defaults, **values})


def event(host_id: int, **values: Any) -> Event:
    n = next(_sequence)
    starts_at = values.pop("starts_at", T0 + timedelta(days=n))
    defaults: dict[str, Any] = {
        "title": f"Meeting {n}",
        "kind": EventKind.ONLINE_MEETING,
        "status": EventStatus.SCHEDULED,
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=1),
        "host_id": host_id,
        "meeting_url": f"https://meet.example.org/{n}",
        "created_at": T0,
    }
    return Event(**{**defaults, **values})


def invitation(inviter_id: int, invitee_id: int, **values: Any) -> Invitation:
    created_at = values.pop("created_at", T0)
    defaults: dict[str, Any] = {
        "inviter_id": inviter_id,
        "invitee_id": invitee_id,
        "status": InvitationStatus.PENDING,
        "year": created_at.year,
        "created_at": created_at,
        "expires_at": created_at + timedelta(days=30),
    }
    return Invitation(**{**defaults, **values})


@dataclass
class Club:
    organization_ids: list[int]
    event_ids: list[int]
    working_group_ids: list[int]


async def build_club(
    session_factory: SessionFactory,
    *,
    organizations: int,
    events: int,
    working_groups: int,
    country_codes: tuple[str, ...] = ("MD", "AL", "MK", "UA", "KE", "PL", "MN", "KG", "AR", "GE"),
) -> Club:
    """A club of the given size: organizations spread over countries, each event hosted by a
    member with a few attendances, each working group with members."""
    countries = list((await country_ids(session_factory, *country_codes)).values())
    async with session_factory() as session, session.begin():
        orgs = [
            organization(countries[i % len(countries)], member=i % 3 != 0)
            for i in range(organizations)
        ]
        session.add_all(orgs)
        await session.flush()
        evts = [event(orgs[(i * 3 + 1) % organizations].id) for i in range(events)]
        groups = [
            WorkingGroup(
                slug=f"group-{next(_sequence)}",
                name=f"Group {i}",
                focus_area=FocusArea.OTHER,
                lead_id=orgs[i % organizations].id,
                created_at=T0,
            )
            for i in range(working_groups)
        ]
        session.add_all([*evts, *groups])
        await session.flush()
        roles = [AttendanceRole.MEMBER, AttendanceRole.GUEST, AttendanceRole.SPEAKER]
        for i, evt in enumerate(evts):
            # Three attendees per event (fewer in a tiny club: one attendance per organization).
            attendees = dict.fromkeys((i + j * 7) % organizations for j in range(3))
            for j, attendee in enumerate(attendees):
                session.add(
                    Attendance(
                        event_id=evt.id,
                        organization_id=orgs[attendee].id,
                        role=roles[j],
                        recorded_at=evt.ends_at,
                    )
                )
        for i, group in enumerate(groups):
            for member in dict.fromkeys((i * 5 + j) % organizations for j in range(5)):
                session.add(
                    WorkingGroupMember(
                        working_group_id=group.id, organization_id=orgs[member].id, joined_at=T0
                    )
                )
        return Club([o.id for o in orgs], [e.id for e in evts], [g.id for g in groups])


async def guests_of_a_member(
    session_factory: SessionFactory, guests: int
) -> tuple[Organization, list[Organization]]:
    """A member and `guests` organizations that attended its meeting as guests: all
    invitable by it."""
    md = (await country_ids(session_factory, "MD"))["MD"]
    inviter = organization(md, member=True)
    invitees = [organization(md) for _ in range(guests)]
    await add(session_factory, inviter, *invitees)
    meeting = event(inviter.id, starts_at=T0)  # it took place: the attendances count
    await add(session_factory, meeting)
    await add(
        session_factory,
        *[
            Attendance(
                event_id=meeting.id,
                organization_id=g.id,
                role=AttendanceRole.GUEST,
                recorded_at=T0,
            )
            for g in invitees
        ],
    )
    return inviter, invitees


async def activity_log(session_factory: SessionFactory, last: Any) -> list[tuple[Any, ...]]:
    """The activity log in order: each row's kind, subject type, subject id and `last` (a
    column of ActivityLogEntry, e.g. its payload)."""
    async with session_factory() as session:
        rows = await session.execute(
            select(
                ActivityLogEntry.kind,
                ActivityLogEntry.subject_type,
                ActivityLogEntry.subject_id,
                last,
            ).order_by(ActivityLogEntry.id)
        )
        return [tuple(row) for row in rows]


def program(organizer_id: int, **values: Any) -> IncubatorProgram:
    n = next(_sequence)
    defaults: dict[str, Any] = {
        "slug": f"program-{n}",
        "name": f"Program {n:05d}",
        "organizer_id": organizer_id,
        "created_at": T0,
    }
    return IncubatorProgram(**{**defaults, **values})


def initiative(proposer_id: int, **values: Any) -> Initiative:
    """An initiative straight into the table (no countries, partners or history unless
    added): for tests of what reads it."""
    n = next(_sequence)
    defaults: dict[str, Any] = {
        "title": f"Initiative {n:05d}",
        "summary": "A summary.",
        "problem": "A problem.",
        "focus_area": FocusArea.OTHER,
        "proposer_id": proposer_id,
        "stage": InitiativeStage.IDEA,
        "created_at": T0 + timedelta(minutes=n),
        "updated_at": T0 + timedelta(minutes=n),
    }
    return Initiative(**{**defaults, **values})
