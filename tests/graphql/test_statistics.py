"""clubStatistics: exact figures for a club built from the lists below (the expected numbers
are counted here, in Python, from the same lists), one statement per group of figures, and
what each caller sees."""

import itertools
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, get_named_type
from strawberry.federation import Schema

from club.access import Audience, Principal
from club.enums import (
    AttendanceRole,
    EventKind,
    EventStatus,
    FocusArea,
    InitiativeStage,
    InvitationStatus,
    OrganizationKind,
    Role,
)
from club.rules import effective_invitation_status
from club.statistics import discloses_invitation_outcomes
from db.engine import SessionFactory
from db.models import Attendance, InitiativeStageChange
from resolvers.list_sizes import ListSizeObserver
from schema.cost import observations_of
from schema.fields import facts_of
from schema.strawberry_private import graphql_core_schema
from tests.factories import add, country_ids, event, initiative, invitation, organization

NOW = datetime(2023, 3, 1, 12, 0, tzinfo=UTC)
ADMIN = Principal(Role.ADMIN)
PARTNER = Principal(Role.PARTNER)

STATISTICS = """
query Statistics {
  clubStatistics {
    asOf
    organizationsByCountry { country { code } members guests }
    organizationsByKind { kind members guests }
    membersJoinedByYear { year members }
    invitationsByYear {
      year sent disclosed accepted declined revoked expired pending acceptanceRate
    }
    eventsByYear { year kind events completed cancelled }
    attendancesByYear { year role attendances organizations }
    initiativesByStage { stage focusArea initiatives }
    stageDurations { fromStage toStage moves medianDays }
  }
}
"""
# One aggregate statement per group of figures; `asOf` reads the request's clock.
STATISTICS_STATEMENTS = 8


@dataclass(frozen=True)
class Org:
    country: str
    kind: OrganizationKind
    joined_at: datetime | None = None  # a member since then; a guest when None


@dataclass(frozen=True)
class Sent:
    inviter: int  # positions in ORGANIZATIONS
    invitee: int
    created_at: datetime
    status: InvitationStatus


@dataclass(frozen=True)
class Held:
    starts_at: datetime
    kind: EventKind
    status: EventStatus
    attendances: tuple[tuple[int, AttendanceRole], ...] = ()


