"""Who may see which restricted field, as data: an audience per field, a rule per audience.

Fields are public unless declared with an audience (see `schema.visibility.restricted`).
An object's *owners* are the organizations it belongs to: an organization owns itself, a
host owns its event, inviter and invitee own their invitation.
"""

from dataclasses import dataclass
from enum import Enum

from club.enums import Role


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller, as its token says: a role, and for ORGANIZATION tokens the organization
    it acts as and whether that was a member when the request arrived."""

    role: Role
    organization_id: int | None = None
    organization_is_member: bool = False
    token_id: int | None = None  # ends live subscriptions when this token is revoked

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


class Audience(Enum):
    PUBLIC = "public"
    # The secretariat, member organizations, and the owner itself (e.g. contact e-mails,
    # meeting links): what the club shares inside the club.
    CLUB = "club"
    # The secretariat and the owners only (e.g. invitations and quotas).
    OWNERS = "owners"


def can_see(audience: Audience, principal: Principal, owners: frozenset[int]) -> bool:
    """Whether `principal` may see a field for `audience` on an object owned by `owners`."""
    if audience is Audience.PUBLIC or principal.role is Role.ADMIN:
        return True
    if principal.role is not Role.ORGANIZATION or principal.organization_id is None:
        return False  # partners see public fields only
    if principal.organization_id in owners:
        return True
    return audience is Audience.CLUB and principal.organization_is_member
