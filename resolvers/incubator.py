"""The ideas incubator: programs and initiatives, their lookups and lists; proposing,
editing, partnering and moving initiatives; recording a program's graduates; the
`initiativeUpdates` feed. The rules are club/incubator.py's."""

from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from club import incubator
from club.access import Principal, organization_acted_for
from club.enums import INITIATIVE_UPDATES, ActivityKind, FocusArea, InitiativeStage, Role
from club.errors import ErrorCode, PayloadRefusal, found
from club.ids import decode_id, id_of
from club.incubator import Actor, InitiativeFacts
from club.validation import (
    COUNTRY_CODE_LENGTH,
    SLUG_LENGTH,
    TITLE_LENGTH,
    argument,
    country_code_of,
    exactly_one_key,
    optional_text,
    text,
)
from db import models
from db.activity import Subject, append_activity
from db.notifier import LiveEvent
from resolvers.context import Info
from resolvers.list_sizes import Observation
from resolvers.mutations import locked, mutation, transaction
from resolvers.pagination import Page, SortOrder, page_size, paginate
from resolvers.subscriptions import follow

BY_PROPOSAL = SortOrder("initiatives", (models.Initiative.created_at, models.Initiative.id))
PROGRAMS_BY_NAME = SortOrder(
    "incubatorPrograms", (models.IncubatorProgram.name, models.IncubatorProgram.id)
)


def _cohorts_of_program() -> Observation:
    """`IncubatorProgram.cohorts`: the most years one program has, among its graduates' and
    its initiatives' cohorts (a union: each year once)."""
    years = union(
        select(
            models.ProgramGraduate.program_id.label("program_id"),
            models.ProgramGraduate.year.label("year"),
        ),
        select(models.Initiative.program_id, models.Initiative.cohort_year).where(
            models.Initiative.cohort_year.is_not(None)
        ),
    ).subquery()
    per_program = (
        select(func.count().label("size")).select_from(years).group_by(years.c.program_id)
    ).subquery()
    return Observation("cohorts_of_program", select(func.max(per_program.c.size)))


COHORTS_OF_PROGRAM = _cohorts_of_program()


@dataclass(frozen=True, slots=True)
class Supporting:
    """A supporter as a mutation names it: an organization's global id, its commitment."""

    organization_id: str
    commitment: str | None = None


# --- reads -------------------------------------------------------------------------------


async def initiatives(
    info: Info,
    *,
    first: int | None = None,
    after: str | None = None,
    stage: InitiativeStage | None = None,
    focus_area: FocusArea | None = None,
    country_code: str | None = None,
    program_id: str | None = None,
    working_group_id: str | None = None,
) -> Page[models.Initiative]:
    statement = select(models.Initiative)
    if stage is not None:
        statement = statement.where(models.Initiative.stage == stage)
    if focus_area is not None:
        statement = statement.where(models.Initiative.focus_area == focus_area)
    if country_code is not None:
        code = country_code_of(
            argument(country_code.strip(), "countryCode", max_length=COUNTRY_CODE_LENGTH)
        )
        statement = statement.where(
            models.Initiative.id.in_(
                select(models.InitiativeCountry.initiative_id)
                .join(models.Country)
                .where(models.Country.code == code)
            )
        )
    if program_id is not None:
        program = decode_id("IncubatorProgram", program_id, field="programId")
        statement = statement.where(models.Initiative.program_id == program)
    if working_group_id is not None:
        group = decode_id("WorkingGroup", working_group_id, field="workingGroupId")
        statement = statement.where(models.Initiative.working_group_id == group)
    return await paginate(
        info.context.session_factory,
        statement,
        BY_PROPOSAL,
        first=page_size(first, info.context.settings),
        after=after,
    )


async def initiative(info: Info, *, id: str) -> models.Initiative | None:
    return await info.context.loaders.initiative.load(decode_id("Initiative", id))


async def incubator_programs(
    info: Info, *, first: int | None = None, after: str | None = None
) -> Page[models.IncubatorProgram]:
    return await paginate(
        info.context.session_factory,
        select(models.IncubatorProgram),
        PROGRAMS_BY_NAME,
        first=page_size(first, info.context.settings),
        after=after,
    )


