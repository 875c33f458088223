"""Organization: guests and members of the club, and their sponsors; the directory; the
mutations that register and update one. (Their events, invitations and working groups: the
modules of those domains add them.)"""

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Self

import strawberry

from club.access import Audience
from club.cursors import activity_cursor
from club.ids import decode_id
from db import models
from db.notifier import LiveEvent
from resolvers import organizations
from resolvers.context import Info
from resolvers.loaders import CountryOrganizationsKey, Loaders
from resolvers.pagination import page_size
from schema.countries import Country
from schema.domain import Domain, updates_as
from schema.enums import OrganizationKind, OrganizationStatus
from schema.fields import contributes_to, field, relation
from schema.ids import encode_id
from schema.inputs import given
from schema.pagination import Connection
from schema.payloads import Payload, UserError


@strawberry.federation.type(keys=["id"], description="An access-to-justice organization.")
class Organization:
    id: strawberry.ID
    slug: str
    name: str
    kind: OrganizationKind
    status: OrganizationStatus
    website: str | None
    description: str | None
    contact_email: str | None = field(
        description="Visible to admins, member organizations and the organization itself.",
        audience=Audience.CLUB,
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

    country: Country = relation("country", key="country_id", to=Country.from_row)
    sponsor: "Organization | None" = relation(
        "organization",
        key="sponsor_id",
        to=lambda row: Organization.from_row(row),
        description="The member whose invitation it accepted.",
    )
    sponsored: list["Organization"] = relation(
        "organizations_sponsored_by",
        key="pk",
        to=lambda row: Organization.from_row(row),
        many=True,
        list_size=20,
        description="Organizations that joined on its invitation.",
    )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Self | None:
        row = await info.context.loaders.organization.load(decode_id("Organization", id))
        return cls.from_row(row) if row else None


@contributes_to(Country)
class CountryOrganizations(Country):
    @field(
        description="Organizations based here, by name (`first` defaults to the maximum page "
        "size).",
        list_size=100,  # its `first`, which defaults to the largest page
        observed_by=Loaders.organizations_of_country.observed(),
    )
    async def organizations(
        self, info: Info, first: int | None = None, status: OrganizationStatus | None = None
    ) -> list[Organization]:
        settings = info.context.settings
        limit = page_size(settings.max_page_size if first is None else first, settings)
        key = CountryOrganizationsKey(self.pk, limit, status)
        rows = await info.context.loaders.organizations_of_country.load(key)
        return [Organization.from_row(row) for row in rows]


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
    errors: list[UserError] = field(list_size=5)


@strawberry.type
class OrganizationQueries:
    @field(description="The directory, by name.")
    async def organizations(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: OrganizationFilter | None = None,
    ) -> Connection[Organization]:
        page = await organizations.organizations(info, first=first, after=after, **given(filter))
        return Connection.of(page, Organization.from_row)

    @field(description="An organization by `id` or `slug`.")
    async def organization(
        self, info: Info, id: strawberry.ID | None = None, slug: str | None = None
    ) -> Organization | None:
        row = await organizations.organization(info, id=id, slug=slug)
        return Organization.from_row(row) if row else None


@strawberry.type
class OrganizationMutations:
    @strawberry.mutation(
        description="Register an organization as a GUEST (the secretariat or a member)."
    )
    async def register_organization(
        self, info: Info, input: RegisterOrganizationInput
    ) -> OrganizationPayload:
        return await OrganizationPayload.of(
            organizations.register_organization(info, **given(input)), Organization.from_row
        )

    @strawberry.mutation(
        description="Change an organization's details (the secretariat or itself)."
    )
    async def update_organization(
        self, info: Info, id: strawberry.ID, input: UpdateOrganizationInput
    ) -> OrganizationPayload:
        return await OrganizationPayload.of(
            organizations.update_organization(info, id=id, given=given(input)),
            Organization.from_row,
        )


@strawberry.type(description="An organization became a member.")
class MemberJoined:
    cursor: str
    organization: Organization
    joined_at: datetime
    sponsor_id: strawberry.Private[int | None]

    @classmethod
    def from_live(cls, live: LiveEvent) -> Self:
        joined = live.subject_as(models.Organization)
        assert joined is not None, "MEMBER_JOINED rows name the organization"
        return cls(
            cursor=activity_cursor(live.id),
            organization=Organization.from_row(joined),
            joined_at=live.entry.occurred_at,
            sponsor_id=joined.sponsor_id,
        )

    sponsor: Organization | None = relation(
        "organization",
        key="sponsor_id",
        to=Organization.from_row,
        description="The member whose invitation it accepted.",
    )


@strawberry.type
class OrganizationSubscriptions:
    @strawberry.subscription(
        description="Organizations becoming members (of one country, if given). With "
        "`after`, first every one since that cursor."
    )
    async def member_joined(
        self, info: Info, country_code: str | None = None, after: str | None = None
    ) -> AsyncGenerator[MemberJoined, None]:
        events = await organizations.member_joined(info, country_code=country_code, after=after)
        return updates_as(events, MemberJoined.from_live)


DOMAIN = Domain(
    query=OrganizationQueries,
    mutation=OrganizationMutations,
    subscription=OrganizationSubscriptions,
)
