"""Every free-text argument and input field has a maximum length (club/validation.py,
docs/security.md): an argument past it is BAD_USER_INPUT naming it, a mutation's input
field INVALID_INPUT in the payload; either way before the database, and nothing changes."""

from datetime import UTC, datetime
from typing import Any

import pytest
from graphql import GraphQLInputObjectType, GraphQLObjectType, GraphQLString, get_named_type

from club.access import Principal
from club.enums import FocusArea, Role
from db.models import ActionItem, WorkingGroup
from schema.ids import encode_id
from schema.strawberry_private import graphql_core_schema
from tests.factories import (
    T0,
    add,
    country_ids,
    event,
    guests_of_a_member,
    initiative,
    organization,
)
from tests.snapshots import snapshot

NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
ADMIN = Principal(Role.ADMIN)
HUGE = "x" * 60_000  # a 60 KB body, far under the 1 MiB limit
DIRECTORY = (
    "query($filter: OrganizationFilter) "
    "{ organizations(filter: $filter) { totalCount edges { node { name } } } }"
)


def refused_argument(field: str, max_length: int, path: str) -> dict[str, Any]:
    return {
        "message": f"`{field}` must be at most {max_length} characters long.",
        "path": [path],
        "extensions": {"code": "BAD_USER_INPUT", "field": field},
    }


def without_locations(response: dict[str, Any]) -> dict[str, Any]:
    errors = [{k: v for k, v in e.items() if k != "locations"} for e in response["errors"]]
    return {**response, "errors": errors}


async def test_a_60000_character_search_is_refused_before_the_database(
    session_factory: Any, run: Any
) -> None:
    """SQLite used to fail it with `LIKE or GLOB pattern too complex` (an internal error)
    once a row was there to compare."""
    md = (await country_ids(session_factory, "MD"))["MD"]
    await add(session_factory, organization(md))
    response = await run(DIRECTORY, {"filter": {"search": HUGE}})
    assert without_locations(response) == {
        "data": None,
        "errors": [refused_argument("search", 200, "organizations")],
    }


async def test_a_search_of_the_longest_name_runs_with_its_wildcards_literal(
    session_factory: Any, run: Any
) -> None:
    md = (await country_ids(session_factory, "MD"))["MD"]
    longest = "%_" * 100  # 200 characters: a name's longest, all LIKE wildcards
    await add(session_factory, organization(md, name=longest), organization(md, name="x" * 200))
    response = await run(DIRECTORY, {"filter": {"search": f"  {longest}  "}})
    assert response == {
        "data": {"organizations": {"totalCount": 1, "edges": [{"node": {"name": longest}}]}}
    }


# Each free-text argument of a query: root field, the argument as written, its name and
# maximum length.
ARGUMENTS = [
    ("organizations", "filter: {search: $v}", "search", 200),
    ("organizations", "filter: {countryCode: $v}", "countryCode", 2),
    ("country", "code: $v", "code", 2),
    ("organization", "slug: $v", "slug", 80),
    ("workingGroup", "slug: $v", "slug", 80),
    ("initiatives", "filter: {countryCode: $v}", "countryCode", 2),
    ("incubatorProgram", "slug: $v", "slug", 80),
]
CONNECTIONS = {"organizations", "initiatives"}


def query_of(root: str, argument: str) -> str:
    selection = "totalCount" if root in CONNECTIONS else "__typename"
    return f"query($v: String!) {{ {root}({argument}) {{ {selection} }} }}"


@pytest.mark.parametrize("past", [1, 60_000])
@pytest.mark.parametrize(("root", "argument", "field", "max_length"), ARGUMENTS)
async def test_a_query_argument_past_its_maximum_is_bad_user_input(
    session_factory: Any,
    run: Any,
    root: str,
    argument: str,
    field: str,
    max_length: int,
    past: int,
) -> None:
    response = await run(query_of(root, argument), {"v": "x" * (max_length + past)})
    assert without_locations(response) == {
        "data": None if root in CONNECTIONS else {root: None},  # a connection is non-null
        "errors": [refused_argument(field, max_length, root)],
    }