async def incubator_program(
    info: Info, *, id: str | None = None, slug: str | None = None
) -> models.IncubatorProgram | None:
    key, value = exactly_one_key(id=id, slug=slug)
    loaders = info.context.loaders
    if key == "id":
        return await loaders.incubator_program.load(decode_id("IncubatorProgram", value))
    return await loaders.incubator_program_by_slug.load(
        argument(value, "slug", max_length=SLUG_LENGTH)
    )


# --- what mutations share ----------------------------------------------------------------


def _actor(principal: Principal) -> Actor:
    return Actor(principal.organization_id, is_admin=principal.role is Role.ADMIN)


async def _locked_initiative(session: AsyncSession, id: str, field: str) -> models.Initiative:
    """The initiative, locked against concurrent changes until the transaction ends."""
    return await locked(
        session, models.Initiative, id_of("Initiative", id, field), "initiative", field
    )


async def _facts(session: AsyncSession, row: models.Initiative) -> InitiativeFacts:
    partners = await session.scalars(
        select(models.InitiativePartner.organization_id).where(
            models.InitiativePartner.initiative_id == row.id
        )
    )
    organizer_id = None
    if row.program_id is not None:
        organizer_id = await session.scalar(
            select(models.IncubatorProgram.organizer_id).where(
                models.IncubatorProgram.id == row.program_id
            )
        )
    shelved_from = None
    if row.stage is InitiativeStage.SHELVED:
        history = await session.scalars(
            select(models.InitiativeStageChange.stage)
            .where(models.InitiativeStageChange.initiative_id == row.id)
            .order_by(models.InitiativeStageChange.changed_at, models.InitiativeStageChange.id)
        )
        shelved_from = incubator.shelved_from(list(history))
    return InitiativeFacts(
        proposer_id=row.proposer_id,
        partner_ids=frozenset(partners),
        stage=row.stage,
        shelved_from=shelved_from,
        organizer_id=organizer_id,
    )


async def _log(
    session: AsyncSession,
    kind: ActivityKind,
    row: models.Initiative,
    now: datetime,
    **payload: Any,
) -> None:
    # The stage and focus area as they are after this change: `initiativeUpdates` filters
    # on them, so a replay delivers what was delivered live.
    await append_activity(
        session,
        kind,
        occurred_at=now,
        subject=Subject.of(models.Initiative, row.id),
        related={
            "organization_id": row.proposer_id,
            "incubator_program_id": row.program_id,
            "working_group_id": row.working_group_id,
        },
        payload={"stage": row.stage.value, "focus_area": row.focus_area.value, **payload},
    )


def _raise(refusal: PayloadRefusal | None) -> None:
    if refusal is not None:
        raise refusal


def _country_codes(codes: Sequence[str]) -> list[str]:
    """Alpha-2 codes as stored, 1 to MAX_COUNTRIES of them, checked before any database work."""
    if not 1 <= len(codes) <= incubator.MAX_COUNTRIES:
        raise PayloadRefusal(
            ErrorCode.INVALID_INPUT,
            f"Name 1 to {incubator.MAX_COUNTRIES} countries.",
            "countryCodes",
        )
    if any(len(code.strip()) > COUNTRY_CODE_LENGTH for code in codes):
        raise PayloadRefusal(
            ErrorCode.INVALID_INPUT,
            "`countryCodes` holds ISO 3166-1 alpha-2 codes of 2 letters.",
            "countryCodes",
        )
    return list(dict.fromkeys(country_code_of(code) for code in codes))


def _supporters(given: Sequence[Supporting]) -> dict[int, str | None]:
    """Supporters as organization id → commitment, checked before any database work."""
    if len(given) > incubator.MAX_SUPPORTERS:
        raise PayloadRefusal(
            ErrorCode.INVALID_INPUT,
            f"Name at most {incubator.MAX_SUPPORTERS} supporters.",
            "supporters",
        )
    supporters: dict[int, str | None] = {}
    for supporter in given:
        pk = id_of("Organization", supporter.organization_id, "supporters")
        if pk in supporters:
            raise PayloadRefusal(
                ErrorCode.INVALID_INPUT, "A supporter is named once.", "supporters"
            )
        supporters[pk] = optional_text(
            supporter.commitment,
            "commitment",
            max_length=incubator.COMMITMENT_LENGTH,
            multiline=True,
        )
    return supporters


