"""Invitation and InvitationQuota: how a guest becomes a member. Visible to admins and to
the inviter and the invitee only."""

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

import schema.organizations as organization_types
from db import models
from resolvers.context import Info
from resolvers.visibility import Audience
from schema.enums import InvitationStatus
from schema.ids import decode_id, encode_id
from schema.visibility import principal_can_see

if TYPE_CHECKING:
    from schema.organizations import Organization

LazyOrganization = Annotated["Organization", strawberry.lazy("schema.organizations")]


def effective_status(row: models.Invitation, now: datetime) -> InvitationStatus:
    """A pending invitation past its expiry time is expired, whether or not a job noticed."""
    if row.status is InvitationStatus.PENDING and row.expires_at <= now:
        return InvitationStatus.EXPIRED
    return row.status


@strawberry.federation.type(keys=["id"], description="A member's invitation to a guest.")
class Invitation:
    id: strawberry.ID
    status: InvitationStatus
    message: str | None
    year: int = strawberry.field(description="Calendar year (UTC) whose quota it counts against.")
    created_at: datetime
    expires_at: datetime
    responded_at: datetime | None
    pk: strawberry.Private[int]
    inviter_id: strawberry.Private[int]
    invitee_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Invitation) -> Self:
        return cls(
            id=encode_id("Invitation", row.id),
            status=effective_status(row, datetime.now(UTC)),
            message=row.message,
            year=row.year,
            created_at=row.created_at,
            expires_at=row.expires_at,
            responded_at=row.responded_at,
            pk=row.id,
            inviter_id=row.inviter_id,
            invitee_id=row.invitee_id,
        )

    def owner_ids(self) -> frozenset[int]:
        return frozenset((self.inviter_id, self.invitee_id))

    @strawberry.field
    async def inviter(self, info: Info) -> LazyOrganization:
        row = await info.context.loaders.organization.load(self.inviter_id)
        assert row is not None, "invitations.inviter_id is a foreign key"
        return organization_types.Organization.from_row(row)

    @strawberry.field
    async def invitee(self, info: Info) -> LazyOrganization:
        row = await info.context.loaders.organization.load(self.invitee_id)
        assert row is not None, "invitations.invitee_id is a foreign key"
        return organization_types.Organization.from_row(row)

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> "Invitation | None":
        return await load_visible_invitation(info, decode_id("Invitation", id))


async def load_visible_invitation(info: Info, pk: int) -> Invitation | None:
    """The invitation, or None when it does not exist or the caller may not see it."""
    row = await info.context.loaders.invitation.load(pk)
    if row is None:
        return None
    invitation = Invitation.from_row(row)
    if not principal_can_see(info.context.principal, Audience.OWNERS, invitation.owner_ids()):
        return None
    return invitation


@strawberry.type(description="How many invitations a member may still send in a year.")
class InvitationQuota:
    year: int
    limit: int
    used: int
    remaining: int

    @classmethod
    def of(cls, *, year: int, limit: int, used: int) -> Self:
        return cls(year=year, limit=limit, used=used, remaining=max(limit - used, 0))
