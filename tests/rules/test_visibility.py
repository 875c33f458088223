"""Who sees restricted fields: every role against every audience, without GraphQL."""

import pytest

from club.access import Audience, Principal, can_see
from club.enums import Role

OWNER, OTHER = 1, 2

# (role, organization, its membership) -> audiences it sees on an object owned by OWNER
CASES = [
    ("partner", Role.PARTNER, None, False, set()),
    ("admin", Role.ADMIN, None, False, {Audience.CLUB, Audience.OWNERS}),
    ("the owner, a guest", Role.ORGANIZATION, OWNER, False, {Audience.CLUB, Audience.OWNERS}),
    ("another guest", Role.ORGANIZATION, OTHER, False, set()),
    ("another member", Role.ORGANIZATION, OTHER, True, {Audience.CLUB}),
]


@pytest.mark.parametrize(
    ("who", "role", "organization", "member", "sees"), CASES, ids=[c[0] for c in CASES]
)
def test_each_role_sees_exactly_its_audiences(
    who: str, role: Role, organization: int | None, member: bool, sees: set[Audience]
) -> None:
    visible = {
        audience
        for audience in Audience
        if can_see(audience, Principal(role, organization, member), frozenset({OWNER}))
    }
    assert visible == {Audience.PUBLIC, *sees}


def test_an_invitation_is_owned_by_both_sides() -> None:
    for side in (OWNER, OTHER):
        guest = Principal(Role.ORGANIZATION, organization_id=side, organization_is_member=False)
        assert can_see(Audience.OWNERS, guest, frozenset({OWNER, OTHER}))
