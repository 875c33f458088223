"""Country: ISO 3166-1 countries. (Their organizations: schema/organizations.py adds them.)"""

from typing import Self

import strawberry

from club.ids import decode_id
from club.validation import COUNTRY_CODE_LENGTH, argument, country_code_of
from db import models
from resolvers import countries
from resolvers.context import Info
from schema.domain import Domain
from schema.fields import field
from schema.ids import encode_id


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

    @field(description="Member organizations based here.")
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
            row = await loaders.country_by_code.load(
                country_code_of(
                    argument((code or "").strip(), "code", max_length=COUNTRY_CODE_LENGTH)
                )
            )
        return cls.from_row(row) if row else None


@strawberry.type
class CountryQueries:
    @field(
        description="Every ISO 3166-1 country, by name.",
        list_size=250,
        observed_by=countries.COUNTRIES,
    )
    async def countries(self, info: Info) -> list[Country]:
        return [Country.from_row(row) for row in await countries.countries(info)]

    @field(description="A country by ISO alpha-2 code.")
    async def country(self, info: Info, code: str) -> Country | None:
        row = await countries.country(info, code)
        return Country.from_row(row) if row else None


DOMAIN = Domain(query=CountryQueries)
