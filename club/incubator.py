"""The ideas incubator's rules as pure functions over plain values: who may propose, edit
and move an initiative, how its stage moves, who may partner it, who graduates.

Each check returns None when the action is allowed, or a `PayloadRefusal` with the
incubator's error code (as club/rules.py does for invitations). Nothing here touches the
database or GraphQL. The maximum lengths of the incubator's free text live here too
(docs/security.md lists them with the others).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from club.enums import InitiativeStage
from club.errors import ErrorCode, PayloadRefusal

# Maximum lengths, in characters after trimming (docs/security.md).
SUMMARY_LENGTH = 1000  # an initiative's summary
PROBLEM_LENGTH = 5000  # the problem it addresses
NOTE_LENGTH = 2000  # a stage change's note
COMMITMENT_LENGTH = 500  # what a supporter commits, in words
MAX_COUNTRIES = 20  # countries an initiative runs in
MAX_SUPPORTERS = 20  # supporters named at once
# The years a cohort or a graduation may name.
FIRST_YEAR, LAST_YEAR = 2000, 2100

# The way forward, one step at a time.
FORWARD = {
    InitiativeStage.IDEA: InitiativeStage.INCUBATING,
    InitiativeStage.INCUBATING: InitiativeStage.PILOTING,
    InitiativeStage.PILOTING: InitiativeStage.IMPLEMENTED,
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: the secretariat (ADMIN), or an organization."""

    organization_id: int | None
    is_admin: bool = False


@dataclass(frozen=True, slots=True)
class InitiativeFacts:
    proposer_id: int
    partner_ids: frozenset[int]
    stage: InitiativeStage
    # The stage it was shelved from (None unless SHELVED): where unshelving returns it.
    shelved_from: InitiativeStage | None = None
    # The organizer of the program that incubates it (None: no program).
    organizer_id: int | None = None

    @property
    def incubated(self) -> bool:
        return self.organizer_id is not None


def check_editor(actor: Actor, initiative: InitiativeFacts) -> PayloadRefusal | None:
    """Only its proposer, one of its partners, or the secretariat edits an initiative (its
    text, countries, program, working group, supporters and partners)."""
    if actor.is_admin or actor.organization_id in (
        {initiative.proposer_id} | initiative.partner_ids
    ):
        return None
    return PayloadRefusal(
        ErrorCode.NOT_INITIATIVE_EDITOR,
        "Only the proposer, a partner or the secretariat edits an initiative.",
        "id",
    )


def check_program_change(initiative: InitiativeFacts) -> PayloadRefusal | None:
    """An initiative chooses its program and cohort while it is an idea; once a program
    incubates it, they are fixed (the organizer moves it, and would lose it otherwise)."""
    stage = initiative.shelved_from or initiative.stage
    if stage is InitiativeStage.IDEA:
        return None
    return PayloadRefusal(
        ErrorCode.PROGRAM_LOCKED,
        f"The initiative is past the idea stage ({stage.value}): its program is fixed.",
        "programId",
    )


def check_cohort(program_given: bool, cohort_year: int | None) -> PayloadRefusal | None:
    """A cohort is a program's: a year needs a program, and a plausible year."""
    if cohort_year is None:
        return None
    if not program_given:
        return PayloadRefusal(
            ErrorCode.INVALID_INPUT, "A cohort year needs a program.", "cohortYear"
        )
    return check_year(cohort_year, "cohortYear")


def check_year(year: int, field: str) -> PayloadRefusal | None:
    if FIRST_YEAR <= year <= LAST_YEAR:
        return None
    return PayloadRefusal(
        ErrorCode.INVALID_INPUT,
        f"`{field}` must be a year from {FIRST_YEAR} to {LAST_YEAR}.",
        field,
    )


