"""Query resolvers for countries."""

from sqlalchemy import select

from db import models
from resolvers.context import Info
from schema.countries import Country


async def countries(info: Info) -> list[Country]:
    async with info.context.session_factory() as session:
        rows = await session.scalars(select(models.Country).order_by(models.Country.name))
        return [Country.from_row(row) for row in rows]


async def country(info: Info, code: str) -> Country | None:
    row = await info.context.loaders.country_by_code.load(code.strip().upper())
    return Country.from_row(row) if row else None