@pytest.mark.parametrize(("root", "argument", "field", "max_length"), ARGUMENTS)
async def test_a_query_argument_at_its_maximum_runs(
    session_factory: Any, run: Any, root: str, argument: str, field: str, max_length: int
) -> None:
    """Spaces around do not count, except in a slug (where they never did: no slug has
    them)."""
    around = "" if field == "slug" else "  "
    response = await run(query_of(root, argument), {"v": around + "x" * max_length + around})
    assert response == {"data": {root: {"totalCount": 0} if root in CONNECTIONS else None}}


async def test_a_long_country_code_in_an_entity_representation_is_bad_user_input(
    session_factory: Any, run: Any
) -> None:
    response = await run(
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Country { name } } }",
        {"r": [{"__typename": "Country", "code": "md"}, {"__typename": "Country", "code": HUGE}]},
    )
    assert without_locations(response) == {
        "data": {"_entities": [{"name": "Moldova"}, None]},
        "errors": [
            {
                "message": "`code` must be at most 2 characters long.",
                "path": ["_entities", 1],
                "extensions": {"code": "BAD_USER_INPUT", "field": "code"},
            }
        ],
    }


async def test_a_long_country_code_of_member_joined_is_bad_user_input(
    session_factory: Any, schema: Any, make_context: Any
) -> None:
    results = await schema.subscribe(
        "subscription($c: String) { memberJoined(countryCode: $c) { organization { name } } }",
        variable_values={"c": HUGE},
        context_value=make_context(ADMIN, NOW),
    )
    first = await anext(results)
    await results.aclose()
    assert [(e.message, e.extensions) for e in first.errors] == [
        (
            "`countryCode` must be at most 2 characters long.",
            {"code": "BAD_USER_INPUT", "field": "countryCode"},
        )
    ]


@pytest.fixture
async def ids(session_factory: Any) -> dict[str, str]:
    """Rows for every mutation that takes free text to act on, by their global ids."""
    inviter, (guest,) = await guests_of_a_member(session_factory, 1)
    group = WorkingGroup(
        slug="data", name="Data", focus_area=FocusArea.OTHER, lead_id=inviter.id, created_at=T0
    )
    md = (await country_ids(session_factory, "MD"))["MD"]
    await add(session_factory, group, organization(md, slug="spare"))
    meeting = event(inviter.id, starts_at=datetime(2026, 10, 1, tzinfo=UTC))
    item = ActionItem(working_group_id=group.id, title="Map the courts", created_at=T0)
    idea = initiative(inviter.id)
    await add(session_factory, meeting, item, idea)
    return {
        "Organization": encode_id("Organization", inviter.id),
        "guest": encode_id("Organization", guest.id),
        "Event": encode_id("Event", meeting.id),
        "WorkingGroup": encode_id("WorkingGroup", group.id),
        "ActionItem": encode_id("ActionItem", item.id),
        "Initiative": encode_id("Initiative", idea.id),
    }


