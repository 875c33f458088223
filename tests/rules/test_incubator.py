"""The incubator's rules without a database or GraphQL: every refusal and its code."""

import pytest

from club import incubator
from club.enums import InitiativeStage
from club.errors import ErrorCode, PayloadRefusal
from club.incubator import Actor, InitiativeFacts

IDEA, INCUBATING, PILOTING, IMPLEMENTED, SHELVED = (
    InitiativeStage.IDEA,
    InitiativeStage.INCUBATING,
    InitiativeStage.PILOTING,
    InitiativeStage.IMPLEMENTED,
    InitiativeStage.SHELVED,
)
PROPOSER, PARTNER, ORGANIZER, OUTSIDER = 1, 2, 3, 4
ADMIN = Actor(None, is_admin=True)


def actor(organization_id: int) -> Actor:
    return Actor(organization_id)


def facts(
    stage: InitiativeStage = IDEA,
    *,
    incubated: bool = True,
    shelved_from: InitiativeStage | None = None,
) -> InitiativeFacts:
    return InitiativeFacts(
        proposer_id=PROPOSER,
        partner_ids=frozenset({PARTNER}),
        stage=stage,
        shelved_from=shelved_from,
        organizer_id=ORGANIZER if incubated else None,
    )


def code(refusal: PayloadRefusal | None) -> ErrorCode | None:
    return refusal.code if refusal else None


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (actor(PROPOSER), None),
        (actor(PARTNER), None),
        (ADMIN, None),
        (actor(ORGANIZER), ErrorCode.NOT_INITIATIVE_EDITOR),  # organizing is not editing
        (actor(OUTSIDER), ErrorCode.NOT_INITIATIVE_EDITOR),
    ],
)
def test_only_the_proposer_a_partner_or_the_secretariat_edits(
    who: Actor, expected: ErrorCode | None
) -> None:
    assert code(incubator.check_editor(who, facts())) == expected


@pytest.mark.parametrize(
    ("current", "shelved_from", "to", "expected"),
    [
        # One step forward at a time.
        (IDEA, None, INCUBATING, None),
        (INCUBATING, None, PILOTING, None),
        (PILOTING, None, IMPLEMENTED, None),
        (IDEA, None, PILOTING, ErrorCode.STAGE_CHANGE_NOT_ALLOWED),
        (INCUBATING, None, IMPLEMENTED, ErrorCode.STAGE_CHANGE_NOT_ALLOWED),
        (PILOTING, None, INCUBATING, ErrorCode.STAGE_CHANGE_NOT_ALLOWED),  # never back
        (INCUBATING, None, IDEA, ErrorCode.STAGE_CHANGE_NOT_ALLOWED),
        (IDEA, None, IDEA, ErrorCode.STAGE_CHANGE_NOT_ALLOWED),  # nowhere is not a move
        (IMPLEMENTED, None, IMPLEMENTED, ErrorCode.STAGE_CHANGE_NOT_ALLOWED),
        # To the shelf from any stage but the last; back only to where it was.
        (IDEA, None, SHELVED, None),
        (PILOTING, None, SHELVED, None),
        (IMPLEMENTED, None, SHELVED, ErrorCode.STAGE_CHANGE_NOT_ALLOWED),
        (SHELVED, INCUBATING, INCUBATING, None),
        (SHELVED, INCUBATING, PILOTING, ErrorCode.STAGE_CHANGE_NOT_ALLOWED),
        (SHELVED, INCUBATING, IDEA, ErrorCode.STAGE_CHANGE_NOT_ALLOWED),
        (SHELVED, INCUBATING, SHELVED, ErrorCode.STAGE_CHANGE_NOT_ALLOWED),
    ],
)
def test_stages_move_one_step_forward_or_to_the_shelf_and_back(
    current: InitiativeStage,
    shelved_from: InitiativeStage | None,
    to: InitiativeStage,
    expected: ErrorCode | None,
) -> None:
    initiative = facts(current, shelved_from=shelved_from)
    assert code(incubator.check_stage_move(actor(ORGANIZER), initiative, to)) == expected
    assert code(incubator.check_stage_move(ADMIN, initiative, to)) == expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (actor(ORGANIZER), None),
        (ADMIN, None),
        (actor(PROPOSER), ErrorCode.NOT_PROGRAM_ORGANIZER),
        (actor(PARTNER), ErrorCode.NOT_PROGRAM_ORGANIZER),
        (actor(OUTSIDER), ErrorCode.NOT_PROGRAM_ORGANIZER),
    ],
)
def test_only_the_organizer_or_the_secretariat_moves_an_incubated_initiative(
    who: Actor, expected: ErrorCode | None
) -> None:
    assert code(incubator.check_stage_move(who, facts(INCUBATING), PILOTING)) == expected
    assert code(incubator.check_stage_move(who, facts(INCUBATING), SHELVED)) == expected


