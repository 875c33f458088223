"""The generated builder of a selection's objects (schema/compiled/nodes.py `object_builder`)
against the fields' own `value`, row by row: the same objects, the same keys in the same
order, and `Unanswerable` for a null where the schema says non-null."""

from datetime import UTC, datetime
from typing import Any

import pytest

from club.access import Audience, Principal
from club.enums import OrganizationStatus, Role
from schema.compiled.nodes import Column, GlobalId, Restricted, Typename, object_builder
from schema.compiled.run import Unanswerable


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
