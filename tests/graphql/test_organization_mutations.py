"""registerOrganization and updateOrganization: who may, what is checked."""

from datetime import UTC, datetime
from typing import Any

import pytest

from club.access import Principal
from club.enums import Role
from schema.ids import encode_id
from tests.factories import add, country_ids, organization
from tests.snapshots import snapshot

NOW = datetime(2026, 2, 2, 10, 0, tzinfo=UTC)
ADMIN = Principal(Role.ADMIN)
REGISTER = """
mutation($input: RegisterOrganizationInput!) {
  registerOrganization(input: $input) {
    organization { slug name kind status country { code } website description contactEmail }
    errors { code message field }
  }
}
"""
UPDATE = """
mutation($id: ID!, $input: UpdateOrganizationInput!) {
  updateOrganization(id: $id, input: $input) {
    organization { name website contactEmail country { code } }
    errors { code message field }
  }
}
"""
NEW = {
    "name": "Asociația Juriștilor din Bălți",
    "countryCode": "md",
    "kind": "NGO",
    "website": "https://balti-lawyers.example.org",
    "contactEmail": "Office@Balti-Lawyers.example.org",
}


@pytest.fixture
async def members(session_factory: Any) -> dict[str, Principal]:
    md = (await country_ids(session_factory, "MD"))["MD"]
    member, guest = organization(md, member=True, slug="member"), organization(md, slug="guest")
    await add(session_factory, member, guest)
    return {
        "member": Principal(
            Role.ORGANIZATION, organization_id=member.id, organization_is_member=True
        ),
        "guest": Principal(
            Role.ORGANIZATION, organization_id=guest.id, organization_is_member=False
        ),
    }


async def test_a_member_registers_a_guest(members: dict[str, Principal], run: Any) -> None:
    response = await run(REGISTER, {"input": NEW}, principal=members["member"], now=NOW)
    assert response == {
        "data": {
            "registerOrganization": {
                "organization": {
                    "slug": "asociatia-juristilor-din-balti",
                    "name": "Asociația Juriștilor din Bălți",
                    "kind": "NGO",
                    "status": "GUEST",
                    "country": {"code": "MD"},
                    "website": "https://balti-lawyers.example.org/",  # normalized
                    "description": None,
                    "contactEmail": "Office@balti-lawyers.example.org",
                },
                "errors": [],
            }
        }
    }
    # The same name again in another country gets a slug with the country code; a third is refused.
    again = await run(REGISTER, {"input": {**NEW, "countryCode": "RO"}}, principal=ADMIN, now=NOW)
    assert again["data"]["registerOrganization"]["organization"]["slug"] == (
        "asociatia-juristilor-din-balti-ro"
    )
    third = await run(REGISTER, {"input": {**NEW, "countryCode": "RO"}}, principal=ADMIN, now=NOW)
    assert third["data"]["registerOrganization"]["errors"] == [
        {
            "code": "NAME_TAKEN",
            "message": "An organization named 'Asociația Juriștilor din Bălți' is registered.",
            "field": "name",
        }
    ]


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"countryCode": "XX"}, "INVALID_INPUT", "countryCode"),
        ({"name": " "}, "INVALID_INPUT", "name"),
        ({"name": "x" * 201}, "INVALID_INPUT", "name"),
        ({"website": "ftp://files.example.org"}, "INVALID_INPUT", "website"),
        ({"contactEmail": "not an address"}, "INVALID_INPUT", "contactEmail"),
        ({"description": "x" * 5001}, "INVALID_INPUT", "description"),
    ],
)
async def test_registration_input_is_validated(
    session_factory: Any, run: Any, change: dict[str, str], code: str, field: str
) -> None:
    before = await snapshot(session_factory)
    response = await run(REGISTER, {"input": {**NEW, **change}}, principal=ADMIN, now=NOW)
    payload = response["data"]["registerOrganization"]
    assert payload["organization"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]
    assert await snapshot(session_factory) == before


async def test_guests_may_not_register_others(
    session_factory: Any, members: dict[str, Principal], run: Any
) -> None:
    before = await snapshot(session_factory)
    response = await run(REGISTER, {"input": NEW}, principal=members["guest"], now=NOW)
    assert response["data"]["registerOrganization"] == {
        "organization": None,
        "errors": [
            {
                "code": "MEMBERSHIP_REQUIRED",
                "message": "Only members register new organizations.",
                "field": None,
            }
        ],
    }
    assert await snapshot(session_factory) == before


async def test_an_organization_updates_itself_only(
    session_factory: Any, members: dict[str, Principal], run: Any
) -> None:
    member = members["member"]
    own_id = encode_id("Organization", member.organization_id or 0)
    changed = await run(
        UPDATE,
        {
            "id": own_id,
            "input": {
                "website": None,
                "contactEmail": "hello@member.example.org",
                "countryCode": "AL",
            },
        },
        principal=member,
        now=NOW,
    )
    assert changed == {
        "data": {
            "updateOrganization": {
                "organization": {
                    "name": changed["data"]["updateOrganization"]["organization"]["name"],
                    "website": None,
                    "contactEmail": "hello@member.example.org",
                    "country": {"code": "AL"},
                },
                "errors": [],
            }
        }
    }
    other_id = encode_id("Organization", members["guest"].organization_id or 0)
    before = await snapshot(session_factory)
    response = await run(
        UPDATE, {"id": other_id, "input": {"name": "Taken over"}}, principal=member
    )
    assert response["data"]["updateOrganization"]["errors"] == [
        {
            "code": "FORBIDDEN",
            "message": "An organization changes only its own details.",
            "field": "id",
        }
    ]
    missing = await run(
        UPDATE,
        {"id": encode_id("Organization", 999_999), "input": {"name": "Nobody"}},
        principal=ADMIN,
    )
    assert missing["data"]["updateOrganization"]["errors"] == [
        {"code": "NOT_FOUND", "message": "No such organization.", "field": "id"}
    ]
    assert await snapshot(session_factory) == before


async def test_a_long_name_taken_twice_still_fits_the_slug_column(run: Any) -> None:
    long_name = "Legal Aid " + " ".join(["Association"] * 20)
    registration = {"input": {**NEW, "name": long_name[:200]}}
    slugs = []
    for _ in range(2):
        response = await run(REGISTER, registration, principal=ADMIN, now=NOW)
        organization = response["data"]["registerOrganization"]["organization"]
        slugs.append(organization["slug"])
    assert slugs[1].endswith("-md") and all(len(slug) <= 80 for slug in slugs)
    assert len(set(slugs)) == 2
