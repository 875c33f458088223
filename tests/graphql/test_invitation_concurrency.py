"""The quota under concurrency: 40 simultaneous invitations from one member, as if from four
server replicas sharing the database, issue exactly five and refuse the rest cleanly."""

import asyncio
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.federation import Schema

from db.engine import create_engine, create_session_factory, create_write_session_factory
from db.enums import AttendanceRole, Role
from db.models import Attendance, Invitation
from resolvers.context import Context
from resolvers.visibility import Principal
from schema.ids import encode_id
from server.settings import Settings
from tests.factories import add, country_ids, event, organization

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
INVITE = """
mutation($input: InviteOrganizationInput!) {
  inviteOrganization(input: $input) { invitation { id } errors { code } }
}
"""
CONCURRENT_INVITATIONS = 40


async def test_forty_concurrent_invitations_issue_exactly_five(
    engine: AsyncEngine, session_factory: Any, settings: Settings, schema: Schema
) -> None:
    md = (await country_ids(session_factory, "MD"))["MD"]
    inviter = organization(md, member=True)
    guests = [organization(md) for _ in range(CONCURRENT_INVITATIONS)]
    await add(session_factory, inviter, *guests)
    meeting = event(inviter.id)
    await add(session_factory, meeting)
    await add(
        session_factory,
        *[
            Attendance(
                event_id=meeting.id,
                organization_id=g.id,
                role=AttendanceRole.GUEST,
                recorded_at=NOW,
            )
            for g in guests
        ],
    )

    # PostgreSQL: four engines with their own pools, as four replicas would have. SQLite is
    # embedded: one process, one engine.
    replicas = 4 if engine.dialect.name == "postgresql" else 1
    engines = [
        create_engine(engine.url.render_as_string(hide_password=False)) for _ in range(replicas)
    ]
    principal = Principal(
        Role.ORGANIZATION, organization_id=inviter.id, organization_is_member=True
    )

    async def attempt(n: int) -> dict[str, Any]:
        replica = engines[n % replicas]
        context = Context(
            settings=settings,
            principal=principal,
            session_factory=create_session_factory(replica),
            write_session_factory=create_write_session_factory(replica),
            now=NOW,
        )
        result = await schema.execute(
            INVITE,
            variable_values={"input": {"inviteeId": encode_id("Organization", guests[n].id)}},
            context_value=context,
        )
        assert result.errors is None, result.errors  # nothing lost to a database error
        assert result.data is not None
        return result.data["inviteOrganization"]

    try:
        payloads = await asyncio.gather(*(attempt(n) for n in range(CONCURRENT_INVITATIONS)))
    finally:
        for replica in engines:
            await replica.dispose()

    outcomes = Counter(
        "sent" if p["invitation"] else ",".join(e["code"] for e in p["errors"]) for p in payloads
    )
    assert outcomes == {"sent": 5, "INVITATION_QUOTA_EXCEEDED": 35}
    async with session_factory() as session:
        stored = await session.scalar(select(func.count()).select_from(Invitation))
    assert stored == 5
