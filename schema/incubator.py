"""IncubatorProgram and Initiative: the ideas incubator (KyivLEPP and the initiatives it
incubates), their supporters, graduates, cohorts and stage history; the mutations that
propose, edit, partner and move initiatives and record graduations; `initiativeUpdates`.
(Organizations', working groups' and countries' initiatives: contributed here.)"""

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any, Self

import strawberry

from club.access import Audience
from club.cursors import activity_cursor
from club.enums import INITIATIVE_UPDATES, InitiativeStage, InitiativeUpdateKind
from club.ids import decode_id
from db import models
from db.notifier import LiveEvent
from resolvers import incubator
from resolvers.context import Info
from resolvers.loaders import Loaders
from schema.countries import Country
from schema.domain import Domain, updates_as
from schema.enums import FocusArea
from schema.fields import contributes_to, field, relation
from schema.ids import encode_id
from schema.inputs import given
from schema.organizations import Organization
from schema.pagination import Connection
from schema.payloads import Payload, UserError
from schema.working_groups import WorkingGroup

strawberry.enum(
    InitiativeStage,
    description="IDEA → INCUBATING → PILOTING → IMPLEMENTED, one step at a time; or SHELVED, "
    "and back to the stage it left.",
)
strawberry.enum(InitiativeUpdateKind, description="What happened to an initiative.")


@strawberry.type(description="An organization that supports a program or an initiative.")
class Supporter:
    commitment: str | None = field(
        description="What it commits, in words. Visible to admins, member organizations and "
        "the supporter itself.",
        audience=Audience.CLUB,
    )
    organization_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.InitiativeSupporter | models.ProgramSupporter) -> Self:
        return cls(commitment=row.commitment, organization_id=row.organization_id)

    def owner_ids(self) -> frozenset[int]:
        return frozenset((self.organization_id,))

    organization: Organization = relation(
        "organization", key="organization_id", to=Organization.from_row
    )


@strawberry.type(description="An organization that graduated from a program, and when.")
class Graduate:
    year: int
    organization_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.ProgramGraduate) -> Self:
        return cls(year=row.year, organization_id=row.organization_id)

    organization: Organization = relation(
        "organization", key="organization_id", to=Organization.from_row
    )


@strawberry.type(description="One step of an initiative's history, its proposal first.")
class StageChange:
    stage: InitiativeStage = strawberry.field(description="The stage it moved to.")
    changed_at: datetime
    note: str | None
    changed_by_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.InitiativeStageChange) -> Self:
        return cls(
            stage=row.stage,
            changed_at=row.changed_at,
            note=row.note,
            changed_by_id=row.changed_by_id,
        )

    changed_by: Organization | None = relation(
        "organization",
        key="changed_by_id",
        to=Organization.from_row,
        description="The organization that made the change; null: the secretariat.",
    )


@strawberry.federation.type(keys=["id"], description="A program of the ideas incubator.")
class IncubatorProgram:
    id: strawberry.ID
    slug: str
    name: str
    description: str | None
    pk: strawberry.Private[int]
    organizer_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.IncubatorProgram) -> Self:
        return cls(
            id=encode_id("IncubatorProgram", row.id),
            slug=row.slug,
            name=row.name,
            description=row.description,
            pk=row.id,
            organizer_id=row.organizer_id,
        )

    organizer: Organization = relation(
        "organization",
        key="organizer_id",
        to=Organization.from_row,
        description="The organization that runs it.",
    )
    supporters: list[Supporter] = relation(
        "supporters_of_program", key="pk", to=Supporter.from_row, many=True, list_size=10
    )
    graduates: list[Graduate] = relation(
        "graduates_of_program",
        key="pk",
        to=Graduate.from_row,
        many=True,
        list_size=50,
        description="Organizations that graduated, by year.",
    )
    initiatives: list["Initiative"] = relation(
        "initiatives_of_program",
        key="pk",
        to=lambda row: Initiative.from_row(row),
        many=True,
        list_size=50,
        description="The initiatives it incubates, in the order they were proposed.",
    )

    @field(
        description="Its cohorts, by year: the years of its graduates and of its initiatives.",
        list_size=10,
        observed_by=incubator.COHORTS_OF_PROGRAM,
    )
    async def cohorts(self, info: Info) -> list["Cohort"]:
        loaders = info.context.loaders
        graduates = await loaders.graduates_of_program.load(self.pk)
        initiatives = await loaders.initiatives_of_program.load(self.pk)
        years = {row.year for row in graduates} | {
            row.cohort_year for row in initiatives if row.cohort_year is not None
        }
        return [
            Cohort(
                year=year,
                graduates=[Graduate.from_row(row) for row in graduates if row.year == year],
                initiatives=[
                    Initiative.from_row(row) for row in initiatives if row.cohort_year == year
                ],
            )
            for year in sorted(years)
        ]

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Self | None:
        row = await info.context.loaders.incubator_program.load(decode_id("IncubatorProgram", id))
        return cls.from_row(row) if row else None