def test_an_initiative_without_a_program_is_shelved_by_its_proposer_and_moves_on_in_one() -> None:
    alone = facts(IDEA, incubated=False)
    assert code(incubator.check_stage_move(actor(PROPOSER), alone, SHELVED)) is None
    shelved = facts(SHELVED, incubated=False, shelved_from=IDEA)
    assert code(incubator.check_stage_move(actor(PROPOSER), shelved, IDEA)) is None
    assert (
        code(incubator.check_stage_move(actor(PARTNER), alone, SHELVED))
        == ErrorCode.NOT_INITIATIVE_EDITOR
    )
    refusal = incubator.check_stage_move(actor(PROPOSER), alone, INCUBATING)
    assert refusal is not None
    assert (refusal.code, refusal.field) == (ErrorCode.NOT_INCUBATED, "stage")
    assert code(incubator.check_stage_move(ADMIN, alone, INCUBATING)) == ErrorCode.NOT_INCUBATED


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ([IDEA], None),
        ([IDEA, INCUBATING], None),
        ([IDEA, SHELVED], IDEA),
        ([IDEA, INCUBATING, PILOTING, SHELVED], PILOTING),
        ([IDEA, SHELVED, IDEA, INCUBATING, SHELVED], INCUBATING),
        ([IDEA, SHELVED, IDEA], None),
    ],
)
def test_a_shelved_initiative_returns_to_the_stage_before_its_last_shelving(
    history: list[InitiativeStage], expected: InitiativeStage | None
) -> None:
    assert incubator.shelved_from(history) == expected


@pytest.mark.parametrize(
    ("partner", "in_club", "expected"),
    [
        (OUTSIDER, True, None),
        (OUTSIDER, False, ErrorCode.PARTNER_NOT_IN_CLUB),
        (PARTNER, True, ErrorCode.ALREADY_PARTNER),
        (PROPOSER, True, ErrorCode.ALREADY_PARTNER),
    ],
)
def test_a_partner_is_of_the_club_and_partners_once(
    partner: int, in_club: bool, expected: ErrorCode | None
) -> None:
    refusal = incubator.check_partner(facts(), partner, partner_in_club=in_club, name="X")
    assert code(refusal) == expected
    assert refusal is None or refusal.field == "organizationId"


def test_only_a_partner_is_removed() -> None:
    assert incubator.check_partner_removal(facts(), PARTNER, name="P") is None
    refusal = incubator.check_partner_removal(facts(), OUTSIDER, name="Outsider")
    assert refusal is not None
    assert (refusal.code, refusal.message) == (
        ErrorCode.NOT_A_PARTNER,
        "Outsider is not a partner of this initiative.",
    )


@pytest.mark.parametrize(
    ("stage", "shelved_from", "expected"),
    [
        (IDEA, None, None),
        (SHELVED, IDEA, None),
        (INCUBATING, None, ErrorCode.PROGRAM_LOCKED),
        (SHELVED, PILOTING, ErrorCode.PROGRAM_LOCKED),
    ],
)
def test_the_program_is_chosen_while_an_idea(
    stage: InitiativeStage, shelved_from: InitiativeStage | None, expected: ErrorCode | None
) -> None:
    initiative = facts(stage, shelved_from=shelved_from)
    assert code(incubator.check_program_change(initiative)) == expected


@pytest.mark.parametrize(
    ("program", "year", "expected"),
    [
        (True, None, None),
        (False, None, None),
        (True, 2022, None),
        (False, 2022, ErrorCode.INVALID_INPUT),
        (True, 1999, ErrorCode.INVALID_INPUT),
        (True, 2101, ErrorCode.INVALID_INPUT),
    ],
)
def test_a_cohort_is_a_programs_year(program: bool, year: int | None, expected: ErrorCode) -> None:
    assert code(incubator.check_cohort(program, year)) == expected


@pytest.mark.parametrize(
    ("who", "year", "already", "expected"),
    [
        (actor(ORGANIZER), 2021, False, None),
        (ADMIN, 2021, False, None),
        (actor(PROPOSER), 2021, False, ErrorCode.NOT_PROGRAM_ORGANIZER),
        (actor(ORGANIZER), 1900, False, ErrorCode.INVALID_INPUT),
        (actor(ORGANIZER), 2021, True, ErrorCode.ALREADY_GRADUATED),
    ],
)
def test_the_organizer_records_each_graduate_once(
    who: Actor, year: int, already: bool, expected: ErrorCode | None
) -> None:
    refusal = incubator.check_graduation(
        who, organizer_id=ORGANIZER, year=year, already_graduated=already, name="G"
    )
    assert code(refusal) == expected
