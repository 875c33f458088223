"""The rules under concurrency: simultaneous mutations, as if from four server replicas
sharing the database (PostgreSQL), or from one process (SQLite), never break a rule and
never fail with a database error."""

import asyncio
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.federation import Schema

from club.access import Principal
from club.enums import Role
from club.settings import Settings
from db.engine import create_engine, create_session_factory, create_write_session_factory
from db.models import ActivityLogEntry, Invitation, Organization
from resolvers.context import Context
from schema.ids import encode_id
from tests.factories import add, country_ids, guests_of_a_member, organization

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
INVITE = """
mutation($input: InviteOrganizationInput!) {
  inviteOrganization(input: $input) { invitation { id } errors { code } }
}
"""
REGISTER = """
mutation($input: RegisterOrganizationInput!) {
  registerOrganization(input: $input) { organization { slug } errors { code } }
}
"""


@pytest.fixture
def race(engine: AsyncEngine, settings: Settings, schema: Schema) -> Any:
    """`await race([(principal, query, variables), ...])` runs them all at once, spread over
    four engines (PostgreSQL) or one (SQLite), and returns each one's payload."""

    async def run_all(calls: list[tuple[Principal, str, dict[str, Any]]]) -> list[dict[str, Any]]:
        replicas = 4 if engine.dialect.name == "postgresql" else 1
        url = engine.url.render_as_string(hide_password=False)
        engines = [create_engine(url) for _ in range(replicas)]

        async def attempt(
            n: int, principal: Principal, query: str, variables: dict[str, Any]
        ) -> dict[str, Any]:
            replica = engines[n % replicas]
            context = Context(
                settings=settings,
                principal=principal,
                session_factory=create_session_factory(replica),
                write_session_factory=create_write_session_factory(replica),
                now=NOW,
                clock=lambda: NOW,
            )
            result = await schema.execute(query, variable_values=variables, context_value=context)
            assert result.errors is None, result.errors  # nothing lost to a database error
            assert result.data is not None
            payload: dict[str, Any]
            (payload,) = result.data.values()
            return payload

        try:
            return await asyncio.gather(*(attempt(n, *call) for n, call in enumerate(calls)))
        finally:
            for replica in engines:
                await replica.dispose()

    return run_all


def member(row: Organization) -> Principal:
    return Principal(Role.ORGANIZATION, organization_id=row.id, organization_is_member=True)


def invitation_to(row: Organization, **extra: Any) -> dict[str, Any]:
    return {"input": {"inviteeId": encode_id("Organization", row.id), **extra}}


def outcome(payload: dict[str, Any]) -> str:
    return "done" if payload["errors"] == [] else ",".join(e["code"] for e in payload["errors"])


async def count(session_factory: Any, statement: Any) -> int:
    async with session_factory() as session:
        return int(await session.scalar(statement) or 0)


async def test_forty_concurrent_invitations_issue_exactly_five(
    session_factory: Any, race: Any
) -> None:
    inviter, guests = await guests_of_a_member(session_factory, 40)
    payloads = await race([(member(inviter), INVITE, invitation_to(guest)) for guest in guests])
    assert Counter(map(outcome, payloads)) == {"done": 5, "INVITATION_QUOTA_EXCEEDED": 35}
    assert await count(session_factory, select(func.count()).select_from(Invitation)) == 5
    sent = select(func.count()).where(ActivityLogEntry.kind == "INVITATION_SENT")
    assert await count(session_factory, sent) == 5


async def test_two_members_inviting_one_guest_at_once_make_one_invitation(
    session_factory: Any, race: Any
) -> None:
    first, (guest,) = await guests_of_a_member(session_factory, 1)
    md = (await country_ids(session_factory, "MD"))["MD"]
    others = [organization(md, member=True) for _ in range(7)]
    await add(session_factory, *others)
    payloads = await race([(member(m), INVITE, invitation_to(guest)) for m in (first, *others)])
    assert Counter(map(outcome, payloads)) == {"done": 1, "ALREADY_INVITED": 7}
    assert await count(session_factory, select(func.count()).select_from(Invitation)) == 1


async def test_concurrent_retries_with_one_idempotency_key_make_one_invitation(
    session_factory: Any, race: Any
) -> None:
    inviter, (guest,) = await guests_of_a_member(session_factory, 1)
    payloads = await race(
        [(member(inviter), INVITE, invitation_to(guest, idempotencyKey="retry-me"))] * 8
    )
    assert Counter(map(outcome, payloads)) == {"done": 8}
    assert len({p["invitation"]["id"] for p in payloads}) == 1
    assert await count(session_factory, select(func.count()).select_from(Invitation)) == 1


async def test_concurrent_registrations_of_one_name_make_one_organization(
    session_factory: Any, race: Any
) -> None:
    admin = Principal(Role.ADMIN)
    registration = {"input": {"name": "Same Name Legal Aid", "countryCode": "MD", "kind": "NGO"}}
    payloads = await race([(admin, REGISTER, registration)] * 6)
    # The plain slug, then the one with the country code; the rest are refused. Which
    # transaction wins, and whether a loser of the race retries with the second slug,
    # depends on timing: the invariant is that none fails and no slug is used twice.
    outcomes = Counter(map(outcome, payloads))
    assert set(outcomes) == {"done", "NAME_TAKEN"} and 1 <= outcomes["done"] <= 2
    slugs = [p["organization"]["slug"] for p in payloads if p["organization"]]
    assert len(set(slugs)) == len(slugs)
    assert set(slugs) <= {"same-name-legal-aid", "same-name-legal-aid-md"}
    stored = select(func.count()).where(Organization.name == "Same Name Legal Aid")
    assert await count(session_factory, stored) == len(slugs)