@strawberry.federation.type(keys=["id"], description="An idea the club incubates.")
class Initiative:
    id: strawberry.ID
    title: str
    summary: str
    problem: str = strawberry.field(description="The problem it addresses.")
    focus_area: FocusArea
    stage: InitiativeStage
    cohort_year: int | None = strawberry.field(description="The program's cohort, if any.")
    created_at: datetime = strawberry.field(description="When it was proposed.")
    updated_at: datetime
    pk: strawberry.Private[int]
    proposer_id: strawberry.Private[int]
    program_id: strawberry.Private[int | None]
    working_group_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.Initiative) -> Self:
        return cls(
            id=encode_id("Initiative", row.id),
            title=row.title,
            summary=row.summary,
            problem=row.problem,
            focus_area=row.focus_area,
            stage=row.stage,
            cohort_year=row.cohort_year,
            created_at=row.created_at,
            updated_at=row.updated_at,
            pk=row.id,
            proposer_id=row.proposer_id,
            program_id=row.program_id,
            working_group_id=row.working_group_id,
        )

    countries: list[Country] = relation(
        "countries_of_initiative",
        key="pk",
        to=Country.from_row,
        many=True,
        list_size=5,
        description="Where it runs, by name.",
    )
    proposer: Organization = relation("organization", key="proposer_id", to=Organization.from_row)
    partners: list[Organization] = relation(
        "partners_of_initiative",
        key="pk",
        to=Organization.from_row,
        many=True,
        list_size=10,
        description="Organizations taking part besides its proposer, by name.",
    )
    program: IncubatorProgram | None = relation(
        "incubator_program",
        key="program_id",
        to=IncubatorProgram.from_row,
        description="The program that incubates it.",
    )
    working_group: WorkingGroup | None = relation(
        "working_group", key="working_group_id", to=WorkingGroup.from_row
    )
    supporters: list[Supporter] = relation(
        "supporters_of_initiative", key="pk", to=Supporter.from_row, many=True, list_size=10
    )
    stage_history: list[StageChange] = relation(
        "stage_history_of_initiative",
        key="pk",
        to=StageChange.from_row,
        many=True,
        list_size=10,
        description="Its stages, oldest first.",
    )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Self | None:
        row = await info.context.loaders.initiative.load(decode_id("Initiative", id))
        return cls.from_row(row) if row else None


@strawberry.type(description="A program's cohort: the graduates and initiatives of one year.")
class Cohort:
    year: int
    # No more than the program has in all.
    graduates: list[Graduate] = field(
        list_size=20, observed_by=Loaders.graduates_of_program.observed()
    )
    initiatives: list[Initiative] = field(
        list_size=20, observed_by=Loaders.initiatives_of_program.observed()
    )


@contributes_to(Organization)
class OrganizationInitiatives(Organization):
    proposed_initiatives: list[Initiative] = relation(
        "initiatives_proposed_by", key="pk", to=Initiative.from_row, many=True, list_size=10
    )
    partnered_initiatives: list[Initiative] = relation(
        "initiatives_partnered_by",
        key="pk",
        to=Initiative.from_row,
        many=True,
        list_size=10,
        description="Initiatives it takes part in as a partner.",
    )
    incubator_programs: list[IncubatorProgram] = relation(
        "programs_organized_by",
        key="pk",
        to=IncubatorProgram.from_row,
        many=True,
        list_size=5,
        description="The incubator programs it runs.",
    )


