"""ClubStatistics: aggregate figures a funder or a researcher can cite, each group computed
by one statement in the database (resolvers/statistics.py), stamped with `asOf`.
Definitions and the disclosure policy: docs/statistics.md."""

from datetime import datetime
from typing import Self

import strawberry

from club.enums import InitiativeStage  # a GraphQL enum as schema/incubator.py declares it
from resolvers import statistics
from resolvers.context import Info
from schema.countries import Country
from schema.domain import Domain
from schema.enums import AttendanceRole, EventKind, FocusArea, OrganizationKind
from schema.fields import field

# What the cost limit assumes: ISO 3166-1 has 249 countries; a figure per year covers the
# club's years (launched in 2021), thirty of them with room to spare.
COUNTRIES = 249
YEARS = 30


@strawberry.type(description="Organizations based in one country.")
class CountryMembership:
    country: Country
    members: int
    guests: int

    @classmethod
    def from_row(cls, row: statistics.CountryMembership) -> Self:
        return cls(country=Country.from_row(row.country), members=row.members, guests=row.guests)


@strawberry.type(description="Organizations of one kind.")
class KindMembership:
    kind: OrganizationKind
    members: int
    guests: int

    @classmethod
    def from_row(cls, row: statistics.KindMembership) -> Self:
        return cls(kind=row.kind, members=row.members, guests=row.guests)


@strawberry.type(description="Today's members that joined in one year (UTC).")
class MembersJoinedInYear:
    year: int
    members: int

    @classmethod
    def from_row(cls, row: statistics.MembersJoined) -> Self:
        return cls(year=row.year, members=row.members)


@strawberry.type(
    description=(
        "Invitations sent in one year (UTC, the year whose quota they count against) and "
        "what became of them by `asOf`. Outside the secretariat, the outcomes of a year with "
        "fewer than 5 invitations are null (`disclosed: false`): they would describe single "
        "invitations."
    )
)
class InvitationsInYear:
    year: int
    sent: int
    disclosed: bool = strawberry.field(description="Whether the outcomes below are shown.")
    accepted: int | None
    declined: int | None
    revoked: int | None
    expired: int | None = strawberry.field(
        description="Expired, or still pending past their expiry time."
    )
    pending: int | None = strawberry.field(description="Pending and not expired.")
    acceptance_rate: float | None = strawberry.field(
        description="accepted / (accepted + declined + expired); null when that is 0 / 0."
    )

    @classmethod
    def from_row(cls, row: statistics.InvitationOutcomes) -> Self:
        return cls(
            year=row.year,
            sent=row.sent,
            disclosed=row.disclosed,
            accepted=row.accepted,
            declined=row.declined,
            revoked=row.revoked,
            expired=row.expired,
            pending=row.pending,
            acceptance_rate=row.acceptance_rate,
        )


@strawberry.type(description="Events of one kind that started in one year (UTC) by `asOf`.")
class EventsInYear:
    year: int
    kind: EventKind
    events: int = strawberry.field(description="All of them, cancelled ones included.")
    completed: int
    cancelled: int

    @classmethod
    def from_row(cls, row: statistics.EventsHeld) -> Self:
        return cls(
            year=row.year,
            kind=row.kind,
            events=row.events,
            completed=row.completed,
            cancelled=row.cancelled,
        )


@strawberry.type(
    description="Attendances in one role of events not cancelled that started in one year (UTC)."
)
class AttendancesInYear:
    year: int
    role: AttendanceRole
    attendances: int
    organizations: int = strawberry.field(description="Distinct organizations among them.")

    @classmethod
    def from_row(cls, row: statistics.Attendances) -> Self:
        return cls(
            year=row.year,
            role=row.role,
            attendances=row.attendances,
            organizations=row.organizations,
        )


@strawberry.type(description="Initiatives at one stage in one focus area.")
class InitiativesAtStage:
    stage: InitiativeStage
    focus_area: FocusArea
    initiatives: int

    @classmethod
    def from_row(cls, row: statistics.InitiativesAtStage) -> Self:
        return cls(stage=row.stage, focus_area=row.focus_area, initiatives=row.initiatives)