async def _replace_supporters(
    session: AsyncSession, initiative_id: int, supporters: Mapping[int, str | None]
) -> None:
    known = set(
        await session.scalars(
            select(models.Organization.id).where(models.Organization.id.in_(supporters))
        )
    )
    if known != set(supporters):
        raise PayloadRefusal(
            ErrorCode.NOT_FOUND, "A supporter is not an organization of the club.", "supporters"
        )
    await session.execute(
        delete(models.InitiativeSupporter).where(
            models.InitiativeSupporter.initiative_id == initiative_id
        )
    )
    session.add_all(
        models.InitiativeSupporter(
            initiative_id=initiative_id, organization_id=pk, commitment=commitment
        )
        for pk, commitment in supporters.items()
    )


async def _replace_countries(session: AsyncSession, initiative_id: int, codes: list[str]) -> None:
    """The initiative's countries, now those of `codes` (checked by `_country_codes`)."""
    rows = await session.execute(
        select(models.Country.code, models.Country.id).where(models.Country.code.in_(codes))
    )
    ids: dict[str, int] = {code: pk for code, pk in rows}
    missing = [code for code in codes if code not in ids]
    if missing:
        raise PayloadRefusal(
            ErrorCode.INVALID_INPUT,
            f"`{missing[0]}` is not an ISO 3166-1 alpha-2 code.",
            "countryCodes",
        )
    await session.execute(
        delete(models.InitiativeCountry).where(
            models.InitiativeCountry.initiative_id == initiative_id
        )
    )
    session.add_all(
        models.InitiativeCountry(initiative_id=initiative_id, country_id=ids[code])
        for code in codes
    )


async def _program_id(session: AsyncSession, given: str | None) -> int | None:
    if given is None:
        return None
    pk = id_of("IncubatorProgram", given, "programId")
    found(await session.get(models.IncubatorProgram, pk), "incubator program", "programId")
    return pk


async def _working_group_id(session: AsyncSession, given: str | None) -> int | None:
    if given is None:
        return None
    pk = id_of("WorkingGroup", given, "workingGroupId")
    found(await session.get(models.WorkingGroup, pk), "working group", "workingGroupId")
    return pk


def _texts(given: Mapping[str, Any]) -> dict[str, Any]:
    """The initiative's free text among `given`, trimmed and checked."""
    # name: (maximum length, whether it may run over several lines)
    limits = {
        "title": (TITLE_LENGTH, False),
        "summary": (incubator.SUMMARY_LENGTH, True),
        "problem": (incubator.PROBLEM_LENGTH, True),
    }
    return {
        name: text(given[name] or "", name, min_length=3, max_length=limit, multiline=multiline)
        for name, (limit, multiline) in limits.items()
        if name in given
    }


# --- mutations ---------------------------------------------------------------------------


