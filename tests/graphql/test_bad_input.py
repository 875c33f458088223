"""Bad input gets a clear error with `extensions.code`, never an internal error."""

from typing import Any

import pytest

from club.cursors import encode_cursor
from schema.ids import encode_id
from schema.root import build_schema
from schema.strawberry_private import entity_key_fields

ORGANIZATIONS = (
    "query($first: Int, $after: String) "
    "{ organizations(first: $first, after: $after) { totalCount } }"
)


def bad_input(
    message: str, *, field: str | None = None, path: str = "organizations"
) -> dict[str, Any]:
    extensions: dict[str, Any] = {"code": "BAD_USER_INPUT"}
    if field:
        extensions["field"] = field
    return {
        "data": None,
        "errors": [
            {
                "message": message,
                "locations": [{"line": 1, "column": 38}],
                "path": [path],
                "extensions": extensions,
            }
        ],
    }


@pytest.mark.parametrize(
    "after",
    [
        "not a cursor",
        encode_cursor("events", ["2024-01-01T00:00:00+00:00", 1]),  # another list's cursor
        encode_cursor("organizations", [1, 1]),  # a number where the name goes
        encode_cursor("organizations", ["Name"]),  # too short
        encode_cursor("organizations", ["Name", [1]]),
        encode_cursor("organizations", ["Name", 2**62]),  # no 32-bit key is that large
        encode_cursor("organizations", ["Name", True]),
        encode_cursor("organizations", ["Na\x00me", 1]),
        encode_cursor("organizations", ["Name", 1]) + "!!",  # lenient base64 would drop these
    ],
)
async def test_malformed_cursor(session_factory: Any, run: Any, after: str) -> None:
    response = await run(ORGANIZATIONS, {"after": after})
    assert response["data"] is None
    assert [(e["path"], e["extensions"]) for e in response["errors"]] == [
        (["organizations"], {"code": "BAD_USER_INPUT", "field": "after"})
    ]


@pytest.mark.parametrize(
    "after",
    [
        encode_cursor("events", ["2024-01-01T00:00:00", 1]),  # no offset
        encode_cursor("events", ["yesterday", 1]),
        encode_cursor("events", [20240101, 1]),
    ],
)
async def test_malformed_time_in_a_cursor(session_factory: Any, run: Any, after: str) -> None:
    response = await run(
        "query($after: String) { events(after: $after) { totalCount } }", {"after": after}
    )
    assert response == {
        "data": None,
        "errors": [
            {
                "message": "The cursor is not one of this list.",
                "locations": [{"line": 1, "column": 25}],
                "path": ["events"],
                "extensions": {"code": "BAD_USER_INPUT", "field": "after"},
            }
        ],
    }


@pytest.mark.parametrize("first", [101, -1])
async def test_page_size_outside_the_bounds(session_factory: Any, run: Any, first: int) -> None:
    assert await run(ORGANIZATIONS, {"first": first}) == bad_input(
        "`first` must be between 0 and 100.", field="first"
    )


async def test_unknown_enum_value_in_the_document(session_factory: Any, run: Any) -> None:
    assert await run("{ organizations(filter: {status: FOUNDER}) { totalCount } }") == {
        "data": None,
        "errors": [
            {
                "message": "Value 'FOUNDER' does not exist in 'OrganizationStatus' enum.",
                "locations": [{"line": 1, "column": 34}],
                "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
            }
        ],
    }