@contributes_to(WorkingGroup)
class WorkingGroupInitiatives(WorkingGroup):
    initiatives: list[Initiative] = relation(
        "initiatives_of_working_group", key="pk", to=Initiative.from_row, many=True, list_size=20
    )


@contributes_to(Country)
class CountryInitiatives(Country):
    initiatives: list[Initiative] = relation(
        "initiatives_of_country",
        key="pk",
        to=Initiative.from_row,
        many=True,
        list_size=20,
        description="Initiatives that run here.",
    )


@strawberry.input(description="Narrows `initiatives`; all given conditions must hold.")
class InitiativeFilter:
    stage: InitiativeStage | None = None
    focus_area: FocusArea | None = None
    country_code: str | None = strawberry.field(
        default=None, description="Runs in this country (ISO alpha-2)."
    )
    program_id: strawberry.ID | None = None
    working_group_id: strawberry.ID | None = None


@strawberry.input(description="A supporter and what it commits.")
class SupporterInput:
    organization_id: strawberry.ID
    commitment: str | None = None


@strawberry.input(description="A new initiative; it starts as an IDEA.")
class ProposeInitiativeInput:
    title: str
    summary: str
    problem: str
    focus_area: FocusArea
    country_codes: list[str] = strawberry.field(description="Where it runs (ISO alpha-2).")
    proposer_id: strawberry.ID | None = strawberry.field(
        default=None, description="ADMIN: the proposing organization. Others propose as themselves."
    )
    program_id: strawberry.ID | None = None
    cohort_year: int | None = None
    working_group_id: strawberry.ID | None = None
    supporters: list[SupporterInput] | None = None


@strawberry.input(
    description="Fields to change; omitted fields stay, null clears an optional one. "
    "`countryCodes` and `supporters` replace the lists."
)
class UpdateInitiativeInput:
    title: str | None = strawberry.UNSET
    summary: str | None = strawberry.UNSET
    problem: str | None = strawberry.UNSET
    focus_area: FocusArea | None = strawberry.UNSET
    country_codes: list[str] | None = strawberry.UNSET
    program_id: strawberry.ID | None = strawberry.UNSET
    cohort_year: int | None = strawberry.UNSET
    working_group_id: strawberry.ID | None = strawberry.UNSET
    supporters: list[SupporterInput] | None = strawberry.UNSET


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """Input values as the resolvers take them: supporters as `Supporting`."""
    if values.get("supporters") is not None:
        values["supporters"] = [
            incubator.Supporting(str(item.organization_id), item.commitment)
            for item in values["supporters"]
        ]
    return values


@strawberry.type
class InitiativePayload(Payload):
    initiative: Initiative | None
    errors: list[UserError] = field(list_size=5)


@strawberry.type
class IncubatorProgramPayload(Payload):
    program: IncubatorProgram | None
    errors: list[UserError] = field(list_size=5)


