"""The ideas incubator in the graph: programs and initiatives, their relations both ways,
the mutations and their refusals (each changes nothing), visibility of supporters'
commitments, filters, federation entities and statement counts."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from club.access import Principal
from club.enums import FocusArea, InitiativeStage, Role
from club.settings import Settings
from db.models import (
    ActivityLogEntry,
    InitiativeCountry,
    InitiativePartner,
    InitiativeSupporter,
    Organization,
    WorkingGroup,
)
from db.seed import seed
from resolvers.list_sizes import ListSizeObserver
from schema.cost import observations_of
from schema.ids import encode_id
from schema.strawberry_private import graphql_core_schema
from tests.factories import T0, activity_log, add, country_ids, initiative, organization, program
from tests.snapshots import snapshot

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
ADMIN = Principal(Role.ADMIN)
DAY = timedelta(days=1)
PARTNER_ROLE = Principal(Role.PARTNER)

PROPOSE = """
mutation($input: ProposeInitiativeInput!) {
  proposeInitiative(input: $input) {
    initiative {
      id title stage focusArea cohortYear
      countries { code } proposer { slug } program { slug } workingGroup { slug }
      supporters { organization { slug } commitment }
      stageHistory { stage changedBy { slug } note }
    }
    errors { code message field }
  }
}
"""
UPDATE = """
mutation($id: ID!, $input: UpdateInitiativeInput!) {
  updateInitiative(id: $id, input: $input) {
    initiative { title summary focusArea cohortYear program { slug } countries { code } }
    errors { code message field }
  }
}
"""
ADD_PARTNER = """
mutation($id: ID!, $org: ID!) {
  addInitiativePartner(initiativeId: $id, organizationId: $org) {
    initiative { partners { slug } } errors { code message field }
  }
}
"""
REMOVE_PARTNER = """
mutation($id: ID!, $org: ID!) {
  removeInitiativePartner(initiativeId: $id, organizationId: $org) {
    initiative { partners { slug } } errors { code message field }
  }
}
"""
MOVE = """
mutation($id: ID!, $stage: InitiativeStage!, $note: String) {
  moveInitiativeStage(id: $id, stage: $stage, note: $note) {
    initiative { stage stageHistory { stage changedAt changedBy { slug } note } }
    errors { code message field }
  }
}
"""
GRADUATE = """
mutation($program: ID!, $org: ID!, $year: Int!) {
  recordGraduation(programId: $program, organizationId: $org, year: $year) {
    program { graduates { year organization { slug } } cohorts { year graduates { year } } }
    errors { code message field }
  }
}
"""


@dataclass
class Incubator:
    organizer: Principal
    proposer: Principal
    guest: Principal
    partner: Principal
    outsider: Principal
    funder: Principal
    orgs: dict[str, Organization]
    program_id: str
    group_id: str

    def id(self, slug: str) -> str:
        return encode_id("Organization", self.orgs[slug].id)


def principal(row: Organization) -> Principal:
    return Principal(
        Role.ORGANIZATION,
        organization_id=row.id,
        organization_is_member=row.joined_at is not None,
    )


@pytest.fixture
async def club(session_factory: Any) -> Incubator:
    codes = await country_ids(session_factory, "UA", "MK", "GE")
    orgs = {
        slug: organization(codes[country], member=member, slug=slug, name=name)
        for slug, country, member, name in [
            ("hub", "UA", True, "Kyiv hub"),
            ("proposer", "MK", True, "Skopje paralegals"),
            ("guest", "GE", False, "Tbilisi guests"),
            ("partner", "MK", True, "Macedonian partner"),
            ("outsider", "GE", True, "Outsider"),
            ("funder", "UA", True, "Renaissance"),
        ]
    }
    await add(session_factory, *orgs.values())
    kyivlepp = program(orgs["hub"].id, slug="kyivlepp", name="KyivLEPP")
    group = WorkingGroup(
        slug="paralegals", name="Paralegals", focus_area=FocusArea.OTHER, created_at=T0
    )
    await add(session_factory, kyivlepp, group)
    return Incubator(
        organizer=principal(orgs["hub"]),
        proposer=principal(orgs["proposer"]),
        guest=principal(orgs["guest"]),
        partner=principal(orgs["partner"]),
        outsider=principal(orgs["outsider"]),
        funder=principal(orgs["funder"]),
        orgs=orgs,
        program_id=encode_id("IncubatorProgram", kyivlepp.id),
        group_id=encode_id("WorkingGroup", group.id),
    )


def idea(club: Incubator, **extra: Any) -> dict[str, Any]:
    return {
        "title": "Eviction hotline",
        "summary": "Paralegals answer tenants' calls.",
        "problem": "Tenants are evicted without knowing their rights.",
        "focusArea": "SOCIAL_PROBLEMS",
        "countryCodes": ["mk", "GE", "MK"],
        "programId": club.program_id,
        "cohortYear": 2021,
        "workingGroupId": club.group_id,
        "supporters": [{"organizationId": club.id("funder"), "commitment": "Two years of staff."}],
        **extra,
    }


async def propose(run: Any, who: Principal, input: dict[str, Any]) -> dict[str, Any]:
    response = await run(PROPOSE, {"input": input}, principal=who, now=NOW)
    assert "errors" not in response, response
    payload: dict[str, Any] = response["data"]["proposeInitiative"]
    return payload


async def proposed(run: Any, club: Incubator, who: Principal | None = None, **extra: Any) -> str:
    payload = await propose(run, who or club.proposer, idea(club, **extra))
    assert payload["errors"] == []
    initiative_id: str = payload["initiative"]["id"]
    return initiative_id


async def call(
    run: Any, query: str, variables: dict[str, Any], who: Principal, at: datetime = NOW
) -> dict[str, Any]:
    response = await run(query, variables, principal=who, now=at)
    assert "errors" not in response, response
    payload: dict[str, Any] = next(iter(response["data"].values()))
    return payload


# --- proposing -----------------------------------------------------------------------------


async def test_a_member_proposes_an_idea_with_its_history_and_log(
    club: Incubator, run: Any, session_factory: Any
) -> None:
    payload = await propose(run, club.proposer, idea(club))
    assert payload["errors"] == []
    new = payload["initiative"]
    assert {k: v for k, v in new.items() if k != "id"} == {
        "title": "Eviction hotline",
        "stage": "IDEA",
        "focusArea": "SOCIAL_PROBLEMS",
        "cohortYear": 2021,
        "countries": [{"code": "GE"}, {"code": "MK"}],  # by name, each once
        "proposer": {"slug": "proposer"},
        "program": {"slug": "kyivlepp"},
        "workingGroup": {"slug": "paralegals"},
        "supporters": [{"organization": {"slug": "funder"}, "commitment": "Two years of staff."}],
        "stageHistory": [{"stage": "IDEA", "changedBy": {"slug": "proposer"}, "note": None}],
    }
    pk = int(club.orgs["proposer"].id)
    log = await activity_log(session_factory, ActivityLogEntry.payload)
    assert [(kind, subject) for kind, subject, _, _ in log] == [
        ("INITIATIVE_PROPOSED", "Initiative")
    ]
    assert log[0][3]["organization_id"] == pk
    assert log[0][3]["stage"] == "IDEA"


async def test_a_guest_proposes_and_a_partner_token_may_not(
    club: Incubator, run: Any, session_factory: Any
) -> None:
    payload = await propose(run, club.guest, idea(club, programId=None, cohortYear=None))
    assert payload["errors"] == []
    assert payload["initiative"]["proposer"] == {"slug": "guest"}
    before = await snapshot(session_factory)
    response = await run(PROPOSE, {"input": idea(club)}, principal=PARTNER_ROLE, now=NOW)
    assert response["data"] is None
    assert [e["extensions"]["code"] for e in response["errors"]] == ["FORBIDDEN"]
    assert await snapshot(session_factory) == before


async def test_the_secretariat_proposes_for_a_named_organization(club: Incubator, run: Any) -> None:
    missing = await propose(run, ADMIN, idea(club))
    assert missing["errors"] == [
        {
            "code": "INVALID_INPUT",
            "message": "Name the organization in `proposerId`.",
            "field": "proposerId",
        }
    ]
    payload = await propose(run, ADMIN, idea(club, proposerId=club.id("guest")))
    assert payload["initiative"]["proposer"] == {"slug": "guest"}
    assert payload["initiative"]["stageHistory"] == [
        {"stage": "IDEA", "changedBy": None, "note": None}  # the secretariat
    ]


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"countryCodes": []}, ("INVALID_INPUT", "countryCodes")),
        ({"countryCodes": ["ZZ"]}, ("INVALID_INPUT", "countryCodes")),
        ({"programId": None}, ("INVALID_INPUT", "cohortYear")),  # a cohort needs a program
        ({"cohortYear": 1890}, ("INVALID_INPUT", "cohortYear")),
        ({"programId": encode_id("IncubatorProgram", 999)}, ("NOT_FOUND", "programId")),
        ({"workingGroupId": encode_id("WorkingGroup", 999)}, ("NOT_FOUND", "workingGroupId")),
        (
            {"supporters": [{"organizationId": encode_id("Organization", 999)}]},
            ("NOT_FOUND", "supporters"),
        ),
        ({"supporters": [{"organizationId": "x", "commitment": "y" * 501}]}, None),
        ({"title": "  a "}, ("INVALID_INPUT", "title")),
    ],
)
async def test_a_refused_proposal_changes_nothing(
    club: Incubator,
    run: Any,
    session_factory: Any,
    extra: dict[str, Any],
    error: tuple[str, str] | None,
) -> None:
    if error is None:  # a bad id is refused first; a long commitment is refused by name
        extra = {"supporters": [{"organizationId": club.id("funder"), "commitment": "y" * 501}]}
        error = ("INVALID_INPUT", "commitment")
    before = await snapshot(session_factory)
    payload = await propose(run, club.proposer, idea(club, **extra))
    assert payload["initiative"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [error]
    assert await snapshot(session_factory) == before


# --- editing and partners ------------------------------------------------------------------


async def test_the_proposer_and_a_partner_edit_and_no_one_else(
    club: Incubator, run: Any, session_factory: Any
) -> None:
    pk = await proposed(run, club)
    changed = await call(run, UPDATE, {"id": pk, "input": {"title": "Hotline"}}, club.proposer)
    assert changed["initiative"]["title"] == "Hotline"
    added = await call(run, ADD_PARTNER, {"id": pk, "org": club.id("partner")}, club.proposer)
    assert added == {"initiative": {"partners": [{"slug": "partner"}]}, "errors": []}
    by_partner = await call(
        run,
        UPDATE,
        {"id": pk, "input": {"summary": "Calls answered.", "countryCodes": ["MK"]}},
        club.partner,
    )
    assert by_partner["initiative"]["summary"] == "Calls answered."
    assert by_partner["initiative"]["countries"] == [{"code": "MK"}]

    before = await snapshot(session_factory)
    for who in (club.outsider, club.organizer, club.guest):
        refused = await call(run, UPDATE, {"id": pk, "input": {"title": "Mine"}}, who)
        assert refused == {
            "initiative": None,
            "errors": [
                {
                    "code": "NOT_INITIATIVE_EDITOR",
                    "message": "Only the proposer, a partner or the secretariat edits an "
                    "initiative.",
                    "field": "id",
                }
            ],
        }
    assert await snapshot(session_factory) == before
    by_admin = await call(run, UPDATE, {"id": pk, "input": {"focusArea": "PUBLIC_HEALTH"}}, ADMIN)
    assert by_admin["initiative"]["focusArea"] == "PUBLIC_HEALTH"


async def test_partners_are_club_organizations_partnering_once(
    club: Incubator, run: Any, session_factory: Any
) -> None:
    pk = await proposed(run, club)
    await call(run, ADD_PARTNER, {"id": pk, "org": club.id("partner")}, club.proposer)
    before = await snapshot(session_factory)
    refusals = [
        (club.id("partner"), club.proposer, "ALREADY_PARTNER"),
        (club.id("proposer"), club.partner, "ALREADY_PARTNER"),
        (encode_id("Organization", 99_999), club.proposer, "PARTNER_NOT_IN_CLUB"),
        (club.id("guest"), club.outsider, "NOT_INITIATIVE_EDITOR"),
    ]
    for org, who, code in refusals:
        payload = await call(run, ADD_PARTNER, {"id": pk, "org": org}, who)
        assert payload["initiative"] is None
        assert [e["code"] for e in payload["errors"]] == [code]
    not_partner = await call(run, REMOVE_PARTNER, {"id": pk, "org": club.id("guest")}, ADMIN)
    assert not_partner["errors"] == [
        {
            "code": "NOT_A_PARTNER",
            "message": "Tbilisi guests is not a partner of this initiative.",
            "field": "organizationId",
        }
    ]
    assert await snapshot(session_factory) == before

    # A guest may partner too: "a club organization" is a guest or a member.
    await call(run, ADD_PARTNER, {"id": pk, "org": club.id("guest")}, club.partner)
    removed = await call(run, REMOVE_PARTNER, {"id": pk, "org": club.id("partner")}, club.partner)
    assert removed == {"initiative": {"partners": [{"slug": "guest"}]}, "errors": []}
    kinds = [kind for kind, *_ in await activity_log(session_factory, ActivityLogEntry.payload)]
    assert kinds == [
        "INITIATIVE_PROPOSED",
        "INITIATIVE_PARTNER_ADDED",
        "INITIATIVE_PARTNER_ADDED",
        "INITIATIVE_PARTNER_REMOVED",
    ]


# --- stages --------------------------------------------------------------------------------


async def test_the_organizer_moves_an_incubated_initiative_step_by_step(
    club: Incubator, run: Any, session_factory: Any
) -> None:
    pk = await proposed(run, club)
    steps = [
        ("INCUBATING", None),
        ("SHELVED", "Funding paused."),
        ("INCUBATING", "Funding back."),
        ("PILOTING", None),
        ("IMPLEMENTED", "Nationwide."),
    ]
    for day, (stage, note) in enumerate(steps, start=1):
        payload = await call(
            run,
            MOVE,
            {"id": pk, "stage": stage, "note": note},
            club.organizer,
            NOW + timedelta(days=day),
        )
        assert payload["errors"] == []
        assert payload["initiative"]["stage"] == stage
    history = payload["initiative"]["stageHistory"]
    assert [(h["stage"], h["note"], h["changedBy"]["slug"]) for h in history] == [
        ("IDEA", None, "proposer"),
        *[(stage, note, "hub") for stage, note in steps],
    ]
    assert [h["changedAt"] for h in history] == [
        (NOW + timedelta(days=day)).isoformat() for day in range(6)
    ]


async def test_a_move_is_stamped_when_it_got_the_initiatives_lock(
    club: Incubator, run: Any
) -> None:
    """A move that started before another but waited for the lock comes after it in the
    history: stamped with the request's start, the shelving below would sort before the
    move to PILOTING that committed first, and the initiative could never be unshelved (its
    stage SHELVED, the history's last step PILOTING)."""
    pk = await proposed(run, club)
    await call(run, MOVE, {"id": pk, "stage": "INCUBATING"}, club.organizer, NOW + DAY)
    await call(run, MOVE, {"id": pk, "stage": "PILOTING"}, club.organizer, NOW + 3 * DAY)
    # Started on day 2, locked on day 4.
    response = await run(
        MOVE,
        {"id": pk, "stage": "SHELVED"},
        principal=ADMIN,
        now=NOW + 2 * DAY,
        clock=lambda: NOW + 4 * DAY,
    )
    history = response["data"]["moveInitiativeStage"]["initiative"]["stageHistory"]
    assert [(h["stage"], h["changedAt"]) for h in history] == [
        ("IDEA", NOW.isoformat()),
        ("INCUBATING", (NOW + DAY).isoformat()),
        ("PILOTING", (NOW + 3 * DAY).isoformat()),
        ("SHELVED", (NOW + 4 * DAY).isoformat()),
    ]
    back = await call(run, MOVE, {"id": pk, "stage": "PILOTING"}, club.organizer, NOW + 5 * DAY)
    assert back["errors"] == []
    assert back["initiative"]["stage"] == "PILOTING"


@pytest.mark.parametrize(
    ("moves", "who", "to", "code"),
    [
        ([], "proposer", "INCUBATING", "NOT_PROGRAM_ORGANIZER"),
        ([], "partner", "SHELVED", "NOT_PROGRAM_ORGANIZER"),
        ([], "organizer", "PILOTING", "STAGE_CHANGE_NOT_ALLOWED"),
        (["INCUBATING"], "organizer", "IDEA", "STAGE_CHANGE_NOT_ALLOWED"),
        (["INCUBATING", "SHELVED"], "organizer", "PILOTING", "STAGE_CHANGE_NOT_ALLOWED"),
        (
            ["INCUBATING", "PILOTING", "IMPLEMENTED"],
            "organizer",
            "SHELVED",
            "STAGE_CHANGE_NOT_ALLOWED",
        ),
    ],
)
async def test_a_refused_move_changes_nothing(
    club: Incubator,
    run: Any,
    session_factory: Any,
    moves: list[str],
    who: str,
    to: str,
    code: str,
) -> None:
    pk = await proposed(run, club)
    await call(run, ADD_PARTNER, {"id": pk, "org": club.id("partner")}, club.proposer)
    for stage in moves:
        assert (await call(run, MOVE, {"id": pk, "stage": stage}, ADMIN))["errors"] == []
    before = await snapshot(session_factory)
    payload = await call(run, MOVE, {"id": pk, "stage": to}, getattr(club, who))
    assert payload["initiative"] is None
    assert [e["code"] for e in payload["errors"]] == [code]
    assert await snapshot(session_factory) == before


async def test_without_a_program_an_idea_waits_and_its_program_is_fixed_once_incubating(
    club: Incubator, run: Any, session_factory: Any
) -> None:
    pk = await proposed(run, club, programId=None, cohortYear=None)
    before = await snapshot(session_factory)
    waiting = await call(run, MOVE, {"id": pk, "stage": "INCUBATING"}, ADMIN)
    assert [e["code"] for e in waiting["errors"]] == ["NOT_INCUBATED"]
    assert await snapshot(session_factory) == before
    # Its proposer may shelve it, and bring it back.
    for stage in ("SHELVED", "IDEA"):
        assert (await call(run, MOVE, {"id": pk, "stage": stage}, club.proposer))["errors"] == []
    joined = await call(
        run,
        UPDATE,
        {"id": pk, "input": {"programId": club.program_id, "cohortYear": 2022}},
        club.proposer,
    )
    assert joined["initiative"]["program"] == {"slug": "kyivlepp"}
    assert joined["initiative"]["cohortYear"] == 2022
    await call(run, MOVE, {"id": pk, "stage": "INCUBATING"}, club.organizer)
    before = await snapshot(session_factory)
    locked = await call(run, UPDATE, {"id": pk, "input": {"programId": None}}, club.proposer)
    assert [e["code"] for e in locked["errors"]] == ["PROGRAM_LOCKED"]
    assert await snapshot(session_factory) == before


# --- graduates ---------------------------------------------------------------------------


async def test_the_organizer_records_graduates_once_each(
    club: Incubator, run: Any, session_factory: Any
) -> None:
    await proposed(run, club)  # of the 2021 cohort
    variables = {"program": club.program_id, "org": club.id("guest"), "year": 2021}
    payload = await call(run, GRADUATE, variables, club.organizer)
    assert payload == {
        "program": {
            "graduates": [{"year": 2021, "organization": {"slug": "guest"}}],
            "cohorts": [{"year": 2021, "graduates": [{"year": 2021}]}],
        },
        "errors": [],
    }
    before = await snapshot(session_factory)
    again = await call(run, GRADUATE, variables, ADMIN)
    assert [e["code"] for e in again["errors"]] == ["ALREADY_GRADUATED"]
    other = {**variables, "org": club.id("partner")}
    not_organizer = await call(run, GRADUATE, other, club.proposer)
    assert [e["code"] for e in not_organizer["errors"]] == ["NOT_PROGRAM_ORGANIZER"]
    assert await snapshot(session_factory) == before
    kinds = [
        (kind, subject)
        for kind, subject, *_ in await activity_log(session_factory, ActivityLogEntry.payload)
    ]
    assert kinds[-1] == ("GRADUATION_RECORDED", "IncubatorProgram")


# --- reading -------------------------------------------------------------------------------

COMMITMENTS = """
query($id: ID!) { initiative(id: $id) { supporters { organization { slug } commitment } } }
"""


async def test_a_commitment_is_seen_by_the_club_and_the_supporter_only(
    club: Incubator, run: Any
) -> None:
    pk = await proposed(run, club)
    seen = {}
    for name, who in [
        ("admin", ADMIN),
        ("member", club.outsider),
        ("supporter", club.funder),
        ("guest", club.guest),
        ("partner role", PARTNER_ROLE),
    ]:
        response = await run(COMMITMENTS, {"id": pk}, principal=who)
        (supporter,) = response["data"]["initiative"]["supporters"]
        assert supporter["organization"] == {"slug": "funder"}
        seen[name] = supporter["commitment"]
    assert seen == {
        "admin": "Two years of staff.",
        "member": "Two years of staff.",
        "supporter": "Two years of staff.",
        "guest": None,
        "partner role": None,
    }


FILTERED = """
query($filter: InitiativeFilter, $first: Int, $after: String) {
  initiatives(filter: $filter, first: $first, after: $after) {
    totalCount edges { node { title } } pageInfo { hasNextPage endCursor }
  }
}
"""


async def test_initiatives_filter_by_stage_focus_country_and_program(
    club: Incubator, run: Any
) -> None:
    first = await proposed(run, club, title="First")
    await proposed(run, club, title="Second", focusArea="PUBLIC_HEALTH", countryCodes=["UA"])
    await proposed(run, club, title="Third", programId=None, cohortYear=None)
    await call(run, MOVE, {"id": first, "stage": "INCUBATING"}, club.organizer)

    async def titles(**filter: Any) -> list[str]:
        response = await run(FILTERED, {"filter": filter})
        connection = response["data"]["initiatives"]
        assert connection["totalCount"] == len(connection["edges"])
        return [edge["node"]["title"] for edge in connection["edges"]]

    assert await titles() == ["First", "Second", "Third"]
    assert await titles(stage="INCUBATING") == ["First"]
    assert await titles(stage="IDEA", focusArea="PUBLIC_HEALTH") == ["Second"]
    assert await titles(countryCode=" ua ") == ["Second"]
    assert await titles(countryCode="GE") == ["First", "Third"]
    assert await titles(programId=club.program_id) == ["First", "Second"]
    assert await titles(workingGroupId=club.group_id) == ["First", "Second", "Third"]
    page = (await run(FILTERED, {"first": 2}))["data"]["initiatives"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await run(FILTERED, {"first": 2, "after": page["pageInfo"]["endCursor"]})
    assert [e["node"]["title"] for e in rest["data"]["initiatives"]["edges"]] == ["Third"]


BOTH_WAYS = """
query($org: ID!, $group: ID!) {
  organization(id: $org) {
    proposedInitiatives { title } partneredInitiatives { title }
    incubatorPrograms { slug initiatives { title } }
  }
  workingGroup(id: $group) { initiatives { title } }
  country(code: "MK") { initiatives { title } }
  incubatorPrograms { totalCount edges { node { slug organizer { slug } } } }
  byId: incubatorProgram(slug: "kyivlepp") { cohorts { year initiatives { title } } }
}
"""


async def test_relations_go_both_ways(club: Incubator, run: Any) -> None:
    pk = await proposed(run, club, title="Hotline")
    await proposed(run, club, title="Clinic", countryCodes=["UA"], cohortYear=2022)
    await call(run, ADD_PARTNER, {"id": pk, "org": club.id("hub")}, club.proposer)
    response = await run(BOTH_WAYS, {"org": club.id("hub"), "group": club.group_id})
    assert response == {
        "data": {
            "organization": {
                "proposedInitiatives": [],
                "partneredInitiatives": [{"title": "Hotline"}],
                "incubatorPrograms": [
                    {"slug": "kyivlepp", "initiatives": [{"title": "Hotline"}, {"title": "Clinic"}]}
                ],
            },
            "workingGroup": {"initiatives": [{"title": "Hotline"}, {"title": "Clinic"}]},
            "country": {"initiatives": [{"title": "Hotline"}]},
            "incubatorPrograms": {
                "totalCount": 1,
                "edges": [{"node": {"slug": "kyivlepp", "organizer": {"slug": "hub"}}}],
            },
            "byId": {
                "cohorts": [
                    {"year": 2021, "initiatives": [{"title": "Hotline"}]},
                    {"year": 2022, "initiatives": [{"title": "Clinic"}]},
                ]
            },
        }
    }


KYIVLEPP = """
{
  incubatorProgram(slug: "kyivlepp") {
    name
    organizer { slug }
    supporters { organization { slug } }
    graduates { year organization { slug country { code } } }
    initiatives { title stage cohortYear workingGroup { slug } partners { slug } }
  }
}
"""


async def test_the_seed_tells_the_incubators_launch_story(session_factory: Any, run: Any) -> None:
    """KyivLEPP, run by the Kyiv hub and supported by the International Renaissance
    Foundation; its graduates from North Macedonia and Georgia; initiatives at each stage."""
    await seed(session_factory, now=NOW)
    program = (await run(KYIVLEPP))["data"]["incubatorProgram"]
    assert program["name"] == "Kyiv Legal Empowerment Practical Program (KyivLEPP)"
    assert program["organizer"] == {"slug": "kyiv-legal-empowerment"}
    assert program["supporters"] == [{"organization": {"slug": "irf"}}]
    assert [
        (g["year"], g["organization"]["slug"], g["organization"]["country"]["code"])
        for g in program["graduates"]
    ] == [(2021, "skopje-klepp-graduates", "MK"), (2021, "tbilisi-community-justice", "GE")]
    assert [(i["title"], i["stage"]) for i in program["initiatives"]] == [
        ("Paralegal hotline for pandemic-related evictions", "PILOTING"),
        ("Online legal-aid triage tool", "IMPLEMENTED"),
        ("Pro bono matching platform", "INCUBATING"),
        ("Legal needs dashboard after the pandemic", "SHELVED"),
        ("Health-justice partnership for long COVID benefits", "IDEA"),
    ]
    assert all(
        i["workingGroup"] and i["cohortYear"] and i["partners"] for i in program["initiatives"]
    )


# --- federation and statement counts --------------------------------------------------------

ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Initiative { id title }
    ... on IncubatorProgram { id slug }
  }
}
"""


async def test_entities_of_both_types_cost_one_statement_each(
    club: Incubator, run: Any, session_factory: Any, count_statements: Any
) -> None:
    hub = club.orgs["hub"].id
    programs = [program(hub) for _ in range(10)]
    initiatives = [initiative(club.orgs["proposer"].id) for _ in range(30)]
    await add(session_factory, *programs, *initiatives)
    representations = [
        {"__typename": "Initiative", "id": encode_id("Initiative", row.id)} for row in initiatives
    ] + [
        {"__typename": "IncubatorProgram", "id": encode_id("IncubatorProgram", row.id)}
        for row in programs
    ]
    representations.append({"__typename": "Initiative", "id": encode_id("Initiative", 99_999)})
    await run(ENTITIES, {"representations": representations[:1]})  # warm the pool
    with count_statements() as log:
        response = await run(ENTITIES, {"representations": representations})
    assert "errors" not in response
    entities = response["data"]["_entities"]
    assert [e and e["id"] for e in entities] == [r["id"] for r in representations[:-1]] + [None]
    assert log.count == 2


WALK = """
{
  incubatorPrograms(first: 100) {
    edges { node { slug initiatives { title partners { name country { code } } } } }
  }
}
"""


async def _walk_incubator(
    session_factory: Any, organizer: int, countries: list[int], n: int
) -> None:
    """`n` programs, each with `n` initiatives of two partners each."""
    partners = [organization(countries[i % len(countries)]) for i in range(2 * n)]
    programs = [program(organizer) for _ in range(n)]
    await add(session_factory, *partners, *programs)
    initiatives = [initiative(organizer, program_id=p.id) for p in programs for _ in range(n)]
    await add(session_factory, *initiatives)
    await add(
        session_factory,
        *[
            InitiativePartner(
                initiative_id=row.id,
                organization_id=partners[(i + j) % len(partners)].id,
                added_at=T0,
            )
            for i, row in enumerate(initiatives)
            for j in range(2)
        ],
    )


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"cost_budget_admin": 10_000_000})


async def test_the_walk_program_initiatives_partners_country_costs_four_statements(
    club: Incubator, run: Any, session_factory: Any, count_statements: Any
) -> None:
    codes = list((await country_ids(session_factory, "MD", "AL", "KE", "PL")).values())
    counts = []
    for n in (4, 8):  # then twice the programs, four times the initiatives
        await _walk_incubator(session_factory, club.orgs["hub"].id, codes, n)
        await run(WALK, principal=ADMIN)  # warm the pool
        with count_statements() as log:
            response = await run(WALK, principal=ADMIN)
        assert "errors" not in response
        edges = response["data"]["incubatorPrograms"]["edges"]
        walked = [p for e in edges for i in e["node"]["initiatives"] for p in i["partners"]]
        counts.append((log.count, len(walked)))
    # programs, their initiatives, the initiatives' partners, the partners' countries
    assert counts == [(4, 2 * 4 * 4), (4, 2 * (4 * 4 + 8 * 8))]


async def test_supporters_and_countries_added_straight_are_read_back(
    club: Incubator, run: Any, session_factory: Any
) -> None:
    """The link tables as the seed fills them (no mutation): what the graph reads."""
    row = initiative(club.orgs["proposer"].id, stage=InitiativeStage.PILOTING)
    await add(session_factory, row)
    mk = (await country_ids(session_factory, "MK"))["MK"]
    await add(
        session_factory,
        InitiativeCountry(initiative_id=row.id, country_id=mk),
        InitiativeSupporter(
            initiative_id=row.id, organization_id=club.orgs["funder"].id, commitment=None
        ),
    )
    response = await run(
        "query($id: ID!) { initiative(id: $id) { stage countries { code } "
        "supporters { commitment organization { slug } } } }",
        {"id": encode_id("Initiative", row.id)},
        principal=ADMIN,
    )
    assert response == {
        "data": {
            "initiative": {
                "stage": "PILOTING",
                "countries": [{"code": "MK"}],
                "supporters": [{"commitment": None, "organization": {"slug": "funder"}}],
            }
        }
    }


async def test_the_incubators_lists_are_observed_on_the_seed(
    schema: Any, session_factory: Any
) -> None:
    """What the cost estimate assumes for each incubator list (resolvers/list_sizes.py): the
    largest of each in the seeded club."""
    await seed(session_factory, now=NOW)
    observer = ListSizeObserver(session_factory, observations_of(graphql_core_schema(schema)))
    snapshot = await observer.refresh()
    assert snapshot is not None
    sizes = {name: size for name, size in snapshot.sizes.items() if name in INCUBATOR_LISTS}
    assert sizes == {
        "cohorts_of_program": 2,  # KyivLEPP: 2021 and 2022
        "graduates_of_program": 2,
        "initiatives_of_program": 5,
        "initiatives_of_working_group": 2,
        "initiatives_proposed_by": 1,
        "initiatives_partnered_by": 2,  # Kenya: long COVID and the dashboard
        "initiatives_of_country": 1,
        "countries_of_initiative": 2,
        "partners_of_initiative": 2,  # the triage tool
        "programs_organized_by": 1,
        "stage_history_of_initiative": 4,  # the triage tool, IDEA to IMPLEMENTED
        "supporters_of_initiative": 1,
        "supporters_of_program": 1,
    }


INCUBATOR_LISTS = {
    "cohorts_of_program",
    "graduates_of_program",
    "initiatives_of_program",
    "initiatives_of_working_group",
    "initiatives_proposed_by",
    "initiatives_partnered_by",
    "initiatives_of_country",
    "countries_of_initiative",
    "partners_of_initiative",
    "programs_organized_by",
    "stage_history_of_initiative",
    "supporters_of_initiative",
    "supporters_of_program",
}
