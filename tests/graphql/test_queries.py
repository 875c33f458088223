"""Every Query field of the contract, and every relation in both directions, on the demo data."""

from datetime import UTC, datetime
from typing import Any

import pytest

from club.access import Principal
from club.enums import Role
from club.ids import parse_id
from db.seed import seed

ADMIN = Principal(Role.ADMIN)
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
async def demo(session_factory: Any) -> None:
    await seed(session_factory, now=NOW)


COUNTRY = """
query Country($code: String!) {
  country(code: $code) {
    code name region memberCount
    organizations { slug status }
    members: organizations(status: MEMBER) { slug }
    firstOne: organizations(first: 1) { slug }
  }
}
"""


async def test_country_and_its_organizations(demo: None, run: Any) -> None:
    assert await run(COUNTRY, {"code": "mk"}) == {
        "data": {
            "country": {
                "code": "MK",
                "name": "North Macedonia",
                "region": "Europe",
                "memberCount": 1,
                "organizations": [
                    {"slug": "macedonia-paralegals", "status": "MEMBER"},
                    {"slug": "skopje-klepp-graduates", "status": "GUEST"},
                ],
                "members": [{"slug": "macedonia-paralegals"}],
                "firstOne": [{"slug": "macedonia-paralegals"}],
            }
        }
    }
    assert await run(COUNTRY, {"code": "XX"}) == {"data": {"country": None}}


async def test_countries_are_every_iso_country_by_name(demo: None, run: Any) -> None:
    response = await run("{ countries { code name } }")
    countries = response["data"]["countries"]
    assert len(countries) == 249
    assert [c["name"] for c in countries] == sorted(c["name"] for c in countries)
    assert {"code": "KG", "name": "Kyrgyzstan"} in countries


ORGANIZATION = """
query Organization($slug: String!) {
  organization(slug: $slug) {
    slug name kind status joinedAt
    country { code }
    sponsor { slug }
    sponsored { slug }
    attendances { role event { title } }
    hostedEvents { title }
    workingGroups { slug }
    invitationsSent { status invitee { slug } inviter { slug } }
    invitationsReceived { status inviter { slug } }
    invitationQuota(year: 2022) { year limit used remaining }
  }
}
"""


async def test_organization_relations_in_both_directions(demo: None, run: Any) -> None:
    mongolia = await run(ORGANIZATION, {"slug": "mongolia-legal-aid"}, principal=ADMIN)
    assert mongolia == {
        "data": {
            "organization": {
                "slug": "mongolia-legal-aid",
                "name": "Mongolian Legal Aid Institute",
                "kind": "LEGAL_AID_PROVIDER",
                "status": "MEMBER",
                "joinedAt": "2022-03-14T09:30:00+00:00",
                "country": {"code": "MN"},
                "sponsor": {"slug": "kyrgyz-paralegals"},
                "sponsored": [],
                "attendances": [
                    {"role": "GUEST", "event": {"title": "Club Justice launch meeting"}}
                ],
                "hostedEvents": [],
                "workingGroups": [{"slug": "paralegal-field-work"}],
                "invitationsSent": [],
                "invitationsReceived": [
                    {"status": "ACCEPTED", "inviter": {"slug": "kyrgyz-paralegals"}}
                ],
                "invitationQuota": {"year": 2022, "limit": 5, "used": 0, "remaining": 5},
            }
        }
    }
    kyrgyz = await run(ORGANIZATION, {"slug": "kyrgyz-paralegals"}, principal=ADMIN)
    organization = kyrgyz["data"]["organization"]
    assert organization["sponsored"] == [{"slug": "mongolia-legal-aid"}]
    assert organization["hostedEvents"] == [{"title": "Paralegals' field work: remote supervision"}]
    assert organization["invitationsSent"] == [
        {
            "status": "ACCEPTED",
            "invitee": {"slug": "mongolia-legal-aid"},
            "inviter": {"slug": "kyrgyz-paralegals"},
        }
    ]
    assert organization["invitationQuota"] == {"year": 2022, "limit": 5, "used": 1, "remaining": 4}


async def test_organization_by_id_and_slug_agree(demo: None, run: Any) -> None:
    by_slug = await run('{ organization(slug: "irf") { id name } }')
    identifier = by_slug["data"]["organization"]["id"]
    by_id = await run("query($id: ID!) { organization(id: $id) { id name } }", {"id": identifier})
    assert (
        by_id
        == by_slug
        == {
            "data": {
                "organization": {"id": identifier, "name": "International Renaissance Foundation"}
            }
        }
    )
    assert await run('{ organization(slug: "nobody") { id } }') == {"data": {"organization": None}}


EVENT = """
query Event($id: ID!) {
  event(id: $id) {
    title kind status startsAt endsAt
    host { slug hostedEvents { title } }
    workingGroup { slug meetings { title } }
    attendances { role organization { slug attendances { event { title } } } }
    guests { slug }
  }
}
"""


