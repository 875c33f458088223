"""Query resolvers for countries."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select

from club.validation import COUNTRY_CODE_LENGTH, argument, country_code_of
from db import models
from resolvers.context import Info
from resolvers.list_sizes import row_count

# `countries` returns every row: as long as the table.
COUNTRIES = row_count("countries", models.Country)


async def countries(info: Info) -> Sequence[models.Country]:
    async with info.context.session_factory() as session:
        return (await session.scalars(by_name(models.Country))).all()


def by_name(*columns: Any) -> Select[Any]:
    """Every country (`columns` of it), by name: also read by the compiled read path."""
    return select(*columns).order_by(models.Country.name)


async def country(info: Info, code: str) -> models.Country | None:
    return await info.context.loaders.country_by_code.load(
        country_code_of(argument(code.strip(), "code", max_length=COUNTRY_CODE_LENGTH))
    )
