"""What the club's statistics disclose, and to whom (docs/statistics.md).

Every figure is an aggregate, and all but the invitation figures count what the graph
already shows every caller (organizations, their status, country, kind and join time; events
and attendances). Invitations are the secretariat's and their two parties' only
(`Audience.OWNERS`), so their outcomes are shown to others only for a year with enough of
them that no row describes one invitation, or a few whose parties could be guessed from the
public joins (an organization's `sponsor` and `joinedAt`).
"""

from club.access import Principal

# A year's invitation outcomes are shown to callers other than ADMIN only when at least this
# many invitations were sent that year.
MIN_INVITATIONS_DISCLOSED = 5


def discloses_invitation_outcomes(principal: Principal, sent: int) -> bool:
    """Whether `principal` sees the outcomes of a year in which `sent` invitations were sent."""
    return principal.is_admin or sent >= MIN_INVITATIONS_DISCLOSED
