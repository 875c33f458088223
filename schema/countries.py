"""Country: ISO 3166-1 countries and the organizations based in them."""

from typing import Self

import strawberry

import schema.organizations as organization_types
from club.ids import decode_id
from db import models
from resolvers.context import Info
from resolvers.loaders import CountryOrganizationsKey
from resolvers.pagination import page_size
from schema.enums import OrganizationStatus
from schema.ids import encode_id
from schema.refs import OrganizationRef


@strawberry.federation.type(keys=["id", "code"], description="A country (ISO 3166-1).")
class Country:
    id: strawberry.ID
    code: str = strawberry.field(description="ISO 3166-1 alpha-2 code, e.g. `MD`.")
    name: str
    region: str = strawberry.field(description="Continent, e.g. `Europe`.")
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Country) -> Self:
        return cls(
            id=encode_id("Country", row.id),
            code=row.code,
            name=row.name,
            region=row.region,
            pk=row.id,
        )

    @strawberry.field(
        description="Organizations based here, by name (`first` defaults to the maximum page size)."
    )
    async def organizations(
        self, info: Info, first: int | None = None, status: OrganizationStatus | None = None
    ) -> list[OrganizationRef]:
        settings = info.context.settings
        limit = page_size(settings.max_page_size if first is None else first, settings)
        key = CountryOrganizationsKey(self.pk, limit, status)
        rows = await info.context.loaders.organizations_of_country.load(key)
        return [organization_types.Organization.from_row(row) for row in rows]

    @strawberry.field(description="Member organizations based here.")
    async def member_count(self, info: Info) -> int:
        return await info.context.loaders.member_count_of_country.load(self.pk)

    @classmethod
    async def resolve_reference(
        cls, info: Info, id: strawberry.ID | None = None, code: str | None = None
    ) -> Self | None:
        loaders = info.context.loaders
        if id is not None:
            row = await loaders.country.load(decode_id("Country", id))
        else:
            row = await loaders.country_by_code.load((code or "").upper())
        return cls.from_row(row) if row else None
