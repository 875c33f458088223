"""Who may see which restricted field, as data: an audience per field, a rule per audience.

Fields are public unless declared with an audience (see `schema.visibility.restricted`).
An object's *owners* are the organizations it belongs to: an organization owns itself, a
host owns its event, inviter and invitee own their invitation.
"""

from enum import Enum

from db.enums import Role


class Audience(Enum):
    PUBLIC = "public"
    # The secretariat, member organizations, and the owner itself (e.g. contact e-mails,
    # meeting links): what the club shares inside the club.
    CLUB = "club"
    # The secretariat and the owners only (e.g. invitations and quotas).
    OWNERS = "owners"


def can_see(
    audience: Audience,
    *,
    role: Role | None,
    organization_id: int | None,
    organization_is_member: bool,
    owners: frozenset[int],
) -> bool:
    if audience is Audience.PUBLIC or role is Role.ADMIN:
        return True
    if role is not Role.ORGANIZATION or organization_id is None:
        return False  # partners and anonymous callers see public fields only
    if organization_id in owners:
        return True
    return audience is Audience.CLUB and organization_is_member