ORGANIZATION = {"name": "Bălţi Lawyers", "countryCode": "MD", "kind": "NGO"}
MEETING = {
    "title": "Paralegals in the field",
    "kind": "ONLINE_MEETING",
    "startsAt": "2026-10-02T09:00:00Z",
    "endsAt": "2026-10-02T11:00:00Z",
}
IDEA = {
    "title": "Court users' help desk",
    "summary": "Volunteers at the courthouse door.",
    "problem": "People get lost in court.",
    "focusArea": "PARALEGAL_FIELD_WORK",
    "countryCodes": ["MD"],
}
COUNTRY_CODES = "`countryCodes` holds ISO 3166-1 alpha-2 codes of 2 letters."
# Each mutation: its arguments, and its variables but the long one.
CALLS: dict[str, tuple[str, Any]] = {
    "registerOrganization": ("input: $input", lambda i: {"input": dict(ORGANIZATION)}),
    "updateOrganization": (
        "id: $id, input: $input",
        lambda i: {"id": i["Organization"], "input": {}},
    ),
    "scheduleEvent": (
        "input: $input",
        lambda i: {"input": {**MEETING, "hostId": i["Organization"]}},
    ),
    "updateEvent": ("id: $id, input: $input", lambda i: {"id": i["Event"], "input": {}}),
    "cancelEvent": ("id: $id, reason: $reason", lambda i: {"id": i["Event"]}),
    "createWorkingGroup": (
        "input: $input",
        lambda i: {"input": {"name": "Courts", "focusArea": "OTHER", "leadId": i["Organization"]}},
    ),
    "addActionItem": (
        "workingGroupId: $id, input: $input",
        lambda i: {"id": i["WorkingGroup"], "input": {}},
    ),
    "updateActionItem": ("id: $id, input: $input", lambda i: {"id": i["ActionItem"], "input": {}}),
    "inviteOrganization": (
        "input: $input",
        lambda i: {"input": {"inviteeId": i["guest"], "inviterId": i["Organization"]}},
    ),
    "proposeInitiative": (
        "input: $input",
        lambda i: {"input": {**IDEA, "proposerId": i["Organization"]}},
    ),
    "updateInitiative": ("id: $id, input: $input", lambda i: {"id": i["Initiative"], "input": {}}),
    "moveInitiativeStage": (
        "id: $id, stage: SHELVED, note: $note",
        lambda i: {"id": i["Initiative"]},
    ),
}
INPUT_TYPES = {
    "registerOrganization": "RegisterOrganizationInput!",
    "updateOrganization": "UpdateOrganizationInput!",
    "scheduleEvent": "ScheduleEventInput!",
    "updateEvent": "UpdateEventInput!",
    "createWorkingGroup": "CreateWorkingGroupInput!",
    "addActionItem": "ActionItemInput!",
    "updateActionItem": "ActionItemInput!",
    "inviteOrganization": "InviteOrganizationInput!",
    "proposeInitiative": "ProposeInitiativeInput!",
    "updateInitiative": "UpdateInitiativeInput!",
}
COUNTRY_CODE = "`countryCode` must be an ISO 3166-1 alpha-2 code of 2 letters."
TOO_LONG_AN_ADDRESS = (
    "`contactEmail` is not an e-mail address: "
    "The email address is too long (59746 characters too many)."
)
# Every free-text field of every mutation, and its refusal's message.
FIELDS = [
    ("registerOrganization", "name", "`name` must be 2 to 200 characters long."),
    ("registerOrganization", "countryCode", COUNTRY_CODE),
    ("registerOrganization", "website", "`website` is longer than 300 characters."),
    ("registerOrganization", "description", "`description` must be 1 to 5000 characters long."),
    ("registerOrganization", "contactEmail", TOO_LONG_AN_ADDRESS),
    ("updateOrganization", "name", "`name` must be 2 to 200 characters long."),
    ("updateOrganization", "countryCode", COUNTRY_CODE),
    ("updateOrganization", "website", "`website` is longer than 300 characters."),
    ("updateOrganization", "description", "`description` must be 1 to 5000 characters long."),
    ("updateOrganization", "contactEmail", TOO_LONG_AN_ADDRESS),
    ("scheduleEvent", "title", "`title` must be 3 to 200 characters long."),
    ("scheduleEvent", "meetingUrl", "`meetingUrl` is longer than 300 characters."),
    ("scheduleEvent", "description", "`description` must be 1 to 5000 characters long."),
    ("updateEvent", "title", "`title` must be 3 to 200 characters long."),
    ("updateEvent", "meetingUrl", "`meetingUrl` is longer than 300 characters."),
    ("updateEvent", "description", "`description` must be 1 to 5000 characters long."),
    ("cancelEvent", "reason", "`reason` must be 1 to 2000 characters long."),
    ("createWorkingGroup", "name", "`name` must be 3 to 200 characters long."),
    ("createWorkingGroup", "description", "`description` must be 1 to 5000 characters long."),
    ("addActionItem", "title", "`title` must be 3 to 200 characters long."),
    ("updateActionItem", "title", "`title` must be 3 to 200 characters long."),
    ("inviteOrganization", "message", "`message` must be 1 to 2000 characters long."),
    ("inviteOrganization", "idempotencyKey", "`idempotencyKey` must be 1 to 100 characters long."),
    ("proposeInitiative", "title", "`title` must be 3 to 200 characters long."),
    ("proposeInitiative", "summary", "`summary` must be 3 to 1000 characters long."),
    ("proposeInitiative", "problem", "`problem` must be 3 to 5000 characters long."),
    ("proposeInitiative", "countryCodes", COUNTRY_CODES),
    ("updateInitiative", "title", "`title` must be 3 to 200 characters long."),
    ("updateInitiative", "summary", "`summary` must be 3 to 1000 characters long."),
    ("updateInitiative", "problem", "`problem` must be 3 to 5000 characters long."),
    ("updateInitiative", "countryCodes", COUNTRY_CODES),
    ("moveInitiativeStage", "note", "`note` must be 1 to 2000 characters long."),
]


