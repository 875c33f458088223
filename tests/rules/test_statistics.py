"""Who sees a year's invitation outcomes in the club's statistics, without GraphQL."""

import pytest

from club.access import Principal
from club.enums import Role
from club.statistics import MIN_INVITATIONS_DISCLOSED, discloses_invitation_outcomes

CALLERS = {
    "admin": Principal(Role.ADMIN),
    "partner": Principal(Role.PARTNER),
    "a member": Principal(Role.ORGANIZATION, 1, organization_is_member=True),
    "a guest": Principal(Role.ORGANIZATION, 2),
}


@pytest.mark.parametrize("who", CALLERS)
def test_outcomes_of_a_year_with_few_invitations_are_the_secretariat_s(who: str) -> None:
    principal = CALLERS[who]
    assert MIN_INVITATIONS_DISCLOSED == 5
    shown = [sent for sent in range(12) if discloses_invitation_outcomes(principal, sent)]
    assert shown == (list(range(12)) if who == "admin" else list(range(5, 12)))