def check_stage_move(
    actor: Actor, initiative: InitiativeFacts, to: InitiativeStage
) -> PayloadRefusal | None:
    """Who moves it, and where to.

    - An incubated initiative (it has a program) is moved by the program's organizer or the
      secretariat; one that is not, by its proposer or the secretariat.
    - Forward one step at a time (IDEA → INCUBATING → PILOTING → IMPLEMENTED); INCUBATING
      and on need a program.
    - To SHELVED from any stage but IMPLEMENTED; from SHELVED back to the stage it left.
    """
    if refusal := _check_mover(actor, initiative):
        return refusal
    current = initiative.stage
    if current is InitiativeStage.SHELVED:
        if to is initiative.shelved_from:
            return None
        back = initiative.shelved_from.value if initiative.shelved_from else "its stage"
        return _not_allowed(f"A shelved initiative goes back to {back}, and only there.")
    if to is InitiativeStage.SHELVED:
        if current is InitiativeStage.IMPLEMENTED:
            return _not_allowed("An implemented initiative is not shelved.")
        return None
    if FORWARD.get(current) is not to:
        step = FORWARD.get(current)
        where = f"to {step.value} or SHELVED" if step else "nowhere (it is implemented)"
        return _not_allowed(f"From {current.value} an initiative moves {where}.")
    if not initiative.incubated:
        return PayloadRefusal(
            ErrorCode.NOT_INCUBATED,
            f"An initiative moves to {to.value} in a program: name its program first.",
            "stage",
        )
    return None


def _check_mover(actor: Actor, initiative: InitiativeFacts) -> PayloadRefusal | None:
    if actor.is_admin:
        return None
    if initiative.incubated:
        if actor.organization_id == initiative.organizer_id:
            return None
        return PayloadRefusal(
            ErrorCode.NOT_PROGRAM_ORGANIZER,
            "Only the program's organizer or the secretariat moves an incubated initiative.",
            "id",
        )
    if actor.organization_id == initiative.proposer_id:
        return None
    return PayloadRefusal(
        ErrorCode.NOT_INITIATIVE_EDITOR,
        "Only the proposer or the secretariat moves an initiative no program incubates.",
        "id",
    )


def _not_allowed(message: str) -> PayloadRefusal:
    return PayloadRefusal(ErrorCode.STAGE_CHANGE_NOT_ALLOWED, message, "stage")


def shelved_from(history: Sequence[InitiativeStage]) -> InitiativeStage | None:
    """The stage a shelved initiative left, from its stages in order (None: not shelved)."""
    if len(history) < 2 or history[-1] is not InitiativeStage.SHELVED:
        return None
    return history[-2]


def check_partner(
    initiative: InitiativeFacts, partner_id: int, *, partner_in_club: bool, name: str
) -> PayloadRefusal | None:
    """A partner is an organization of the club (a guest or a member), and partners once;
    its proposer takes part already."""
    if not partner_in_club:
        return PayloadRefusal(
            ErrorCode.PARTNER_NOT_IN_CLUB,
            "A partner must be an organization of the club.",
            "organizationId",
        )
    if partner_id == initiative.proposer_id:
        return PayloadRefusal(
            ErrorCode.ALREADY_PARTNER,
            f"{name} proposed this initiative: it takes part already.",
            "organizationId",
        )
    if partner_id in initiative.partner_ids:
        return PayloadRefusal(
            ErrorCode.ALREADY_PARTNER,
            f"{name} is a partner of this initiative already.",
            "organizationId",
        )
    return None


def check_partner_removal(
    initiative: InitiativeFacts, partner_id: int, *, name: str
) -> PayloadRefusal | None:
    if partner_id in initiative.partner_ids:
        return None
    return PayloadRefusal(
        ErrorCode.NOT_A_PARTNER, f"{name} is not a partner of this initiative.", "organizationId"
    )


def check_graduation(
    actor: Actor, *, organizer_id: int, year: int, already_graduated: bool, name: str
) -> PayloadRefusal | None:
    """The program's organizer (or the secretariat) records who graduated, once each."""
    if not actor.is_admin and actor.organization_id != organizer_id:
        return PayloadRefusal(
            ErrorCode.NOT_PROGRAM_ORGANIZER,
            "Only the program's organizer or the secretariat records its graduates.",
            "programId",
        )
    if refusal := check_year(year, "year"):
        return refusal
    if already_graduated:
        return PayloadRefusal(
            ErrorCode.ALREADY_GRADUATED,
            f"{name} has graduated from this program already.",
            "organizationId",
        )
    return None
