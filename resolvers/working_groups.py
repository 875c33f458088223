"""Query resolvers for working groups."""

import strawberry
from sqlalchemy import select

from db import models
from resolvers.context import Info
from resolvers.lookup import exactly_one_key
from schema.ids import decode_id
from schema.working_groups import WorkingGroup


async def working_groups(info: Info) -> list[WorkingGroup]:
    async with info.context.session_factory() as session:
        rows = await session.scalars(select(models.WorkingGroup).order_by(models.WorkingGroup.name))
        return [WorkingGroup.from_row(row) for row in rows]


async def working_group(
    info: Info, id: strawberry.ID | None = None, slug: str | None = None
) -> WorkingGroup | None:
    key, value = exactly_one_key(id=id, slug=slug)
    loaders = info.context.loaders
    if key == "id":
        row = await loaders.working_group.load(decode_id("WorkingGroup", value))
    else:
        row = await loaders.working_group_by_slug.load(value)
    return WorkingGroup.from_row(row) if row else None
