"""The demo data the docs' examples run on (what `clubjustice seed` inserts), its tokens,
the walkthrough's action (a guest organization accepting its invitation and joining), and
running a documented command from an async test."""

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from club.enums import Role
from db.engine import SessionFactory
from db.models import Organization
from db.seed import seed as seed_demo_data
from db.tokens import create_token

MEMBER = "moldova-legal-empowerment"  # a member organization of the demo data
GUEST = "chisinau-law-clinic"  # a guest with a pending invitation from MEMBER
SECOND_GUEST = "tbilisi-community-justice"  # a guest of the launch meeting; its invitation expired


@dataclass(frozen=True)
class DemoTokens:
    ADMIN: str
    MEMBER: str
    GUEST: str
    PARTNER: str
    SECOND_GUEST: str

    def of(self, role: str) -> str:
        return str(getattr(self, role))


async def seed_with_tokens(session_factory: SessionFactory) -> DemoTokens:
    """The demo data on a migrated, empty database, and one token per demo role."""
    await seed_demo_data(session_factory)
    async with session_factory() as session, session.begin():
        ids = dict((await session.execute(select(Organization.slug, Organization.id))).all())
        tokens = {
            "ADMIN": (Role.ADMIN, None),
            "MEMBER": (Role.ORGANIZATION, ids[MEMBER]),
            "GUEST": (Role.ORGANIZATION, ids[GUEST]),
            "PARTNER": (Role.PARTNER, None),
            "SECOND_GUEST": (Role.ORGANIZATION, ids[SECOND_GUEST]),
        }
        made = {}
        for name, (role, organization_id) in tokens.items():
            _, made[name] = await create_token(session, role, organization_id=organization_id)
    return DemoTokens(**made)


async def graphql(base: str, token: str, query: str, **variables: Any) -> dict[str, Any]:
    """POST an operation; its answer must be data without errors."""
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{base}/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {token}"},
        )
    body = response.json()
    assert response.status_code == 200 and set(body) == {"data"}, body
    return body["data"]  # type: ignore[no-any-return]


PENDING = """query ($slug: String!) {
  organization(slug: $slug) { invitationsReceived { id status } }
}"""
ACCEPT = """mutation ($id: ID!) {
  acceptInvitation(id: $id) { invitation { status } errors { code } }
}"""
ORGANIZATION_ID = "query ($slug: String!) { organization(slug: $slug) { id } }"
INVITE = """mutation ($invitee: ID!) {
  inviteOrganization(input: {inviteeId: $invitee}) { invitation { id } errors { code } }
}"""


async def guest_joins(base: str, tokens: DemoTokens) -> None:
    """The walkthrough's step: the demo guest accepts its pending invitation."""
    received = (await graphql(base, tokens.GUEST, PENDING, slug=GUEST))["organization"]
    [pending] = [i for i in received["invitationsReceived"] if i["status"] == "PENDING"]
    accepted = await graphql(base, tokens.GUEST, ACCEPT, id=pending["id"])
    assert accepted == {"acceptInvitation": {"invitation": {"status": "ACCEPTED"}, "errors": []}}


async def second_guest_joins(base: str, tokens: DemoTokens) -> None:
    """The member invites a guest of the launch meeting, which accepts."""
    invitee = await graphql(base, tokens.ADMIN, ORGANIZATION_ID, slug=SECOND_GUEST)
    sent = await graphql(base, tokens.MEMBER, INVITE, invitee=invitee["organization"]["id"])
    assert sent["inviteOrganization"]["errors"] == [], sent
    accepted = await graphql(
        base, tokens.SECOND_GUEST, ACCEPT, id=sent["inviteOrganization"]["invitation"]["id"]
    )
    assert accepted == {"acceptInvitation": {"invitation": {"status": "ACCEPTED"}, "errors": []}}


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


async def run(command: list[str], *, env: dict[str, str], cwd: Path, time_limit: float) -> Ran:
    """Runs a command to its end without blocking the event loop; kills it after `time_limit` s."""
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), time_limit)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"{command} ran longer than {time_limit} s") from None
    assert process.returncode is not None
    return Ran(process.returncode, stdout.decode(), stderr.decode())
