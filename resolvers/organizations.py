"""Query resolvers for organizations: the directory and single lookups."""

import strawberry
from sqlalchemy import select

from db import models
from resolvers.context import Info
from resolvers.lookup import exactly_one_key
from resolvers.pagination import SortOrder, page_size, paginate
from schema.ids import decode_id
from schema.organizations import Organization, OrganizationFilter
from schema.pagination import Connection

BY_NAME = SortOrder("organizations", (models.Organization.name, models.Organization.id))


async def organizations(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    filter: OrganizationFilter | None = None,
) -> Connection[Organization]:
    statement = select(models.Organization)
    if filter is not None:
        if filter.status is not None:
            statement = statement.where(models.Organization.status == filter.status)
        if filter.country_code is not None:
            statement = statement.join(models.Country).where(
                models.Country.code == filter.country_code.strip().upper()
            )
        if filter.search:
            statement = statement.where(
                models.Organization.name.icontains(filter.search.strip(), autoescape=True)
            )
    return await paginate(
        info.context.session_factory,
        statement,
        BY_NAME,
        first=page_size(first, info.context.settings),
        after=after,
        to_node=Organization.from_row,
    )


async def organization(
    info: Info, id: strawberry.ID | None = None, slug: str | None = None
) -> Organization | None:
    key, value = exactly_one_key(id=id, slug=slug)
    loaders = info.context.loaders
    if key == "id":
        row = await loaders.organization.load(decode_id("Organization", value))
    else:
        row = await loaders.organization_by_slug.load(value)
    return Organization.from_row(row) if row else None