ORGANIZATIONS = [
    Org("MD", OrganizationKind.NGO, datetime(2021, 10, 28, 14, 0, tzinfo=UTC)),
    Org("MD", OrganizationKind.ACADEMIC),
    Org("AL", OrganizationKind.LEGAL_AID_PROVIDER, datetime(2022, 3, 14, 9, 30, tzinfo=UTC)),
    Org("AL", OrganizationKind.NGO),
    # Either side of a new year in UTC.
    Org("KE", OrganizationKind.NGO, datetime(2022, 12, 31, 23, 30, tzinfo=UTC)),
    Org("KE", OrganizationKind.FOUNDATION, datetime(2023, 1, 1, 0, 30, tzinfo=UTC)),
    Org("KE", OrganizationKind.NGO),
]
Y2022 = datetime(2022, 4, 1, 8, 0, tzinfo=UTC)
INVITATIONS = [
    Sent(0, 1, Y2022, InvitationStatus.ACCEPTED),
    Sent(0, 3, Y2022 + timedelta(days=1), InvitationStatus.ACCEPTED),
    Sent(2, 6, Y2022 + timedelta(days=2), InvitationStatus.DECLINED),
    Sent(2, 1, Y2022 + timedelta(days=3), InvitationStatus.REVOKED),
    Sent(4, 3, Y2022 + timedelta(days=4), InvitationStatus.EXPIRED),
    # Still PENDING in the table, but its 30 days ran out long before NOW: expired.
    Sent(4, 6, Y2022 + timedelta(days=5), InvitationStatus.PENDING),
    # 2023: two only, one still pending at NOW.
    Sent(0, 1, NOW - timedelta(days=3), InvitationStatus.PENDING),
    Sent(2, 3, NOW - timedelta(days=20), InvitationStatus.DECLINED),
]
EVENTS = [
    Held(
        datetime(2021, 10, 28, 14, 0, tzinfo=UTC),
        EventKind.ONLINE_MEETING,
        EventStatus.COMPLETED,
        ((0, AttendanceRole.HOST), (1, AttendanceRole.GUEST), (2, AttendanceRole.GUEST)),
    ),
    Held(
        datetime(2022, 2, 15, 14, 0, tzinfo=UTC),
        EventKind.ONLINE_MEETING,
        EventStatus.COMPLETED,
        ((0, AttendanceRole.SPEAKER), (1, AttendanceRole.GUEST), (3, AttendanceRole.GUEST)),
    ),
    # Held on the last evening of 2022 (UTC) and never marked completed.
    Held(
        datetime(2022, 12, 31, 23, 30, tzinfo=UTC),
        EventKind.HYBRID,
        EventStatus.SCHEDULED,
        ((2, AttendanceRole.HOST), (1, AttendanceRole.GUEST)),
    ),
    # Cancelled: the event counts, its attendance does not.
    Held(
        datetime(2022, 5, 1, 9, 0, tzinfo=UTC),
        EventKind.IN_PERSON,
        EventStatus.CANCELLED,
        ((6, AttendanceRole.GUEST),),
    ),
    # Not started at NOW (attendance recorded ahead, as registrations): neither counts.
    Held(
        datetime(2023, 6, 1, 9, 0, tzinfo=UTC),
        EventKind.HYBRID,
        EventStatus.SCHEDULED,
        ((6, AttendanceRole.GUEST),),
    ),
]


@dataclass(frozen=True)
class Proposed:
    focus_area: FocusArea
    # Its history: each stage it reached, and when (the first: its proposal, to IDEA).
    history: tuple[tuple[InitiativeStage, datetime], ...]