def operation(mutation: str) -> str:
    arguments = CALLS[mutation][0]
    types = {
        "$id": "ID!",
        "$input": INPUT_TYPES.get(mutation, ""),
        "$reason": "String",
        "$note": "String",
    }
    declared = ", ".join(f"{v}: {t}" for v, t in types.items() if v in arguments)
    return (
        f"mutation({declared}) {{ {mutation}({arguments}) {{ errors {{ code message field }} }} }}"
    )


def variables(mutation: str, ids: dict[str, str], field: str) -> dict[str, Any]:
    """The mutation's variables, with 60,000 characters in `field`."""
    given: dict[str, Any] = CALLS[mutation][1](ids)
    value: Any = HUGE[:-12] + "@example.org" if field == "contactEmail" else HUGE
    given.get("input", given)[field] = [value] if field == "countryCodes" else value
    return given


def string_arguments(schema: Any, root: str) -> set[tuple[str, str]]:
    """(root field, name) of each String argument of a root type's fields, and of each
    String field of their input objects (filters, inputs)."""
    found = set()
    root_type = graphql_core_schema(schema).get_type(root)
    assert isinstance(root_type, GraphQLObjectType)
    for name, field in root_type.fields.items():
        for argument_name, argument in field.args.items():
            argument_type = get_named_type(argument.type)
            if argument_type is GraphQLString:
                found.add((name, argument_name))
            elif isinstance(argument_type, GraphQLInputObjectType):
                found |= {
                    (name, inner_name)
                    for inner_name, inner in argument_type.fields.items()
                    if get_named_type(inner.type) is GraphQLString
                }
    return found


def test_every_free_text_argument_and_input_field_is_tested(schema: Any) -> None:
    """A new String argument or input field fails here until it has a limit and a test
    above (cursors, `after`, are parsed exactly and refused whatever their length)."""
    cursors = {
        (name, "after") for name in ("organizations", "events", "initiatives", "incubatorPrograms")
    }
    tested = {(root, field) for root, _, field, _ in ARGUMENTS}
    assert string_arguments(schema, "Query") == cursors | tested
    assert string_arguments(schema, "Subscription") == {
        ("memberJoined", "countryCode"),  # test_a_long_country_code_of_member_joined_…
        ("memberJoined", "after"),
        ("meetingUpdates", "after"),
        ("invitationUpdates", "after"),
        ("initiativeUpdates", "after"),
    }
    assert string_arguments(schema, "Mutation") == {(m, f) for m, f, _ in FIELDS}


@pytest.mark.parametrize(("mutation", "field", "message"), FIELDS)
async def test_a_60000_character_input_field_is_refused_in_the_payload(
    session_factory: Any,
    run: Any,
    ids: dict[str, str],
    mutation: str,
    field: str,
    message: str,
) -> None:
    before = await snapshot(session_factory)
    response = await run(
        operation(mutation), variables(mutation, ids, field), principal=ADMIN, now=NOW
    )
    assert response == {
        "data": {
            mutation: {"errors": [{"code": "INVALID_INPUT", "message": message, "field": field}]}
        }
    }
    assert await snapshot(session_factory) == before


# The fields of FIELDS that hold free text (the others are addresses and codes, parsed as
# such), and those of them that may run over several lines.
TEXT_FIELDS = [
    (mutation, field)
    for mutation, field, _ in FIELDS
    if field not in {"countryCode", "countryCodes", "website", "meetingUrl", "contactEmail"}
]
PARAGRAPHS = {"description", "message", "reason", "summary", "problem", "note"}


