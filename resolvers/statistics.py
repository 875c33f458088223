"""The club's statistics: each group of figures is one aggregate statement (GROUP BY) run in
the database; nothing is counted in Python. Definitions: docs/statistics.md.

Times are judged at the request's one clock reading (`Context.now`), which the answer states
as `asOf`: an invitation still pending past its expiry counts as expired, an event counts
once it has started.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    Float,
    Select,
    Subquery,
    and_,
    case,
    cast,
    distinct,
    func,
    null,
    or_,
    select,
)

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
from club.statistics import discloses_invitation_outcomes
from db import models
from db.aggregates import SECONDS_PER_DAY, elapsed_seconds, median_by, utc_year
from resolvers.context import Info
from resolvers.list_sizes import Observation


@dataclass(frozen=True, slots=True)
class CountryMembership:
    country: models.Country
    members: int
    guests: int


@dataclass(frozen=True, slots=True)
class KindMembership:
    kind: OrganizationKind
    members: int
    guests: int


@dataclass(frozen=True, slots=True)
class MembersJoined:
    year: int
    members: int


@dataclass(frozen=True, slots=True)
class InvitationOutcomes:
    """A year's invitations; the outcomes are None where they are not disclosed
    (club/statistics.py)."""

    year: int
    sent: int
    disclosed: bool
    accepted: int | None
    declined: int | None
    revoked: int | None
    expired: int | None
    pending: int | None
    acceptance_rate: float | None


@dataclass(frozen=True, slots=True)
class EventsHeld:
    year: int
    kind: EventKind
    events: int
    completed: int
    cancelled: int


@dataclass(frozen=True, slots=True)
class Attendances:
    year: int
    role: AttendanceRole
    attendances: int
    organizations: int


@dataclass(frozen=True, slots=True)
class InitiativesAtStage:
    stage: InitiativeStage
    focus_area: FocusArea
    initiatives: int


@dataclass(frozen=True, slots=True)
class StageDurations:
    from_stage: InitiativeStage
    to_stage: InitiativeStage
    moves: int
    median_days: float


async def _rows(info: Info, statement: Executable) -> Sequence[Any]:
    async with info.context.session_factory() as session:
        return (await session.execute(statement)).all()


def _number_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many rows of the group meet `condition` (0 when none)."""
    return func.sum(case((condition, 1), else_=0))


_is_member = models.Organization.status == OrganizationStatus.MEMBER
_is_guest = models.Organization.status == OrganizationStatus.GUEST


def _groups(name: str, groups: Select[*tuple[Any, ...]]) -> Observation:
    """How many rows a figure lists in the data (the cost estimate's observation,
    resolvers/list_sizes.py): its distinct groups, whatever the clock (so at least as many
    as of any `asOf`)."""
    return Observation(
        f"statistics.{name}", select(func.count()).select_from(groups.distinct().subquery())
    )


def _stage_steps() -> Subquery:
    """Each move of an initiative between stages (its history, proposal included as the
    move to IDEA): the stage it left, the stage it reached, and the whole seconds between."""
    change = models.InitiativeStageChange
    initiative, in_order = change.initiative_id, (change.changed_at, change.id)
    history = select(
        func.lag(change.stage).over(partition_by=initiative, order_by=in_order).label("from_stage"),
        change.stage.label("to_stage"),
        func.lag(change.changed_at)
        .over(partition_by=initiative, order_by=in_order)
        .label("from_at"),
        change.changed_at.label("to_at"),
    ).subquery("history")
    return (
        select(
            history.c.from_stage,
            history.c.to_stage,
            elapsed_seconds(history.c.from_at, history.c.to_at).label("seconds"),
        )
        .where(history.c.from_stage.is_not(None))
        .subquery("steps")
    )


COUNTRIES_WITH_ORGANIZATIONS = _groups("countries", select(models.Organization.country_id))
KINDS_OF_ORGANIZATIONS = _groups("kinds", select(models.Organization.kind))
YEARS_MEMBERS_JOINED = _groups(
    "years_joined", select(utc_year(models.Organization.joined_at)).where(_is_member)
)
YEARS_OF_INVITATIONS = _groups("invitation_years", select(models.Invitation.year))
YEARS_AND_KINDS_OF_EVENTS = _groups(
    "event_years", select(utc_year(models.Event.starts_at), models.Event.kind)
)
YEARS_AND_ROLES_OF_ATTENDANCES = _groups(
    "attendance_years",
    select(utc_year(models.Event.starts_at), models.Attendance.role).join(
        models.Event, models.Event.id == models.Attendance.event_id
    ),
)
STAGES_AND_FOCUS_AREAS = _groups(
    "initiative_stages",
    select(models.Initiative.stage, models.Initiative.focus_area),
)
_STEPS = _stage_steps()
MOVES_BETWEEN_STAGES = _groups("stage_moves", select(_STEPS.c.from_stage, _STEPS.c.to_stage))


async def organizations_by_country(info: Info) -> list[CountryMembership]:
    """Members and guests of each country that has any, by country name."""
    statement = (
        select(models.Country, _number_where(_is_member), _number_where(_is_guest))
        .join(models.Organization, models.Organization.country_id == models.Country.id)
        .group_by(models.Country.id)
        .order_by(models.Country.name)
    )
    return [CountryMembership(*row) for row in await _rows(info, statement)]


