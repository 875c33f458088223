"""The benchmark's scenarios: one GraphQL document for our server, the same question asked
of PostGraphile with aliases (so both answer with equal JSON), and the request bodies."""

import random
from dataclasses import dataclass

from schema.ids import encode_id

S3_COUNTRIES = 20  # the first 20 countries by id: `_entities`, since `countries` has no `first`
S4_ORGANIZATIONS = 100

OURS = {
    "S1": "{ __typename }",
    "S2": "query Directory { organizations(first: 50) { edges { node { name slug status kind "
    "website country { code name } } } } }",
    "S3": "query Walk($representations: [_Any!]!) { _entities(representations: "
    "$representations) { ... on Country { name organizations(first: 20) { name attendances "
    "{ role event { title host { name } } } } } } }",
    "S4": "query Entities($representations: [_Any!]!) { _entities(representations: "
    "$representations) { ... on Organization { name slug country { code } } } }",
}

# PostGraphile 5 (Amber preset, bench/postgraphile/graphile.config.mjs): `rowId` is our
# integer id; every ordering is spelled out, ties broken by the id, as our loaders do.
POSTGRAPHILE = {
    "S1": "{ __typename }",
    "S2": "query Directory { organizations: allOrganizations(first: 50, "
    "orderBy: [NAME_ASC, ROW_ID_ASC]) { edges { node { name slug status kind website "
    "country: countryByCountryId { code name } } } } }",
    "S3": f"query Walk {{ _entities: allCountriesList(first: {S3_COUNTRIES}, "
    "orderBy: ROW_ID_ASC) { name organizations: organizationsByCountryIdList(first: 20, "
    "orderBy: [NAME_ASC, ROW_ID_ASC]) { name attendances: attendancesByOrganizationIdList("
    "orderBy: [RECORDED_AT_ASC, ROW_ID_ASC]) { role event: eventByEventId { title "
    "host: organizationByHostId { name } } } } } }",
}

DESCRIPTIONS = {
    "S1": "`{ __typename }`",
    "S2": "directory page: `organizations(first: 50)`, 6 fields + `country { code name }`",
    "S3": f"`_entities` of {S3_COUNTRIES} countries → `organizations(first: 20)` → "
    "attendances → event → host",
    "S4": f"`_entities` of {S4_ORGANIZATIONS} organizations → name, slug, `country {{ code }}`",
}


@dataclass(frozen=True)
class Bodies:
    """The JSON request bodies of each scenario: ours (also the floor's) and PostGraphile's."""

    ours: dict[str, dict[str, object]]
    postgraphile: dict[str, dict[str, object]]


def bodies(country_ids: list[int], organization_ids: list[int]) -> Bodies:
    """`country_ids` in id order (S3 takes the first 20); S4 samples 100 organizations."""
    countries = [
        {"__typename": "Country", "id": encode_id("Country", n)}
        for n in sorted(country_ids)[:S3_COUNTRIES]
    ]
    sample = random.Random(7).sample(organization_ids, min(S4_ORGANIZATIONS, len(organization_ids)))
    organizations = [
        {"__typename": "Organization", "id": encode_id("Organization", n)} for n in sample
    ]
    variables: dict[str, dict[str, object]] = {
        "S1": {},
        "S2": {},
        "S3": {"representations": countries},
        "S4": {"representations": organizations},
    }
    return Bodies(
        ours={s: {"query": q, "variables": variables[s]} for s, q in OURS.items()},
        postgraphile={s: {"query": q, "variables": {}} for s, q in POSTGRAPHILE.items()},
    )