async def test_unknown_enum_value_in_a_variable(session_factory: Any, run: Any) -> None:
    query = "query($s: OrganizationStatus) { organizations(filter: {status: $s}) { totalCount } }"
    assert await run(query, {"s": "FOUNDER"}) == {
        "data": None,
        "errors": [
            {
                "message": "Variable '$s' has invalid value: "
                "Value 'FOUNDER' does not exist in 'OrganizationStatus' enum.",
                "locations": [{"line": 1, "column": 7}],
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ],
    }


@pytest.mark.parametrize(
    "identifier",
    [
        "42",
        "T3JnYW5pemF0aW9uOmFiYw==",  # Organization:abc
        encode_id("Event", 1),
        "",
        "Organization:1",
        "T3JnYW5pemF0aW9uOjMwMDAwMDAwMDA=",  # Organization:3000000000, past 32 bits
        "T3JnYW5pemF0aW9uOjA=",  # Organization:0
        "T3JnYW5pemF0aW9uOjAx",  # Organization:01
        "T3JnYW5p!!!emF0aW9uOjE=",  # Organization:1 with junk inside
    ],
)
async def test_malformed_or_mistyped_id(session_factory: Any, run: Any, identifier: str) -> None:
    response = await run("query($id: ID!) { organization(id: $id) { name } }", {"id": identifier})
    assert response == {
        "data": {"organization": None},
        "errors": [
            {
                "message": f"`{identifier}` is not a valid Organization ID.",
                "locations": [{"line": 1, "column": 19}],
                "path": ["organization"],
                "extensions": {"code": "BAD_USER_INPUT", "field": "id"},
            }
        ],
    }


@pytest.mark.parametrize("arguments", ["", f'(id: "{encode_id("Organization", 1)}", slug: "irf")'])
async def test_lookup_needs_exactly_one_key(session_factory: Any, run: Any, arguments: str) -> None:
    response = await run(f"{{ organization{arguments} {{ name }} }}")
    assert response["data"] == {"organization": None}
    assert [(e["message"], e["extensions"]) for e in response["errors"]] == [
        ("Give exactly one of `id` or `slug`.", {"code": "BAD_USER_INPUT"})
    ]


@pytest.mark.parametrize(
    "moment",
    ["2024-01-01T00:00:00", "0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"],
)
async def test_time_window_needs_an_offset_and_a_utc_year_in_range(
    session_factory: Any, run: Any, moment: str
) -> None:
    response = await run(
        "query($t: DateTime) { events(filter: {startsAfter: $t}) { totalCount } }", {"t": moment}
    )
    assert [(e["message"], e["extensions"]) for e in response["errors"]] == [
        (
            "Give a time with a UTC offset, e.g. 2021-10-28T12:00:00Z, within the years 1 to 9999.",
            {"code": "BAD_USER_INPUT"},
        )
    ]


ENTITIES = "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }"
# The types in the schema's `_Entity` union (a new domain's entity joins them).
ENTITY_TYPES = tuple(entity_key_fields(build_schema()))


async def test_malformed_representations_fail_at_their_own_position(
    session_factory: Any, run: Any
) -> None:
    response = await run(
        ENTITIES,
        {
            "r": [
                {"id": "x"},
                {"__typename": "Organization", "id": 5},
                {"__typename": "Country", "code": "MD", "slug": "ignored"},
                {"__typename": "Organization"},
                "Organization",
            ]
        },
    )
    typenames = ", ".join(sorted(ENTITY_TYPES))

    def error(position: int, message: str) -> dict[str, Any]:
        return {
            "message": message,
            "locations": [{"line": 1, "column": 23}],
            "path": ["_entities", position],
            "extensions": {"code": "BAD_USER_INPUT", "field": "representations"},
        }

    assert response == {
        "data": {"_entities": [None, None, {"__typename": "Country"}, None, None]},
        "errors": [
            error(0, f"Representation 0 needs a `__typename` among: {typenames}."),
            error(1, "Representation 1 of Organization needs its key as strings: id."),
            error(3, "Representation 3 of Organization needs its key as strings: id."),
            error(4, f"Representation 4 needs a `__typename` among: {typenames}."),
        ],
    }


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ('{ a: country(code: "AL") { code } b: organization(slug: "x\\u0000") { slug } }', None),
        # a raw NUL inside a string literal: graphql-core 3.3's lexer takes it (the spec's
        # SourceCharacter is any Unicode scalar value); a JSON body's "\u0000" becomes one
        ('{ organizations(filter: {search: "a\x00b"}) { totalCount } }', None),
        ("query($s: String!) { organization(slug: $s) { slug } }", {"s": "irf\x00"}),
        (
            "query($f: OrganizationFilter) { organizations(filter: $f) { totalCount } }",
            {"f": {"search": "\x00"}},
        ),
    ],
)
async def test_nul_characters_are_refused_before_anything_runs(
    session_factory: Any, run: Any, query: str, variables: dict[str, Any] | None
) -> None:
    assert await run(query, variables) == {
        "data": None,
        "errors": [
            {
                "message": "Strings may not contain the NUL character (U+0000).",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ],
    }


async def test_syntax_error(session_factory: Any, run: Any) -> None:
    assert await run("{ organizations(") == {
        "data": None,
        "errors": [
            {
                "message": "Syntax Error: Expected Name, found <EOF>.",
                "locations": [{"line": 1, "column": 17}],
                "extensions": {"code": "GRAPHQL_PARSE_FAILED"},
            }
        ],
    }