IDEA, INCUBATING, PILOTING, SHELVED = (
    InitiativeStage.IDEA,
    InitiativeStage.INCUBATING,
    InitiativeStage.PILOTING,
    InitiativeStage.SHELVED,
)
T = datetime(2022, 1, 10, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
INITIATIVES = [
    Proposed(
        FocusArea.PUBLIC_HEALTH, ((IDEA, T), (INCUBATING, T + 10 * DAY), (PILOTING, T + 40 * DAY))
    ),
    Proposed(FocusArea.PUBLIC_HEALTH, ((IDEA, T), (INCUBATING, T + 20 * DAY))),
    # Shelved a day after incubation began, back 24 days later.
    Proposed(
        FocusArea.TECH_SOLUTIONS,
        ((IDEA, T), (INCUBATING, T + 5 * DAY), (SHELVED, T + 6 * DAY), (INCUBATING, T + 30 * DAY)),
    ),
    # A day and a half: the median keeps the fraction.
    Proposed(FocusArea.TECH_SOLUTIONS, ((IDEA, T), (INCUBATING, T + DAY + timedelta(hours=12)))),
    Proposed(FocusArea.SOCIAL_PROBLEMS, ((IDEA, T + 3 * DAY),)),
]


async def build(session_factory: SessionFactory) -> list[int]:
    countries = await country_ids(session_factory, "MD", "AL", "KE")
    orgs = [
        organization(
            countries[spec.country],
            member=spec.joined_at is not None,
            kind=spec.kind,
            joined_at=spec.joined_at,
        )
        for spec in ORGANIZATIONS
    ]
    await add(session_factory, *orgs)
    ids = [org.id for org in orgs]
    await add(
        session_factory,
        *[
            invitation(
                ids[sent.inviter], ids[sent.invitee], created_at=sent.created_at, status=sent.status
            )
            for sent in INVITATIONS
        ],
    )
    events = [
        event(ids[0], starts_at=held.starts_at, kind=held.kind, status=held.status)
        for held in EVENTS
    ]
    await add(session_factory, *events)
    await add(
        session_factory,
        *[
            Attendance(
                event_id=row.id, organization_id=ids[who], role=role, recorded_at=held.starts_at
            )
            for row, held in zip(events, EVENTS, strict=True)
            for who, role in held.attendances
        ],
    )
    initiatives = [
        initiative(ids[0], focus_area=spec.focus_area, stage=spec.history[-1][0])
        for spec in INITIATIVES
    ]
    await add(session_factory, *initiatives)
    await add(
        session_factory,
        *[
            InitiativeStageChange(initiative_id=row.id, stage=stage, changed_at=at)
            for row, spec in zip(initiatives, INITIATIVES, strict=True)
            for stage, at in spec.history
        ],
    )
    return ids


def expected_figures(principal: Principal) -> dict[str, Any]:
    """The figures, counted from the lists above."""
    by_country: Counter[tuple[str, bool]] = Counter(
        (o.country, o.joined_at is not None) for o in ORGANIZATIONS
    )
    by_kind: Counter[tuple[str, bool]] = Counter(
        (o.kind.value, o.joined_at is not None) for o in ORGANIZATIONS
    )
    joined = Counter(o.joined_at.astimezone(UTC).year for o in ORGANIZATIONS if o.joined_at)

    invitations = []
    for year in sorted({sent.created_at.year for sent in INVITATIONS}):
        outcomes = Counter(
            effective_invitation_status(sent.status, sent.created_at + timedelta(days=30), NOW)
            for sent in INVITATIONS
            if sent.created_at.year == year
        )
        sent = sum(outcomes.values())
        row: dict[str, Any] = {"year": year, "sent": sent}
        if discloses_invitation_outcomes(principal, sent):
            accepted = outcomes[InvitationStatus.ACCEPTED]
            decided = accepted + outcomes[InvitationStatus.DECLINED]
            decided += outcomes[InvitationStatus.EXPIRED]
            row |= {
                "disclosed": True,
                "accepted": accepted,
                "declined": outcomes[InvitationStatus.DECLINED],
                "revoked": outcomes[InvitationStatus.REVOKED],
                "expired": outcomes[InvitationStatus.EXPIRED],
                "pending": outcomes[InvitationStatus.PENDING],
                "acceptanceRate": accepted / decided if decided else None,
            }
        else:
            row |= dict.fromkeys(
                ["accepted", "declined", "revoked", "expired", "pending", "acceptanceRate"]
            ) | {"disclosed": False}
        invitations.append(row)

    started = [held for held in EVENTS if held.starts_at <= NOW]
    events: Counter[tuple[int, str]] = Counter(
        (held.starts_at.year, held.kind.value) for held in started
    )
    completed = Counter(
        (held.starts_at.year, held.kind.value)
        for held in started
        if held.status is EventStatus.COMPLETED
    )
    cancelled = Counter(
        (held.starts_at.year, held.kind.value)
        for held in started
        if held.status is EventStatus.CANCELLED
    )
    attended = [
        (held.starts_at.year, role.value, who)
        for held in started
        if held.status is not EventStatus.CANCELLED
        for who, role in held.attendances
    ]
    attendances = Counter((year, role) for year, role, _ in attended)
    attendees = Counter((year, role) for year, role, _ in set(attended))

    at_stage = Counter((spec.history[-1][0].value, spec.focus_area.value) for spec in INITIATIVES)
    took: dict[tuple[str, str], list[float]] = {}
    for spec in INITIATIVES:
        for (left, left_at), (reached, reached_at) in itertools.pairwise(spec.history):
            seconds = (reached_at - left_at).total_seconds()
            took.setdefault((left.value, reached.value), []).append(seconds)

    return {
        "initiativesByStage": [
            {"stage": stage, "focusArea": area, "initiatives": at_stage[stage, area]}
            for stage, area in sorted(at_stage)
        ],
        "stageDurations": [
            {
                "fromStage": left,
                "toStage": reached,
                "moves": len(took[left, reached]),
                "medianDays": statistics.median(took[left, reached]) / 86_400,
            }
            for left, reached in sorted(took)
        ],
        "organizationsByCountry": [
            {
                "country": {"code": code},
                "members": by_country[code, True],
                "guests": by_country[code, False],
            }
            # By country name: Albania, Kenya, Moldova.
            for code in ("AL", "KE", "MD")
        ],
        "organizationsByKind": [
            {"kind": kind, "members": by_kind[kind, True], "guests": by_kind[kind, False]}
            for kind in sorted({kind for kind, _ in by_kind})
        ],
        "membersJoinedByYear": [{"year": year, "members": joined[year]} for year in sorted(joined)],
        "invitationsByYear": invitations,
        "eventsByYear": [
            {
                "year": year,
                "kind": kind,
                "events": events[year, kind],
                "completed": completed[year, kind],
                "cancelled": cancelled[year, kind],
            }
            for year, kind in sorted(events)
        ],
        "attendancesByYear": [
            {
                "year": year,
                "role": role,
                "attendances": attendances[year, role],
                "organizations": attendees[year, role],
            }
            for year, role in sorted(attendances)
        ],
    }


def test_the_expected_figures_cover_each_case() -> None:
    """The lists above hold what the figures must get right (so the test below can fail)."""
    admin = expected_figures(ADMIN)
    assert admin["membersJoinedByYear"] == [
        {"year": 2021, "members": 1},
        {"year": 2022, "members": 2},
        {"year": 2023, "members": 1},
    ]
    assert [(r["year"], r["expired"], r["pending"]) for r in admin["invitationsByYear"]] == [
        (2022, 2, 0),
        (2023, 0, 1),
    ]
    assert [r["acceptanceRate"] for r in admin["invitationsByYear"]] == [0.4, 0.0]
    assert [r["disclosed"] for r in expected_figures(PARTNER)["invitationsByYear"]] == [
        True,
        False,
    ]
    assert admin["stageDurations"] == [
        {"fromStage": "IDEA", "toStage": "INCUBATING", "moves": 4, "medianDays": 7.5},
        {"fromStage": "INCUBATING", "toStage": "PILOTING", "moves": 1, "medianDays": 30.0},
        {"fromStage": "INCUBATING", "toStage": "SHELVED", "moves": 1, "medianDays": 1.0},
        {"fromStage": "SHELVED", "toStage": "INCUBATING", "moves": 1, "medianDays": 24.0},
    ]
    assert {(r["year"], r["kind"]) for r in admin["eventsByYear"]} == {
        (2021, "ONLINE_MEETING"),
        (2022, "ONLINE_MEETING"),
        (2022, "HYBRID"),
        (2022, "IN_PERSON"),
    }


@pytest.mark.parametrize(
    "principal",
    [
        pytest.param(ADMIN, id="admin"),
        pytest.param(PARTNER, id="partner"),
        pytest.param(Principal(Role.ORGANIZATION, 1, organization_is_member=True), id="member"),
    ],
)
async def test_the_figures_of_a_club(
    session_factory: SessionFactory, run: Any, principal: Principal
) -> None:
    await build(session_factory)
    response = await run(STATISTICS, principal=principal, now=NOW)
    assert response == {
        "data": {"clubStatistics": {"asOf": NOW.isoformat(), **expected_figures(principal)}}
    }


async def test_one_statement_per_group_of_figures(
    session_factory: SessionFactory, run: Any, count_statements: Any
) -> None:
    await build(session_factory)
    await run(STATISTICS, principal=PARTNER, now=NOW)  # warm the pool
    with count_statements() as log:
        response = await run(STATISTICS, principal=PARTNER, now=NOW)
    assert "errors" not in response
    assert log.count == STATISTICS_STATEMENTS
    assert all("GROUP BY" in statement for statement in log.statements)
    # Twice the club: the same statements.
    await build(session_factory)
    with count_statements() as log:
        response = await run(STATISTICS, principal=PARTNER, now=NOW)
    assert log.count == STATISTICS_STATEMENTS
    assert response["data"]["clubStatistics"]["membersJoinedByYear"][1] == {
        "year": 2022,
        "members": 4,
    }


async def test_an_empty_club_has_no_rows_and_no_rate(run: Any) -> None:
    response = await run(STATISTICS, principal=PARTNER, now=NOW)
    figures = response["data"]["clubStatistics"]
    assert figures.pop("asOf") == NOW.isoformat()
    assert figures == {key: [] for key in figures}


async def test_a_year_with_nothing_decided_has_no_acceptance_rate(
    session_factory: SessionFactory, run: Any
) -> None:
    md = (await country_ids(session_factory, "MD"))["MD"]
    inviter = organization(md, member=True)
    guests = [organization(md) for _ in range(2)]
    await add(session_factory, inviter, *guests)
    await add(
        session_factory,
        invitation(inviter.id, guests[0].id, created_at=NOW - timedelta(days=1)),
    )
    response = await run(
        "{ clubStatistics { invitationsByYear { year pending acceptanceRate } } }",
        principal=ADMIN,
        now=NOW,
    )
    assert response == {
        "data": {
            "clubStatistics": {
                "invitationsByYear": [{"year": 2023, "pending": 1, "acceptanceRate": None}]
            }
        }
    }


def reachable_types(schema: Schema, root: str, stop: set[str]) -> set[str]:
    core = graphql_core_schema(schema)
    seen: set[str] = set()
    waiting = [root]
    while waiting:
        name = waiting.pop()
        if name in seen or name in stop:
            continue
        seen.add(name)
        graphql_type = core.type_map[name]
        if isinstance(graphql_type, GraphQLObjectType):
            waiting += [get_named_type(f.type).name for f in graphql_type.fields.values()]
    return seen


def test_the_statistics_hold_only_public_aggregates(schema: Schema) -> None:
    """Below clubStatistics: public fields only, no invitation, no organization (so no
    contact data); a country is the graph's own `Country`, with its own declared audiences."""
    core = graphql_core_schema(schema)
    types = reachable_types(schema, "ClubStatistics", stop={"Country"})
    assert "Invitation" not in types and "Organization" not in types
    for name in types:
        graphql_type = core.type_map[name]
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_name, definition in graphql_type.fields.items():
            facts = facts_of(definition)
            audience = facts.audience if facts else Audience.PUBLIC
            assert audience is Audience.PUBLIC, f"{name}.{field_name}"
    # Every list below it declares its size (the cost limit's), and holds non-null rows.
    statistics = core.type_map["ClubStatistics"]
    assert isinstance(statistics, GraphQLObjectType)
    for definition in statistics.fields.values():
        listed = definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else None
        if isinstance(listed, GraphQLList):
            facts = facts_of(definition)
            assert facts is not None and facts.list_size is not None


async def test_the_initiative_figures_lists_are_observed_as_their_groups(
    schema: Schema, session_factory: SessionFactory
) -> None:
    """What the cost estimate assumes for the two initiative lists (resolvers/list_sizes.py):
    as many rows as the figures list."""
    await build(session_factory)
    observer = ListSizeObserver(session_factory, observations_of(graphql_core_schema(schema)))
    snapshot = await observer.refresh()
    assert snapshot is not None
    figures = expected_figures(ADMIN)
    assert (
        (
            snapshot.sizes["statistics.initiative_stages"],
            snapshot.sizes["statistics.stage_moves"],
        )
        == (len(figures["initiativesByStage"]), len(figures["stageDurations"]))
        == (4, 4)
    )