@strawberry.type
class IncubatorQueries:
    @field(description="The club's initiatives, in the order they were proposed.")
    async def initiatives(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: InitiativeFilter | None = None,
    ) -> Connection[Initiative]:
        page = await incubator.initiatives(info, first=first, after=after, **given(filter))
        return Connection.of(page, Initiative.from_row)

    @field
    async def initiative(self, info: Info, id: strawberry.ID) -> Initiative | None:
        row = await incubator.initiative(info, id=id)
        return Initiative.from_row(row) if row else None

    @field(description="The incubator's programs, by name.")
    async def incubator_programs(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[IncubatorProgram]:
        page = await incubator.incubator_programs(info, first=first, after=after)
        return Connection.of(page, IncubatorProgram.from_row)

    @field(description="An incubator program by `id` or `slug`.")
    async def incubator_program(
        self, info: Info, id: strawberry.ID | None = None, slug: str | None = None
    ) -> IncubatorProgram | None:
        row = await incubator.incubator_program(info, id=id, slug=slug)
        return IncubatorProgram.from_row(row) if row else None


@strawberry.type
class IncubatorMutations:
    @strawberry.mutation(
        description="Propose an initiative (a member or a guest, or the secretariat for one)."
    )
    async def propose_initiative(
        self, info: Info, input: ProposeInitiativeInput
    ) -> InitiativePayload:
        return await InitiativePayload.of(
            incubator.propose_initiative(info, **_plain(given(input))), Initiative.from_row
        )

    @strawberry.mutation(
        description="Change an initiative (its proposer, a partner or the secretariat)."
    )
    async def update_initiative(
        self, info: Info, id: strawberry.ID, input: UpdateInitiativeInput
    ) -> InitiativePayload:
        return await InitiativePayload.of(
            incubator.update_initiative(info, id=id, given=_plain(given(input))),
            Initiative.from_row,
        )

    @strawberry.mutation(
        description="Add a partner organization (its proposer, a partner or the secretariat)."
    )
    async def add_initiative_partner(
        self, info: Info, initiative_id: strawberry.ID, organization_id: strawberry.ID
    ) -> InitiativePayload:
        return await InitiativePayload.of(
            incubator.add_initiative_partner(
                info, initiative_id=initiative_id, organization_id=organization_id
            ),
            Initiative.from_row,
        )

    @strawberry.mutation(
        description="Remove a partner (its proposer, a partner or the secretariat)."
    )
    async def remove_initiative_partner(
        self, info: Info, initiative_id: strawberry.ID, organization_id: strawberry.ID
    ) -> InitiativePayload:
        return await InitiativePayload.of(
            incubator.remove_initiative_partner(
                info, initiative_id=initiative_id, organization_id=organization_id
            ),
            Initiative.from_row,
        )

    @strawberry.mutation(
        description="Move an initiative one stage on, to SHELVED, or back from it (the "
        "program's organizer or the secretariat; with no program, its proposer)."
    )
    async def move_initiative_stage(
        self, info: Info, id: strawberry.ID, stage: InitiativeStage, note: str | None = None
    ) -> InitiativePayload:
        return await InitiativePayload.of(
            incubator.move_initiative_stage(info, id=id, stage=stage, note=note),
            Initiative.from_row,
        )

    @strawberry.mutation(
        description="Record that an organization graduated from a program (its organizer or "
        "the secretariat)."
    )
    async def record_graduation(
        self, info: Info, program_id: strawberry.ID, organization_id: strawberry.ID, year: int
    ) -> IncubatorProgramPayload:
        return await IncubatorProgramPayload.of(
            incubator.record_graduation(
                info, program_id=program_id, organization_id=organization_id, year=year
            ),
            IncubatorProgram.from_row,
        )


@strawberry.type(description="An initiative was proposed, changed, partnered or moved.")
class InitiativeUpdate:
    cursor: str
    kind: InitiativeUpdateKind
    initiative: Initiative
    stage: InitiativeStage = strawberry.field(description="Its stage after this change.")
    occurred_at: datetime

    @classmethod
    def from_live(cls, live: LiveEvent) -> Self:
        row = live.subject_as(models.Initiative)
        assert row is not None, "initiative rows name the initiative"
        return cls(
            cursor=activity_cursor(live.id),
            kind=INITIATIVE_UPDATES[live.kind],
            initiative=Initiative.from_row(row),
            stage=InitiativeStage(live.entry.payload["stage"]),
            occurred_at=live.entry.occurred_at,
        )


@strawberry.type
class IncubatorSubscriptions:
    @strawberry.subscription(
        description="Changes to initiatives (those the change left in `stage` or of "
        "`focusArea`, if given). With `after`, first every one since that cursor."
    )
    async def initiative_updates(
        self,
        info: Info,
        stage: InitiativeStage | None = None,
        focus_area: FocusArea | None = None,
        after: str | None = None,
    ) -> AsyncGenerator[InitiativeUpdate, None]:
        followed = await incubator.initiative_updates(
            info, stage=stage, focus_area=focus_area, after=after
        )
        return updates_as(followed, InitiativeUpdate.from_live)


DOMAIN = Domain(
    query=IncubatorQueries, mutation=IncubatorMutations, subscription=IncubatorSubscriptions
)