def with_value(mutation: str, ids: dict[str, str], field: str, value: str) -> dict[str, Any]:
    given: dict[str, Any] = CALLS[mutation][1](ids)
    given.get("input", given)[field] = value
    return given


@pytest.mark.parametrize(
    "character",
    [
        "\u202e",  # RIGHT-TO-LEFT OVERRIDE: what follows displays reversed
        "\u2066",  # LEFT-TO-RIGHT ISOLATE
        "\x07",  # BELL, a C0 control
        "\x85",  # NEXT LINE, a C1 control
    ],
)
@pytest.mark.parametrize(("mutation", "field"), TEXT_FIELDS)
async def test_a_control_or_bidirectional_formatting_character_is_refused_in_the_payload(
    session_factory: Any,
    run: Any,
    ids: dict[str, str],
    mutation: str,
    field: str,
    character: str,
) -> None:
    before = await snapshot(session_factory)
    response = await run(
        operation(mutation),
        with_value(mutation, ids, field, f"Fair courts {character}for all"),
        principal=ADMIN,
        now=NOW,
    )
    message = f"`{field}` may not hold the character U+{ord(character):04X}."
    assert response == {
        "data": {
            mutation: {"errors": [{"code": "INVALID_INPUT", "message": message, "field": field}]}
        }
    }
    assert await snapshot(session_factory) == before


@pytest.mark.parametrize("line_break", ["\n", "\r", "\t", "\u2028", "\u2029"])
@pytest.mark.parametrize(
    ("mutation", "field"), [(m, f) for m, f in TEXT_FIELDS if f not in PARAGRAPHS]
)
async def test_a_line_break_in_one_line_of_text_is_refused_in_the_payload(
    session_factory: Any,
    run: Any,
    ids: dict[str, str],
    mutation: str,
    field: str,
    line_break: str,
) -> None:
    before = await snapshot(session_factory)
    response = await run(
        operation(mutation),
        with_value(mutation, ids, field, f"Fair courts{line_break}for all"),
        principal=ADMIN,
        now=NOW,
    )
    message = f"`{field}` is one line: no tabs or line breaks."
    assert response == {
        "data": {
            mutation: {"errors": [{"code": "INVALID_INPUT", "message": message, "field": field}]}
        }
    }
    assert await snapshot(session_factory) == before


async def test_text_is_stored_composed_with_its_line_breaks_as_newlines(run: Any) -> None:
    """NFC: "e" and a combining acute accent (two code points) is stored as "é" (one), the
    name a keyboard typing "é" gives; Windows', old Macs' and Unicode's line and paragraph
    separators become "\\n"."""
    response = await run(
        "mutation($input: RegisterOrganizationInput!) { registerOrganization(input: $input) "
        "{ errors { code } organization { name description } } }",
        {
            "input": {
                **ORGANIZATION,
                "name": "Cafe\u0301 Juridique",
                "description": "First line\r\nsecond\rthird\n\tindented\u2028fifth\u2029sixth",
            }
        },
        principal=ADMIN,
        now=NOW,
    )
    assert response == {
        "data": {
            "registerOrganization": {
                "errors": [],
                "organization": {
                    "name": "Caf\u00e9 Juridique",
                    "description": "First line\nsecond\nthird\n\tindented\nfifth\nsixth",
                },
            }
        }
    }


async def test_a_search_typed_decomposed_finds_the_name_stored_composed(
    session_factory: Any, run: Any
) -> None:
    """A name is stored in NFC (above); a search is compared in NFC too, so "e" and a
    combining acute accent finds "é"."""
    md = (await country_ids(session_factory, "MD"))["MD"]
    await add(session_factory, organization(md, name="Caf\u00e9 Juridique"))
    response = await run(DIRECTORY, {"filter": {"search": "cafe\u0301"}})
    assert response == {
        "data": {
            "organizations": {
                "totalCount": 1,
                "edges": [{"node": {"name": "Caf\u00e9 Juridique"}}],
            }
        }
    }
