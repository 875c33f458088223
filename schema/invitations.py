"""Invitation and InvitationQuota: how a guest becomes a member. Visible to admins and to
the inviter and the invitee only."""

from datetime import datetime
from typing import Self

import strawberry

import schema.organizations as organization_types
from club.access import Audience
from club.ids import decode_id
from club.rules import effective_invitation_status
from db import models
from resolvers.context import Info
from resolvers.invitation_access import visible_invitation
from resolvers.loaders import InviterYearKey
from schema.enums import InvitationStatus
from schema.fields import contributes_to, field, relation
from schema.ids import encode_id
from schema.payloads import Payload, UserError
from schema.refs import OrganizationRef


@strawberry.federation.type(keys=["id"], description="A member's invitation to a guest.")
class Invitation:
    id: strawberry.ID
    message: str | None
    year: int = strawberry.field(description="Calendar year (UTC) whose quota it counts against.")
    created_at: datetime
    expires_at: datetime
    responded_at: datetime | None
    stored_status: strawberry.Private[InvitationStatus]
    pk: strawberry.Private[int]
    inviter_id: strawberry.Private[int]
    invitee_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Invitation) -> Self:
        return cls(
            id=encode_id("Invitation", row.id),
            stored_status=row.status,
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

    @strawberry.field(description="EXPIRED once a pending invitation passes `expiresAt`.")
    def status(self, info: Info) -> InvitationStatus:
        return effective_invitation_status(self.stored_status, self.expires_at, info.context.now)

    @strawberry.field
    async def inviter(self, info: Info) -> OrganizationRef:
        row = await info.context.loaders.organization.load(self.inviter_id)
        assert row is not None, "invitations.inviter_id is a foreign key"
        return organization_types.Organization.from_row(row)

    @strawberry.field
    async def invitee(self, info: Info) -> OrganizationRef:
        row = await info.context.loaders.organization.load(self.invitee_id)
        assert row is not None, "invitations.invitee_id is a foreign key"
        return organization_types.Organization.from_row(row)

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> "Invitation | None":
        row = await visible_invitation(info, decode_id("Invitation", id))
        return cls.from_row(row) if row else None


@strawberry.type(description="How many invitations a member may still send in a year.")
class InvitationQuota:
    year: int
    limit: int
    used: int
    remaining: int

    @classmethod
    def of(cls, *, year: int, limit: int, used: int) -> Self:
        return cls(year=year, limit=limit, used=used, remaining=max(limit - used, 0))


@strawberry.input(description="Invite a guest to join the club.")
class InviteOrganizationInput:
    invitee_id: strawberry.ID
    message: str | None = None
    inviter_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="ADMIN only: the member that invites. Organizations invite as themselves.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Any string up to 100 characters, unique per attempt: a retry with the same "
        "key returns the first invitation and uses no second slot of the quota.",
    )


@strawberry.type
class InvitationPayload(Payload):
    invitation: Invitation | None
    errors: list[UserError]


@contributes_to(organization_types.Organization)
class OrganizationInvitations(organization_types.Organization):
    @field(
        description="Invitations it sent (in `year`, if given). Admins and itself only.",
        audience=Audience.OWNERS,
        list_size=10,
    )
    async def invitations_sent(
        self, info: Info, year: int | None = None
    ) -> list[Invitation] | None:
        rows = await info.context.loaders.invitations_sent.load(InviterYearKey(self.pk, year))
        return [Invitation.from_row(row) for row in rows]

    invitations_received: list[Invitation] | None = relation(
        "invitations_received",
        key="pk",
        to=Invitation.from_row,
        many=True,
        list_size=10,
        audience=Audience.OWNERS,
        description="Invitations it received. Admins and itself only.",
    )

    @field(
        description="Invitations it may still send in `year` (default: this year, UTC). "
        "Admins and itself only.",
        audience=Audience.OWNERS,
        clock=True,
    )
    async def invitation_quota(self, info: Info, year: int | None = None) -> InvitationQuota | None:
        year = info.context.now.year if year is None else year
        sent = await info.context.loaders.invitations_sent.load(InviterYearKey(self.pk, year))
        return InvitationQuota.of(
            year=year, limit=info.context.settings.invitation_quota, used=len(sent)
        )
