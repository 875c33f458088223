"""Working groups: creating, joining, leaving, and the action plan."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from club.access import Principal
from club.enums import Role
from schema.ids import encode_id
from tests.factories import add, country_ids, organization
from tests.snapshots import snapshot

NOW = datetime(2026, 4, 4, 8, 0, tzinfo=UTC)
CREATE = """
mutation($input: CreateWorkingGroupInput!) {
  createWorkingGroup(input: $input) {
    workingGroup { id slug name focusArea lead { slug } members { slug } }
    errors { code message field }
  }
}
"""
JOIN = """
mutation($id: ID!) {
  joinWorkingGroup(id: $id) { workingGroup { members { slug } } errors { code } }
}
"""
LEAVE = """
mutation($id: ID!) {
  leaveWorkingGroup(id: $id) { workingGroup { lead { slug } members { slug } } errors { code } }
}
"""
ADD_ITEM = """
mutation($group: ID!, $input: ActionItemInput!) {
  addActionItem(workingGroupId: $group, input: $input) {
    actionItem { id title status dueDate owner { slug } } errors { code field }
  }
}
"""
UPDATE_ITEM = """
mutation($id: ID!, $input: ActionItemInput!) {
  updateActionItem(id: $id, input: $input) {
    actionItem { title status dueDate owner { slug } } errors { code field }
  }
}
"""


@dataclass
class Club:
    lead: Principal
    member: Principal
    guest: Principal


@pytest.fixture
async def club(session_factory: Any) -> Club:
    md = (await country_ids(session_factory, "MD"))["MD"]
    rows = [
        organization(md, member=True, slug="lead"),
        organization(md, member=True, slug="member"),
        organization(md, slug="guest"),
    ]
    await add(session_factory, *rows)
    lead, member, guest = (
        Principal(Role.ORGANIZATION, organization_id=row.id, organization_is_member=is_member)
        for row, is_member in zip(rows, (True, True, False), strict=True)
    )
    return Club(lead, member, guest)


async def create(run: Any, principal: Principal, **input: Any) -> dict[str, Any]:
    variables = {"input": {"name": "Legal design", "focusArea": "TECH_SOLUTIONS", **input}}
    response = await run(CREATE, variables, principal=principal, now=NOW)
    payload: dict[str, Any] = response["data"]["createWorkingGroup"]
    return payload


async def test_a_group_from_creation_to_its_plan(club: Club, run: Any) -> None:
    created = await create(run, club.lead)
    group_id = created["workingGroup"]["id"]
    assert created == {
        "workingGroup": {
            "id": group_id,
            "slug": "legal-design",
            "name": "Legal design",
            "focusArea": "TECH_SOLUTIONS",
            "lead": {"slug": "lead"},
            "members": [{"slug": "lead"}],
        },
        "errors": [],
    }
    joined = await run(JOIN, {"id": group_id}, principal=club.member, now=NOW)
    assert joined["data"]["joinWorkingGroup"] == {
        "workingGroup": {"members": [{"slug": "lead"}, {"slug": "member"}]},
        "errors": [],
    }
    again = await run(JOIN, {"id": group_id}, principal=club.member, now=NOW)
    assert again["data"]["joinWorkingGroup"]["errors"] == [{"code": "ALREADY_IN_WORKING_GROUP"}]

    added = await run(
        ADD_ITEM,
        {
            "group": group_id,
            "input": {
                "title": "Plain-language court forms",
                "ownerId": encode_id("Organization", club.member.organization_id or 0),
                "dueDate": "2026-12-31",
            },
        },
        principal=club.member,
        now=NOW,
    )
    item = added["data"]["addActionItem"]["actionItem"]
    assert added["data"]["addActionItem"] == {
        "actionItem": {
            "id": item["id"],
            "title": "Plain-language court forms",
            "status": "PLANNED",
            "dueDate": "2026-12-31",
            "owner": {"slug": "member"},
        },
        "errors": [],
    }
    updated = await run(
        UPDATE_ITEM,
        {"id": item["id"], "input": {"status": "DONE", "dueDate": None}},
        principal=club.lead,
        now=NOW,
    )
    assert updated["data"]["updateActionItem"] == {
        "actionItem": {
            "title": "Plain-language court forms",
            "status": "DONE",
            "dueDate": None,
            "owner": {"slug": "member"},
        },
        "errors": [],
    }
    left = await run(LEAVE, {"id": group_id}, principal=club.lead, now=NOW)
    assert left["data"]["leaveWorkingGroup"] == {
        "workingGroup": {"lead": None, "members": [{"slug": "member"}]},
        "errors": [],
    }
    gone = await run(LEAVE, {"id": group_id}, principal=club.lead, now=NOW)
    assert gone["data"]["leaveWorkingGroup"]["errors"] == [{"code": "NOT_IN_WORKING_GROUP"}]


async def test_refusals_change_nothing(session_factory: Any, club: Club, run: Any) -> None:
    group_id = (await create(run, club.lead))["workingGroup"]["id"]
    before = await snapshot(session_factory)

    async def errors(query: str, variables: dict[str, Any], principal: Principal) -> Any:
        response = await run(query, variables, principal=principal, now=NOW)
        (payload,) = response["data"].values()
        return payload["errors"]

    assert await errors(JOIN, {"id": group_id}, club.guest) == [{"code": "MEMBERSHIP_REQUIRED"}]
    assert (await create(run, club.guest))["errors"][0]["code"] == "MEMBERSHIP_REQUIRED"
    assert (await create(run, club.member))["errors"] == [
        {
            "code": "NAME_TAKEN",
            "message": "A working group named 'Legal design' exists.",
            "field": "name",
        }
    ]
    outsider_item = {"group": group_id, "input": {"title": "Not mine"}}
    assert await errors(ADD_ITEM, outsider_item, club.member) == [
        {"code": "NOT_IN_WORKING_GROUP", "field": None}
    ]
    untitled = {"group": group_id, "input": {"status": "PLANNED"}}
    assert await errors(ADD_ITEM, untitled, club.lead) == [
        {"code": "INVALID_INPUT", "field": "title"}
    ]
    foreign_owner = {
        "group": group_id,
        "input": {
            "title": "Owned elsewhere",
            "ownerId": encode_id("Organization", club.guest.organization_id or 0),
        },
    }
    assert await errors(ADD_ITEM, foreign_owner, club.lead) == [
        {"code": "NOT_IN_WORKING_GROUP", "field": "ownerId"}
    ]
    assert await errors(JOIN, {"id": encode_id("WorkingGroup", 999)}, club.member) == [
        {"code": "NOT_FOUND"}
    ]
    # Admins act for no organization: joining is not for their role at all.
    response = await run(JOIN, {"id": group_id}, principal=Principal(Role.ADMIN), now=NOW)
    assert [(e["message"], e["extensions"]) for e in response["errors"]] == [
        (
            "The ADMIN role may not do this (it needs ORGANIZATION).",
            {"code": "FORBIDDEN"},
        )
    ]
    assert await snapshot(session_factory) == before


PLAN = """
query($id: ID!) { workingGroup(id: $id) { actionPlan { title owner { slug } } } }
"""


async def test_an_owner_that_leaves_leaves_its_items_without_an_owner(club: Club, run: Any) -> None:
    """An item's owner belongs to the group (checked when it is named); leaving keeps that
    true: the leaver's items are nobody's, the others' stay theirs."""
    group_id = (await create(run, club.lead))["workingGroup"]["id"]
    await run(JOIN, {"id": group_id}, principal=club.member, now=NOW)
    for title, owner in (("Court forms", club.member), ("Glossary", club.lead)):
        added = await run(
            ADD_ITEM,
            {
                "group": group_id,
                "input": {
                    "title": title,
                    "ownerId": encode_id("Organization", owner.organization_id or 0),
                },
            },
            principal=club.lead,
            now=NOW,
        )
        assert added["data"]["addActionItem"]["errors"] == []
    left = await run(LEAVE, {"id": group_id}, principal=club.member, now=NOW)
    assert left["data"]["leaveWorkingGroup"]["errors"] == []
    plan = await run(PLAN, {"id": group_id}, principal=club.lead, now=NOW)
    assert plan == {
        "data": {
            "workingGroup": {
                "actionPlan": [
                    {"title": "Court forms", "owner": None},
                    {"title": "Glossary", "owner": {"slug": "lead"}},
                ]
            }
        }
    }
