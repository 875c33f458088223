"""The generated builder of a selection's objects (schema/compiled/nodes.py `object_builder`)
against the fields' own `value`, row by row: the same objects, the same keys in the same
order, and `Unanswerable` for a null where the schema says non-null."""

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest

from club.access import Audience, Principal
from club.enums import OrganizationStatus, Role
from schema.compiled.nodes import (
    Column,
    GlobalId,
    Joined,
    Restricted,
    Selection,
    Typename,
    object_builder,
)
from schema.compiled.run import OverBudget, Run, Unanswerable


def _upper(value: Any) -> Any:
    return str(value).upper()


FIELDS = (
    Typename("__typename", "Organization"),
    GlobalId("id", "Organization", 0),
    Column("name", 1, None, nullable=False),
    Column("website", 2, None, nullable=True),
    Column("status", 3, _upper, nullable=False),
    Column("joinedAt", 4, datetime.isoformat, nullable=True),
    Restricted(Column("contactEmail", 5, None, nullable=True), Audience.CLUB, 0),
    # The same key twice: the last one wins, as in a dict comprehension.
    Column("again", 1, None, nullable=False),
    Column("again", 2, None, nullable=True),
)
ROWS = [
    (1, "One", "https://one.example.org", OrganizationStatus.MEMBER, None, "a@one.example"),
    (2, "Two", None, OrganizationStatus.GUEST, datetime(2026, 1, 2, 3, 4, tzinfo=UTC), None),
]
PRINCIPALS = [
    Principal(Role.ADMIN),
    Principal(Role.PARTNER),
    Principal(Role.ORGANIZATION, organization_id=2, organization_is_member=False),
]


def by_value(row: Any, principal: Principal) -> dict[str, Any]:
    return {field.key: field.value(row, principal) for field in FIELDS}


@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: p.role.value)
def test_the_builder_makes_what_each_field_says(principal: Principal) -> None:
    built = object_builder(FIELDS)(ROWS, principal)
    expected = [by_value(row, principal) for row in ROWS]
    assert built == expected
    assert [list(item) for item in built] == [list(item) for item in expected]


@pytest.mark.parametrize("index", [1, 3])
def test_a_null_in_a_non_null_column_is_unanswerable(index: int) -> None:
    row = list(ROWS[0])
    row[index] = None
    with pytest.raises(Unanswerable):
        by_value(row, PRINCIPALS[0])
    with pytest.raises(Unanswerable):
        object_builder(FIELDS)([ROWS[1], row], PRINCIPALS[0])


def test_no_fields_make_empty_objects() -> None:
    assert object_builder(())(ROWS, PRINCIPALS[0]) == [{}, {}]


# A joined to-one child written in place (`Joined.inlined`) against the same selection built
# apart (its relation's `fill`): the same objects, weights and rows counted, the same
# refusals, and over the budget first where the child's rows pass it.
COUNTRY = Selection(
    "Country",
    (),
    (
        Column("code", 3, None, nullable=False),
        Restricted(Column("contactEmail", 4, None, nullable=True), Audience.CLUB, 0),
    ),
    (),
)


def organizations(nullable: bool) -> Selection:
    country = Joined("country", COUNTRY, 2, nullable=nullable)
    fields = (GlobalId("id", "Organization", 0), Column("name", 1, None, nullable=False), country)
    return Selection("Organization", (), fields, (country,))


# id, name, the country's primary key (None: no row), its code, a members-only column.
JOINED_ROWS = [
    (1, "One", 10, "MD", "a@one.example"),
    (2, "Two", None, None, None),
    (3, "Three", 11, "KE", None),
]


def run_for(principal: Principal, budget: int = 1000) -> Run:
    return Run(cast(Any, SimpleNamespace(principal=principal)), cast(Any, None), budget)


def apart(selection: Selection) -> Any:
    """`Selection.objects` with every joined child built by its relation's `fill`."""

    async def objects(run: Run, rows: Any) -> Any:
        return await selection.objects(run, rows, inline=False)

    return objects


async def outcome(build: Any, principal: Principal, rows: Any, budget: int) -> Any:
    run = run_for(principal, budget)
    try:
        objects, weights = await build(run, rows)
    except (OverBudget, Unanswerable) as refused:
        return type(refused).__name__, str(refused), run.rows_read
    return objects, weights, run.rows_read


@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: p.role.value)
async def test_an_inlined_child_is_built_as_one_filled_apart(principal: Principal) -> None:
    selection = organizations(nullable=True)
    assert selection.relations[0].inlined  # type: ignore[attr-defined]
    inlined = await outcome(selection.objects, principal, JOINED_ROWS, 1000)
    assert inlined == await outcome(apart(selection), principal, JOINED_ROWS, 1000)
    objects, weights, read = inlined
    assert weights == [2, 1, 2]
    assert read == 5
    assert objects[1]["country"] is None
    assert objects[0]["country"]["code"] == "MD"
    assert [list(item) for item in objects] == [["id", "name", "country"]] * 3


@pytest.mark.parametrize(
    ("rows", "nullable", "budget", "expected"),
    [
        # A null in the child's non-null column; a missing child of a non-null relation.
        ([(1, "One", 10, None, None)], True, 1000, "Unanswerable"),
        (JOINED_ROWS, False, 1000, "Unanswerable"),
        # The parents fit the budget and their children's rows pass it, before the child
        # with the null is built: over the budget, as when built apart.
        ([(1, "One", 10, "MD", None), (2, "Two", 11, None, None)], True, 3, "OverBudget"),
        (JOINED_ROWS, False, 4, "OverBudget"),
    ],
)
async def test_an_inlined_child_is_refused_as_one_filled_apart(
    rows: Any, nullable: bool, budget: int, expected: str
) -> None:
    selection = organizations(nullable=nullable)
    inlined = await outcome(selection.objects, PRINCIPALS[0], rows, budget)
    assert inlined == await outcome(apart(organizations(nullable)), PRINCIPALS[0], rows, budget)
    assert inlined[0] == expected