@mutation(Role.ADMIN, Role.ORGANIZATION)
async def propose_initiative(
    info: Info,
    *,
    title: str,
    summary: str,
    problem: str,
    focus_area: FocusArea,
    country_codes: Sequence[str],
    proposer_id: str | None = None,
    program_id: str | None = None,
    cohort_year: int | None = None,
    working_group_id: str | None = None,
    supporters: Sequence[Supporting] | None = None,
) -> models.Initiative:
    """A member or a guest (or the secretariat for one) proposes an idea: it starts as IDEA,
    and its history starts with that step."""
    context = info.context
    principal = context.principal
    proposer_pk = organization_acted_for(principal, proposer_id, "proposerId")
    texts = _texts({"title": title, "summary": summary, "problem": problem})
    _raise(incubator.check_cohort(program_id is not None, cohort_year))
    codes = _country_codes(country_codes)
    supporting = _supporters(supporters or ())
    now = context.now
    async with transaction(info) as session:
        found(await session.get(models.Organization, proposer_pk), "organization", "proposerId")
        row = models.Initiative(
            **texts,
            focus_area=focus_area,
            proposer_id=proposer_pk,
            program_id=await _program_id(session, program_id),
            cohort_year=cohort_year,
            working_group_id=await _working_group_id(session, working_group_id),
            stage=InitiativeStage.IDEA,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        await session.flush()
        await _replace_countries(session, row.id, codes)
        await _replace_supporters(session, row.id, supporting)
        session.add(
            models.InitiativeStageChange(
                initiative_id=row.id,
                stage=InitiativeStage.IDEA,
                changed_at=now,
                changed_by_id=principal.organization_id,
            )
        )
        await session.flush()
        await _log(session, ActivityKind.INITIATIVE_PROPOSED, row, now)
    return row


@mutation(Role.ADMIN, Role.ORGANIZATION)
async def update_initiative(info: Info, *, id: str, given: Mapping[str, Any]) -> models.Initiative:
    """Its proposer, a partner or the secretariat changes an initiative. `given` holds the
    fields to change (python names); None clears an optional one. The program and cohort
    change only while it is an idea."""
    changes = _texts(given)
    for name, field in (("focus_area", "focusArea"), ("country_codes", "countryCodes")):
        if name in given and given[name] is None:
            raise PayloadRefusal(ErrorCode.INVALID_INPUT, f"`{field}` cannot be cleared.", field)
    if "focus_area" in given:
        changes["focus_area"] = given["focus_area"]
    supporting = None if given.get("supporters") is None else _supporters(given["supporters"])
    codes = None if given.get("country_codes") is None else _country_codes(given["country_codes"])
    async with transaction(info) as session:
        row = await _locked_initiative(session, id, "id")
        now = info.context.clock()  # when the initiative's lock was obtained
        facts = await _facts(session, row)
        _raise(incubator.check_editor(_actor(info.context.principal), facts))
        if "program_id" in given or "cohort_year" in given:
            _raise(incubator.check_program_change(facts))
            if "program_id" in given:
                changes["program_id"] = await _program_id(session, given["program_id"])
            program = changes.get("program_id", row.program_id)
            cohort = given.get("cohort_year", None if program is None else row.cohort_year)
            _raise(incubator.check_cohort(program is not None, cohort))
            changes["cohort_year"] = cohort
        if "working_group_id" in given:
            changes["working_group_id"] = await _working_group_id(
                session, given["working_group_id"]
            )
        changed = sorted(changes)
        if codes is not None:
            await _replace_countries(session, row.id, codes)
            changed.append("countries")
        if supporting is not None:
            await _replace_supporters(session, row.id, supporting)
            changed.append("supporters")
        for column, value in changes.items():
            setattr(row, column, value)
        row.updated_at = now
        await session.flush()
        await _log(session, ActivityKind.INITIATIVE_UPDATED, row, now, changed=sorted(changed))
    return row


async def _partner(session: AsyncSession, organization_id: str) -> models.Organization | None:
    return await session.get(
        models.Organization, id_of("Organization", organization_id, "organizationId")
    )


@mutation(Role.ADMIN, Role.ORGANIZATION)
async def add_initiative_partner(
    info: Info, *, initiative_id: str, organization_id: str
) -> models.Initiative:
    """Its proposer, a partner or the secretariat adds an organization of the club as a
    partner (once)."""
    async with transaction(info) as session:
        row = await _locked_initiative(session, initiative_id, "initiativeId")
        now = info.context.clock()  # when the initiative's lock was obtained
        facts = await _facts(session, row)
        _raise(incubator.check_editor(_actor(info.context.principal), facts))
        partner = await _partner(session, organization_id)
        refusal = incubator.check_partner(
            facts,
            id_of("Organization", organization_id, "organizationId"),
            partner_in_club=partner is not None,
            name="" if partner is None else partner.name,
        )
        _raise(refusal)
        assert partner is not None
        session.add(
            models.InitiativePartner(initiative_id=row.id, organization_id=partner.id, added_at=now)
        )
        row.updated_at = now
        await session.flush()
        await _log(
            session,
            ActivityKind.INITIATIVE_PARTNER_ADDED,
            row,
            now,
            partner_id=partner.id,
        )
    return row


@mutation(Role.ADMIN, Role.ORGANIZATION)
async def remove_initiative_partner(
    info: Info, *, initiative_id: str, organization_id: str
) -> models.Initiative:
    partner_pk = id_of("Organization", organization_id, "organizationId")
    async with transaction(info) as session:
        row = await _locked_initiative(session, initiative_id, "initiativeId")
        now = info.context.clock()  # when the initiative's lock was obtained
        facts = await _facts(session, row)
        _raise(incubator.check_editor(_actor(info.context.principal), facts))
        partner = await session.get(models.Organization, partner_pk)
        name = "That organization" if partner is None else partner.name
        _raise(incubator.check_partner_removal(facts, partner_pk, name=name))
        await session.execute(
            delete(models.InitiativePartner).where(
                models.InitiativePartner.initiative_id == row.id,
                models.InitiativePartner.organization_id == partner_pk,
            )
        )
        row.updated_at = now
        await session.flush()
        await _log(
            session, ActivityKind.INITIATIVE_PARTNER_REMOVED, row, now, partner_id=partner_pk
        )
    return row


@mutation(Role.ADMIN, Role.ORGANIZATION)
async def move_initiative_stage(
    info: Info, *, id: str, stage: InitiativeStage, note: str | None = None
) -> models.Initiative:
    """The program's organizer (or, with no program, the proposer) or the secretariat moves
    an initiative one step, to the shelf or back from it; the history keeps who, when, why."""
    principal = info.context.principal
    note = optional_text(note, "note", max_length=incubator.NOTE_LENGTH, multiline=True)
    async with transaction(info) as session:
        row = await _locked_initiative(session, id, "id")
        now = info.context.clock()  # when the initiative's lock was obtained
        facts = await _facts(session, row)
        _raise(incubator.check_stage_move(_actor(principal), facts, stage))
        session.add(
            models.InitiativeStageChange(
                initiative_id=row.id,
                stage=stage,
                changed_at=now,
                changed_by_id=principal.organization_id,
                note=note,
            )
        )
        row.stage = stage
        row.updated_at = now
        await session.flush()
        await _log(
            session,
            ActivityKind.INITIATIVE_STAGE_CHANGED,
            row,
            now,
            from_stage=facts.stage.value,
        )
    return row


@mutation(Role.ADMIN, Role.ORGANIZATION)
async def record_graduation(
    info: Info, *, program_id: str, organization_id: str, year: int
) -> models.IncubatorProgram:
    """The program's organizer (or the secretariat) records that an organization graduated
    in `year`."""
    program_pk = id_of("IncubatorProgram", program_id, "programId")
    graduate_pk = id_of("Organization", organization_id, "organizationId")
    async with transaction(info) as session:
        program = await locked(
            session, models.IncubatorProgram, program_pk, "incubator program", "programId"
        )
        now = info.context.clock()  # when the program's lock was obtained
        graduate = found(
            await session.get(models.Organization, graduate_pk), "organization", "organizationId"
        )
        already = await session.scalar(
            select(
                exists().where(
                    models.ProgramGraduate.program_id == program.id,
                    models.ProgramGraduate.organization_id == graduate.id,
                )
            )
        )
        refusal = incubator.check_graduation(
            _actor(info.context.principal),
            organizer_id=program.organizer_id,
            year=year,
            already_graduated=bool(already),
            name=graduate.name,
        )
        _raise(refusal)
        session.add(
            models.ProgramGraduate(
                program_id=program.id, organization_id=graduate.id, year=year, recorded_at=now
            )
        )
        await session.flush()
        await append_activity(
            session,
            ActivityKind.GRADUATION_RECORDED,
            occurred_at=now,
            subject=Subject.of(models.IncubatorProgram, program.id),
            related={"organization_id": graduate.id},
            payload={"year": year},
        )
    return program


# --- the feed ----------------------------------------------------------------------------


async def initiative_updates(
    info: Info,
    *,
    stage: InitiativeStage | None = None,
    focus_area: FocusArea | None = None,
    after: str | None = None,
) -> AsyncGenerator[LiveEvent, None]:
    """Changes to initiatives (in one stage or focus area, as the change left them), from
    the activity log: await it, then iterate (closing the generator unsubscribes)."""

    def wants(live: LiveEvent) -> bool:
        payload = live.entry.payload
        return (
            live.kind in INITIATIVE_UPDATES
            and live.subject_as(models.Initiative) is not None
            and (stage is None or payload.get("stage") == stage.value)
            and (focus_area is None or payload.get("focus_area") == focus_area.value)
        )

    return follow(info, wants, after)
