"""The ideas incubator's demo data: KyivLEPP, run by the Kyiv hub and supported by the
International Renaissance Foundation, its graduates from North Macedonia and Georgia, and
initiatives at every stage, each with its history. Part of the launch seed (db/seed.py),
in its transaction; idempotent as the rest."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from club.enums import FocusArea, InitiativeStage
from db.models import (
    IncubatorProgram,
    Initiative,
    InitiativeCountry,
    InitiativePartner,
    InitiativeStageChange,
    InitiativeSupporter,
    Organization,
    ProgramGraduate,
    ProgramSupporter,
    WorkingGroup,
)
from db.seeding import SeedReport, get_or_add

PROGRAM_STARTED = datetime(2020, 9, 1, 9, 0, tzinfo=UTC)
KYIVLEPP = "kyivlepp"
ORGANIZER = "kyiv-legal-empowerment"


@dataclass(frozen=True)
class DemoStep:
    stage: InitiativeStage
    at: datetime
    by: str | None  # an organization's slug; None: the secretariat
    note: str | None = None


@dataclass(frozen=True)
class DemoInitiative:
    title: str
    summary: str
    problem: str
    focus_area: FocusArea
    countries: list[str]
    proposer: str
    partners: list[str]
    cohort_year: int
    working_group: str
    history: list[DemoStep]  # the first step is the proposal, to IDEA
    supporters: dict[str, str] = field(default_factory=dict)  # slug → commitment


GRADUATES = [("skopje-klepp-graduates", 2021), ("tbilisi-community-justice", 2021)]

INITIATIVES = [
    DemoInitiative(
        title="Paralegal hotline for pandemic-related evictions",
        summary="A phone and messenger hotline staffed by community paralegals who help "
        "tenants facing eviction after losing income in the pandemic.",
        problem="Tenants who fell behind on rent during lockdowns are evicted without "
        "knowing the moratoria and payment plans they are entitled to.",
        focus_area=FocusArea.SOCIAL_PROBLEMS,
        countries=["MK"],
        proposer="skopje-klepp-graduates",
        partners=["macedonia-paralegals"],
        cohort_year=2021,
        working_group="paralegal-field-work",
        history=[
            DemoStep(
                InitiativeStage.IDEA,
                datetime(2021, 11, 2, 10, 0, tzinfo=UTC),
                "skopje-klepp-graduates",
            ),
            DemoStep(
                InitiativeStage.INCUBATING,
                datetime(2022, 1, 10, 10, 0, tzinfo=UTC),
                ORGANIZER,
                "Taken into KyivLEPP's 2021 cohort.",
            ),
            DemoStep(
                InitiativeStage.PILOTING,
                datetime(2022, 6, 1, 10, 0, tzinfo=UTC),
                ORGANIZER,
                "Piloting in Skopje and Tetovo.",
            ),
        ],
        supporters={"irf": "Two years of the hotline's paralegal staff costs."},
    ),
    DemoInitiative(
        title="Pro bono matching platform",
        summary="An online platform that matches legal-aid organizations' cases with "
        "volunteer lawyers by field, language and time available.",
        problem="Lawyers willing to work pro bono rarely hear of the cases that need them.",
        focus_area=FocusArea.PRO_BONO_LAWYERS,
        countries=["AL", "PL"],
        proposer="poland-pro-bono",
        partners=["albania-legal-aid"],
        cohort_year=2022,
        working_group="pro-bono-lawyers",
        history=[
            DemoStep(
                InitiativeStage.IDEA, datetime(2022, 3, 1, 9, 0, tzinfo=UTC), "poland-pro-bono"
            ),
            DemoStep(
                InitiativeStage.INCUBATING,
                datetime(2022, 5, 16, 9, 0, tzinfo=UTC),
                ORGANIZER,
                "Taken into KyivLEPP's 2022 cohort.",
            ),
        ],
    ),
    DemoInitiative(
        title="Online legal-aid triage tool",
        summary="A questionnaire that tells people which legal aid they qualify for and "
        "books them with the nearest provider.",
        problem="People call the wrong service and give up before reaching legal aid.",
        focus_area=FocusArea.TECH_SOLUTIONS,
        countries=["MD"],
        proposer="moldova-legal-empowerment",
        partners=["argentina-a2j-lab", "chisinau-law-clinic"],
        cohort_year=2022,
        working_group="tech-solutions",
        history=[
            DemoStep(
                InitiativeStage.IDEA,
                datetime(2022, 2, 15, 15, 0, tzinfo=UTC),
                "moldova-legal-empowerment",
            ),
            DemoStep(InitiativeStage.INCUBATING, datetime(2022, 4, 4, 9, 0, tzinfo=UTC), ORGANIZER),
            DemoStep(
                InitiativeStage.PILOTING,
                datetime(2022, 10, 3, 9, 0, tzinfo=UTC),
                ORGANIZER,
                "Piloting with two legal-aid offices in Chisinau.",
            ),
            DemoStep(
                InitiativeStage.IMPLEMENTED,
                datetime(2023, 9, 1, 9, 0, tzinfo=UTC),
                ORGANIZER,
                "Runs nationwide on the legal-aid council's website.",
            ),
        ],
        supporters={"irf": "Development of the first version and its user research."},
    ),
    DemoInitiative(
        title="Health-justice partnership for long COVID benefits",
        summary="Paralegals in clinics help patients with long COVID claim the disability "
        "and sick-leave benefits they are owed.",
        problem="Patients with long COVID are refused benefits and do not appeal.",
        focus_area=FocusArea.PUBLIC_HEALTH,
        countries=["GE"],
        proposer="tbilisi-community-justice",
        partners=["kenya-justice-access"],
        cohort_year=2021,
        working_group="paralegal-field-work",
        history=[
            DemoStep(
                InitiativeStage.IDEA,
                datetime(2023, 3, 6, 9, 0, tzinfo=UTC),
                "tbilisi-community-justice",
            ),
        ],
    ),
    DemoInitiative(
        title="Legal needs dashboard after the pandemic",
        summary="A public dashboard of legal needs surveys from members' countries, "
        "comparable across years, for research and fundraising.",
        problem="Members have no comparable evidence of how legal needs changed.",
        focus_area=FocusArea.DATA_AND_EVIDENCE,
        countries=["AR", "KE"],
        proposer="argentina-a2j-lab",
        partners=["kenya-justice-access"],
        cohort_year=2022,
        working_group="tech-solutions",
        history=[
            DemoStep(
                InitiativeStage.IDEA, datetime(2022, 4, 20, 9, 0, tzinfo=UTC), "argentina-a2j-lab"
            ),
            DemoStep(InitiativeStage.INCUBATING, datetime(2022, 7, 1, 9, 0, tzinfo=UTC), ORGANIZER),
            DemoStep(
                InitiativeStage.SHELVED,
                datetime(2023, 1, 16, 9, 0, tzinfo=UTC),
                ORGANIZER,
                "Waiting for the 2023 surveys' data.",
            ),
        ],
    ),
]


async def seed_incubator(
    session: AsyncSession,
    report: SeedReport,
    *,
    orgs: Mapping[str, Organization],
    groups: Mapping[str, WorkingGroup],
    countries: Mapping[str, int],
) -> None:
    """Add what is missing of the incubator's demo data to the seed's transaction."""
    program = await get_or_add(
        session,
        report,
        IncubatorProgram,
        {"slug": KYIVLEPP},
        name="Kyiv Legal Empowerment Practical Program (KyivLEPP)",
        description="The club's ideas incubator: legal empowerment practitioners turn ideas "
        "into working access-to-justice solutions, with mentors and seed funding.",
        organizer_id=orgs[ORGANIZER].id,
        created_at=PROGRAM_STARTED,
    )
    await get_or_add(
        session,
        report,
        ProgramSupporter,
        {"program_id": program.id, "organization_id": orgs["irf"].id},
        commitment="Funds the program's training weeks and its initiatives' seed grants.",
    )
    for slug, year in GRADUATES:
        await get_or_add(
            session,
            report,
            ProgramGraduate,
            {"program_id": program.id, "organization_id": orgs[slug].id},
            year=year,
            recorded_at=datetime(year, 12, 15, 12, 0, tzinfo=UTC),
        )
    for demo in INITIATIVES:
        proposed, last = demo.history[0].at, demo.history[-1]
        initiative = await get_or_add(
            session,
            report,
            Initiative,
            {"title": demo.title},
            summary=demo.summary,
            problem=demo.problem,
            focus_area=demo.focus_area,
            proposer_id=orgs[demo.proposer].id,
            program_id=program.id,
            cohort_year=demo.cohort_year,
            working_group_id=groups[demo.working_group].id,
            stage=last.stage,
            created_at=proposed,
            updated_at=last.at,
        )
        for code in demo.countries:
            await get_or_add(
                session,
                report,
                InitiativeCountry,
                {"initiative_id": initiative.id, "country_id": countries[code]},
            )
        for slug in demo.partners:
            await get_or_add(
                session,
                report,
                InitiativePartner,
                {"initiative_id": initiative.id, "organization_id": orgs[slug].id},
                added_at=proposed,
            )
        for slug, commitment in demo.supporters.items():
            await get_or_add(
                session,
                report,
                InitiativeSupporter,
                {"initiative_id": initiative.id, "organization_id": orgs[slug].id},
                commitment=commitment,
            )
        for step in demo.history:
            await get_or_add(
                session,
                report,
                InitiativeStageChange,
                {"initiative_id": initiative.id, "stage": step.stage, "changed_at": step.at},
                changed_by_id=orgs[step.by].id if step.by else None,
                note=step.note,
            )
