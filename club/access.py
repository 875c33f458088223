"""Who may see which restricted field, as data: an audience per field, a rule per audience.

Fields are public unless declared with an audience (see `schema.visibility.restricted`).
An object's *owners* are the organizations it belongs to: an organization owns itself, a
host owns its event, inviter and invitee own their invitation.
"""

from dataclasses import dataclass
from enum import Enum

from club.enums import Role
from club.errors import ErrorCode, PayloadRefusal, RequestError
from club.ids import id_of


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


# A request without a token, where the server allows those (CLUBJUSTICE_ANONYMOUS_READS): no
# organization, no token; public fields only, and no mutation (schema/limits.py).
ANONYMOUS = Principal(Role.ANONYMOUS)


def callers(role: Role) -> str:
    """A role's callers, in a refusal's words: "PARTNER tokens", "requests without a token"."""
    return "requests without a token" if role is Role.ANONYMOUS else f"{role.value} tokens"


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
        return False  # partners and anonymous callers see public fields only
    if principal.organization_id in owners:
        return True
    return audience is Audience.CLUB and principal.organization_is_member


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        allowed = ", ".join(role.value for role in roles)
        raise RequestError.forbidden(
            f"The {principal.role.value} role may not do this (it needs {allowed})."
        )


def acting_organization(principal: Principal) -> int:
    """The organization an ORGANIZATION token acts as; admins act for none."""
    if principal.organization_id is None:
        raise PayloadRefusal(
            ErrorCode.FORBIDDEN, "This acts for an organization; use that organization's token."
        )
    return principal.organization_id


def organization_acted_for(principal: Principal, given: str | None, field: str) -> int:
    """The organization a mutation acts for: ADMIN names it in `field`; an ORGANIZATION
    token acts as itself and may name only itself."""
    acted_for = optional_organization_acted_for(principal, given, field)
    if acted_for is None:
        raise PayloadRefusal(ErrorCode.INVALID_INPUT, f"Name the organization in `{field}`.", field)
    return acted_for


def optional_organization_acted_for(
    principal: Principal, given: str | None, field: str
) -> int | None:
    """As `organization_acted_for`, but ADMIN may leave `field` out (None: no organization)."""
    if principal.role is Role.ADMIN:
        return None if given is None else id_of("Organization", given, field)
    own = acting_organization(principal)
    if given is not None and id_of("Organization", given, field) != own:
        raise PayloadRefusal(ErrorCode.FORBIDDEN, "An organization acts only as itself.", field)
    return own
