"""Organization: guests and members of the club, their sponsors, events and invitations."""

from datetime import UTC, datetime
from typing import Self

import strawberry

import schema.countries as country_types
import schema.events as event_types
import schema.invitations as invitation_types
import schema.working_groups as working_group_types
from club.access import Audience
from club.ids import decode_id
from db import models
from resolvers.context import Info
from resolvers.loaders import InviterYearKey
from schema.enums import OrganizationKind, OrganizationStatus
from schema.ids import encode_id
from schema.payloads import Payload, UserError
from schema.refs import (
    AttendanceRef,
    CountryRef,
    EventRef,
    InvitationQuotaRef,
    InvitationRef,
    WorkingGroupRef,
)
from schema.visibility import restricted


def _current_year() -> int:
    return datetime.now(UTC).year


@strawberry.federation.type(keys=["id"], description="An access-to-justice organization.")
class Organization:
    id: strawberry.ID
    slug: str
    name: str
    kind: OrganizationKind
    status: OrganizationStatus
    website: str | None
    description: str | None
    contact_email: str | None = strawberry.field(
        description="Visible to admins, member organizations and the organization itself.",
        extensions=restricted(Audience.CLUB),
    )
    joined_at: datetime | None = strawberry.field(description="When it became a member.")
    pk: strawberry.Private[int]
    country_id: strawberry.Private[int]
    sponsor_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.Organization) -> Self:
        return cls(
            id=encode_id("Organization", row.id),
            slug=row.slug,
            name=row.name,
            kind=row.kind,
            status=row.status,
            website=row.website,
            description=row.description,
            contact_email=row.contact_email,
            joined_at=row.joined_at,
            pk=row.id,
            country_id=row.country_id,
            sponsor_id=row.sponsor_id,
        )

    def owner_ids(self) -> frozenset[int]:
        return frozenset((self.pk,))

    @strawberry.field
    async def country(self, info: Info) -> CountryRef:
        row = await info.context.loaders.country.load(self.country_id)
        assert row is not None, "organizations.country_id is a foreign key"
        return country_types.Country.from_row(row)

    @strawberry.field(description="The member whose invitation it accepted.")
    async def sponsor(self, info: Info) -> "Organization | None":
        if self.sponsor_id is None:
            return None
        row = await info.context.loaders.organization.load(self.sponsor_id)
        return Organization.from_row(row) if row else None

    @strawberry.field(description="Organizations that joined on its invitation.")
    async def sponsored(self, info: Info) -> list["Organization"]:
        rows = await info.context.loaders.organizations_sponsored_by.load(self.pk)
        return [Organization.from_row(row) for row in rows]

    @strawberry.field(
        description="Invitations it sent (in `year`, if given). Admins and itself only.",
        extensions=restricted(Audience.OWNERS),
    )
    async def invitations_sent(
        self, info: Info, year: int | None = None
    ) -> list[InvitationRef] | None:
        rows = await info.context.loaders.invitations_sent.load(InviterYearKey(self.pk, year))
        return [invitation_types.Invitation.from_row(row) for row in rows]

    @strawberry.field(
        description="Invitations it received. Admins and itself only.",
        extensions=restricted(Audience.OWNERS),
    )
    async def invitations_received(self, info: Info) -> list[InvitationRef] | None:
        rows = await info.context.loaders.invitations_received.load(self.pk)
        return [invitation_types.Invitation.from_row(row) for row in rows]

    @strawberry.field(
        description="Invitations it may still send in `year` (default: this year, UTC). "
        "Admins and itself only.",
        extensions=restricted(Audience.OWNERS),
    )
    async def invitation_quota(
        self, info: Info, year: int | None = None
    ) -> InvitationQuotaRef | None:
        year = _current_year() if year is None else year
        sent = await info.context.loaders.invitations_sent.load(InviterYearKey(self.pk, year))
        return invitation_types.InvitationQuota.of(
            year=year, limit=info.context.settings.invitation_quota, used=len(sent)
        )

    @strawberry.field(description="Club events it attended, in any role.")
    async def attendances(self, info: Info) -> list[AttendanceRef]:
        rows = await info.context.loaders.attendances_of_organization.load(self.pk)
        return [event_types.Attendance.from_row(row) for row in rows]

    @strawberry.field
    async def hosted_events(self, info: Info) -> list[EventRef]:
        rows = await info.context.loaders.events_hosted_by.load(self.pk)
        return [event_types.Event.from_row(row) for row in rows]

    @strawberry.field
    async def working_groups(self, info: Info) -> list[WorkingGroupRef]:
        rows = await info.context.loaders.working_groups_of_organization.load(self.pk)
        return [working_group_types.WorkingGroup.from_row(row) for row in rows]

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Self | None:
        row = await info.context.loaders.organization.load(decode_id("Organization", id))
        return cls.from_row(row) if row else None


@strawberry.input(description="Narrows `organizations`; all given conditions must hold.")
class OrganizationFilter:
    status: OrganizationStatus | None = None
    country_code: str | None = strawberry.field(default=None, description="ISO alpha-2.")
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the name."
    )


@strawberry.input(description="A new organization; it starts as a GUEST.")
class RegisterOrganizationInput:
    name: str
    country_code: str = strawberry.field(description="ISO 3166-1 alpha-2, e.g. `GE`.")
    kind: OrganizationKind
    website: str | None = None
    description: str | None = None
    contact_email: str | None = None


@strawberry.input(description="Fields to change; omitted fields stay, null clears one.")
class UpdateOrganizationInput:
    name: str | None = strawberry.UNSET
    country_code: str | None = strawberry.UNSET
    kind: OrganizationKind | None = strawberry.UNSET
    website: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    contact_email: str | None = strawberry.UNSET


@strawberry.type
class OrganizationPayload(Payload):
    organization: Organization | None
    errors: list[UserError]