async def test_event_relations_in_both_directions(demo: None, run: Any) -> None:
    listing = await run("{ events(filter: {status: COMPLETED}) { edges { node { id title } } } }")
    chatbots = next(
        e["node"] for e in listing["data"]["events"]["edges"] if "chatbots" in e["node"]["title"]
    )
    response = await run(EVENT, {"id": chatbots["id"]})
    assert response == {
        "data": {
            "event": {
                "title": "Tech solutions: legal-aid chatbots",
                "kind": "ONLINE_MEETING",
                "status": "COMPLETED",
                "startsAt": "2022-02-15T14:00:00+00:00",
                "endsAt": "2022-02-15T15:00:00+00:00",
                "host": {
                    "slug": "moldova-legal-empowerment",
                    "hostedEvents": [{"title": "Tech solutions: legal-aid chatbots"}],
                },
                "workingGroup": {
                    "slug": "tech-solutions",
                    "meetings": [{"title": "Tech solutions: legal-aid chatbots"}],
                },
                "attendances": [
                    {
                        "role": "HOST",
                        "organization": {
                            "slug": "moldova-legal-empowerment",
                            "attendances": [
                                {"event": {"title": "Club Justice launch meeting"}},
                                {"event": {"title": "Tech solutions: legal-aid chatbots"}},
                            ],
                        },
                    },
                    {
                        "role": "SPEAKER",
                        "organization": {
                            "slug": "argentina-a2j-lab",
                            "attendances": [
                                {"event": {"title": "Club Justice launch meeting"}},
                                {"event": {"title": "Tech solutions: legal-aid chatbots"}},
                            ],
                        },
                    },
                    {
                        "role": "GUEST",
                        "organization": {
                            "slug": "chisinau-law-clinic",
                            "attendances": [
                                {"event": {"title": "Tech solutions: legal-aid chatbots"}}
                            ],
                        },
                    },
                ],
                "guests": [{"slug": "chisinau-law-clinic"}],
            }
        }
    }


WORKING_GROUP = """
query WorkingGroup($slug: String!) {
  workingGroup(slug: $slug) {
    name focusArea
    lead { slug }
    members { slug workingGroups { slug } }
    meetings { title }
    actionPlan { title status dueDate owner { slug } }
  }
}
"""


async def test_working_group_relations_in_both_directions(demo: None, run: Any) -> None:
    response = await run(WORKING_GROUP, {"slug": "pro-bono-lawyers"})
    assert response == {
        "data": {
            "workingGroup": {
                "name": "Engaging pro bono lawyers",
                "focusArea": "PRO_BONO_LAWYERS",
                "lead": {"slug": "poland-pro-bono"},
                "members": [
                    {"slug": "albania-legal-aid", "workingGroups": [{"slug": "pro-bono-lawyers"}]},
                    {"slug": "irf", "workingGroups": [{"slug": "pro-bono-lawyers"}]},
                    {"slug": "poland-pro-bono", "workingGroups": [{"slug": "pro-bono-lawyers"}]},
                ],
                "meetings": [],
                "actionPlan": [
                    {
                        "title": "Survey of bar associations' pro bono rules",
                        "status": "DONE",
                        "dueDate": "2022-06-30",
                        "owner": {"slug": "poland-pro-bono"},
                    },
                    {
                        "title": "Pro bono matching pilot in Albania",
                        "status": "PLANNED",
                        "dueDate": "2027-04-30",
                        "owner": {"slug": "albania-legal-aid"},
                    },
                ],
            }
        }
    }
    names = await run("{ workingGroups { slug } }")
    assert names == {
        "data": {
            "workingGroups": [
                {"slug": "pro-bono-lawyers"},
                {"slug": "paralegal-field-work"},
                {"slug": "tech-solutions"},
            ]
        }
    }


INVITATION = """
query Invitation($id: ID!) {
  invitation(id: $id) { status year message inviter { slug } invitee { slug } }
}
"""


async def test_invitation_lookup(demo: None, run: Any) -> None:
    sent = await run(
        '{ organization(slug: "moldova-legal-empowerment") { invitationsSent { id } } }',
        principal=ADMIN,
    )
    (pending,) = sent["data"]["organization"]["invitationsSent"]
    response = await run(INVITATION, {"id": pending["id"]}, principal=ADMIN, now=NOW)
    assert response == {
        "data": {
            "invitation": {
                "status": "PENDING",
                "year": 2026,
                "message": "We would be glad to welcome you to Club Justice.",
                "inviter": {"slug": "moldova-legal-empowerment"},
                "invitee": {"slug": "chisinau-law-clinic"},
            }
        }
    }


async def test_viewer_describes_the_caller(demo: None, run: Any) -> None:
    query = "{ viewer { role organization { slug } } }"
    assert await run(query) == {"data": {"viewer": {"role": "PARTNER", "organization": None}}}
    assert await run(query, principal=ADMIN) == {
        "data": {"viewer": {"role": "ADMIN", "organization": None}}
    }
    irf = await run('{ organization(slug: "irf") { id } }')
    pk = parse_id("Organization", irf["data"]["organization"]["id"])
    member = Principal(Role.ORGANIZATION, organization_id=pk, organization_is_member=True)
    assert await run(query, principal=member) == {
        "data": {"viewer": {"role": "ORGANIZATION", "organization": {"slug": "irf"}}}
    }