async def organizations_by_kind(info: Info) -> list[KindMembership]:
    """Members and guests of each kind of organization that has any."""
    kind = models.Organization.kind
    statement = (
        select(kind, _number_where(_is_member), _number_where(_is_guest))
        .group_by(kind)
        .order_by(kind)
    )
    return [KindMembership(*row) for row in await _rows(info, statement)]


async def members_joined_by_year(info: Info) -> list[MembersJoined]:
    """Today's members by the UTC year they joined (`joinedAt`)."""
    year = utc_year(models.Organization.joined_at)
    statement = select(year, func.count()).where(_is_member).group_by(year).order_by(year)
    return [MembersJoined(*row) for row in await _rows(info, statement)]


async def invitations_by_year(info: Info) -> list[InvitationOutcomes]:
    """Invitations by the year whose quota they count against (the UTC year they were sent),
    with each outcome and the acceptance rate: accepted / (accepted + declined + expired),
    null when none of those."""
    now = info.context.now
    invitation = models.Invitation
    status = invitation.status
    expired = or_(
        status == InvitationStatus.EXPIRED,
        and_(status == InvitationStatus.PENDING, invitation.expires_at <= now),
    )
    pending = and_(status == InvitationStatus.PENDING, invitation.expires_at > now)
    counts = (
        select(
            invitation.year.label("year"),
            func.count().label("sent"),
            _number_where(status == InvitationStatus.ACCEPTED).label("accepted"),
            _number_where(status == InvitationStatus.DECLINED).label("declined"),
            _number_where(status == InvitationStatus.REVOKED).label("revoked"),
            _number_where(expired).label("expired"),
            _number_where(pending).label("pending"),
        )
        .group_by(invitation.year)
        .subquery("counts")
    )
    decided = counts.c.accepted + counts.c.declined + counts.c.expired
    rate = case((decided == 0, null()), else_=cast(counts.c.accepted, Float) / decided)
    statement = select(counts, rate.label("acceptance_rate")).order_by(counts.c.year)
    principal = info.context.principal
    outcomes = []
    for year, sent, accepted, declined, revoked, expired_, pending_, acceptance_rate in await _rows(
        info, statement
    ):
        if discloses_invitation_outcomes(principal, sent):
            outcomes.append(
                InvitationOutcomes(
                    year,
                    sent,
                    True,
                    accepted,
                    declined,
                    revoked,
                    expired_,
                    pending_,
                    acceptance_rate,
                )
            )
        else:
            outcomes.append(
                InvitationOutcomes(year, sent, False, None, None, None, None, None, None)
            )
    return outcomes


async def events_by_year(info: Info) -> list[EventsHeld]:
    """Events that have started, by UTC year of their start and kind: all of them (cancelled
    ones too), those marked completed, those cancelled."""
    event = models.Event
    year = utc_year(event.starts_at)
    statement = (
        select(
            year,
            event.kind,
            func.count(),
            _number_where(event.status == EventStatus.COMPLETED),
            _number_where(event.status == EventStatus.CANCELLED),
        )
        .where(event.starts_at <= info.context.now)
        .group_by(year, event.kind)
        .order_by(year, event.kind)
    )
    return [EventsHeld(*row) for row in await _rows(info, statement)]


async def attendances_by_year(info: Info) -> list[Attendances]:
    """Attendances of events that have started and were not cancelled, by UTC year of the
    event's start and role: how many, and how many organizations they were."""
    event, attendance = models.Event, models.Attendance
    year = utc_year(event.starts_at)
    statement = (
        select(
            year,
            attendance.role,
            func.count(),
            func.count(distinct(attendance.organization_id)),
        )
        .join(event, event.id == attendance.event_id)
        .where(event.starts_at <= info.context.now, event.status != EventStatus.CANCELLED)
        .group_by(year, attendance.role)
        .order_by(year, attendance.role)
    )
    return [Attendances(*row) for row in await _rows(info, statement)]


async def initiatives_by_stage(info: Info) -> list[InitiativesAtStage]:
    """Initiatives by the stage they are at and their focus area."""
    initiative = models.Initiative
    statement = (
        select(initiative.stage, initiative.focus_area, func.count())
        .group_by(initiative.stage, initiative.focus_area)
        .order_by(initiative.stage, initiative.focus_area)
    )
    return [InitiativesAtStage(*row) for row in await _rows(info, statement)]


async def stage_durations(info: Info) -> list[StageDurations]:
    """For each move between two stages that happened: how many times, and the median time
    it took (days, from reaching the first stage to reaching the second)."""
    async with info.context.session_factory() as session:
        medians = median_by(
            _STEPS, ["from_stage", "to_stage"], "seconds", dialect=session.get_bind().dialect.name
        ).subquery("medians")
        statement = select(
            medians.c.from_stage,
            medians.c.to_stage,
            medians.c.size,
            medians.c.median / SECONDS_PER_DAY,
        ).order_by(medians.c.from_stage, medians.c.to_stage)
        return [StageDurations(*row) for row in (await session.execute(statement)).all()]