@strawberry.type(
    description=(
        "Initiatives' moves from one stage to another (proposal is the move to IDEA, so "
        "IDEA → INCUBATING is how long an idea waited): how many, and the median time from "
        "reaching the first stage to reaching the second."
    )
)
class StageDurations:
    from_stage: InitiativeStage
    to_stage: InitiativeStage
    moves: int
    median_days: float = strawberry.field(description="Days, with their fraction.")

    @classmethod
    def from_row(cls, row: statistics.StageDurations) -> Self:
        return cls(
            from_stage=row.from_stage,
            to_stage=row.to_stage,
            moves=row.moves,
            median_days=row.median_days,
        )


@strawberry.type(
    description=(
        "Aggregate figures about the club, computed in the database when `asOf` says. "
        "Only rows with something to count are listed, oldest year first."
    )
)
class ClubStatistics:
    as_of: datetime = field(
        description="When these figures were computed (a cached answer keeps its time).",
        snapshot=True,
    )

    @field(
        description="Members and guests by country, by country name.",
        list_size=COUNTRIES,
        observed_by=statistics.COUNTRIES_WITH_ORGANIZATIONS,
    )
    async def organizations_by_country(self, info: Info) -> list[CountryMembership]:
        rows = await statistics.organizations_by_country(info)
        return [CountryMembership.from_row(row) for row in rows]

    @field(
        description="Members and guests by kind.",
        list_size=len(OrganizationKind),
        observed_by=statistics.KINDS_OF_ORGANIZATIONS,
    )
    async def organizations_by_kind(self, info: Info) -> list[KindMembership]:
        return [
            KindMembership.from_row(row) for row in await statistics.organizations_by_kind(info)
        ]

    @field(
        description="Members by the year they joined.",
        list_size=YEARS,
        observed_by=statistics.YEARS_MEMBERS_JOINED,
    )
    async def members_joined_by_year(self, info: Info) -> list[MembersJoinedInYear]:
        rows = await statistics.members_joined_by_year(info)
        return [MembersJoinedInYear.from_row(row) for row in rows]

    @field(
        description="Invitations by year, with their outcomes and acceptance rate.",
        list_size=YEARS,
        observed_by=statistics.YEARS_OF_INVITATIONS,
        snapshot=True,  # a pending invitation expires with the clock
    )
    async def invitations_by_year(self, info: Info) -> list[InvitationsInYear]:
        rows = await statistics.invitations_by_year(info)
        return [InvitationsInYear.from_row(row) for row in rows]

    @field(
        description="Events that have started, by year and kind.",
        list_size=YEARS * len(EventKind),
        observed_by=statistics.YEARS_AND_KINDS_OF_EVENTS,
        snapshot=True,  # a scheduled event starts with the clock
    )
    async def events_by_year(self, info: Info) -> list[EventsInYear]:
        return [EventsInYear.from_row(row) for row in await statistics.events_by_year(info)]

    @field(
        description="Attendances of events that have started, by year and role.",
        list_size=YEARS * len(AttendanceRole),
        observed_by=statistics.YEARS_AND_ROLES_OF_ATTENDANCES,
        snapshot=True,  # attendance recorded ahead of an event counts once it starts
    )
    async def attendances_by_year(self, info: Info) -> list[AttendancesInYear]:
        rows = await statistics.attendances_by_year(info)
        return [AttendancesInYear.from_row(row) for row in rows]

    @field(
        description="Initiatives by the stage they are at and their focus area.",
        list_size=len(InitiativeStage) * len(FocusArea),
        observed_by=statistics.STAGES_AND_FOCUS_AREAS,
    )
    async def initiatives_by_stage(self, info: Info) -> list[InitiativesAtStage]:
        rows = await statistics.initiatives_by_stage(info)
        return [InitiativesAtStage.from_row(row) for row in rows]

    @field(
        description="How long initiatives took between stages, for each move that happened.",
        list_size=len(InitiativeStage) ** 2,
        observed_by=statistics.MOVES_BETWEEN_STAGES,
    )
    async def stage_durations(self, info: Info) -> list[StageDurations]:
        return [StageDurations.from_row(row) for row in await statistics.stage_durations(info)]


@strawberry.type
class StatisticsQueries:
    @field(description="Aggregate figures about the club, for funders and researchers.")
    def club_statistics(self, info: Info) -> ClubStatistics:
        return ClubStatistics(as_of=info.context.now)


DOMAIN = Domain(query=StatisticsQueries)
