"""An invitation judges time when it holds the inviter's lock, not when the request began
(docs/security.md, "Time of a decision"): its quota year, and the year its idempotency key
is looked up in. The clocks are fixed: `now` is the request's, `clock` the one a mutation
reads once it holds its locks."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from club.access import Principal
from club.enums import InvitationStatus, Role
from db.engine import create_write_session_factory
from db.models import Invitation, Organization
from schema.ids import encode_id
from tests.factories import add, guests_of_a_member

LAST_MOMENT = datetime(2026, 12, 31, 23, 59, 59, 900000, tzinfo=UTC)
NEW_YEAR = datetime(2027, 1, 1, 0, 0, 0, 100000, tzinfo=UTC)
INVITE = """
mutation($input: InviteOrganizationInput!) {
  inviteOrganization(input: $input) {
    invitation { id year createdAt expiresAt } errors { code field }
  }
}
"""


class Clock:
    """A clock that reads what the test set last."""

    def __init__(self, reading: datetime) -> None:
        self.reading = reading

    def __call__(self) -> datetime:
        return self.reading


def as_member(row: Organization) -> Principal:
    return Principal(Role.ORGANIZATION, organization_id=row.id, organization_is_member=True)


def invitation_to(row: Organization, **extra: Any) -> dict[str, Any]:
    return {"input": {"inviteeId": encode_id("Organization", row.id), **extra}}


async def payload_of(run: Any, variables: dict[str, Any], **context: Any) -> Any:
    response = await run(INVITE, variables, **context)
    assert "errors" not in response, response
    return response["data"]["inviteOrganization"]


async def test_an_invitation_that_waited_for_the_lock_past_new_year_counts_in_the_new_year(
    session_factory: Any, engine: AsyncEngine, run: Any
) -> None:
    """The request starts at 23:59:59.9 on 31 December, with the 2026 quota used up, and waits
    for the inviter's lock (held here, as by another invitation) until 00:00:00.1: it is a 2027
    invitation, made at the time it got the lock."""
    inviter, guests = await guests_of_a_member(session_factory, 6)
    await add(
        session_factory,
        *[
            Invitation(
                inviter_id=inviter.id,
                invitee_id=guest.id,
                status=InvitationStatus.DECLINED,
                year=2026,
                created_at=datetime(2026, 6, 1, tzinfo=UTC),
                expires_at=datetime(2026, 7, 1, tzinfo=UTC),
            )
            for guest in guests[:5]
        ],
    )
    clock = Clock(LAST_MOMENT)
    async with create_write_session_factory(engine)() as holder, holder.begin():
        await holder.execute(
            select(Organization).where(Organization.id == inviter.id).with_for_update()
        )
        waiting = asyncio.create_task(
            payload_of(
                run,
                invitation_to(guests[5]),
                principal=as_member(inviter),
                now=LAST_MOMENT,
                clock=clock,
            )
        )
        await asyncio.sleep(0.1)  # let it reach the lock (the outcome does not depend on it)
        clock.reading = NEW_YEAR
    made = await waiting
    assert made == {
        "invitation": {
            "id": made["invitation"]["id"],
            "year": 2027,
            "createdAt": "2027-01-01T00:00:00.100000+00:00",
            "expiresAt": "2027-01-31T00:00:00.100000+00:00",
        },
        "errors": [],
    }


async def test_an_idempotency_key_is_looked_up_in_the_year_of_the_lock(
    session_factory: Any, run: Any
) -> None:
    """A retry that started in 2026 and got the lock in 2027 finds the 2027 invitation its
    first attempt made."""
    inviter, (guest,) = await guests_of_a_member(session_factory, 1)
    first = await payload_of(
        run, invitation_to(guest, idempotencyKey="k"), principal=as_member(inviter), now=NEW_YEAR
    )
    assert first["errors"] == []
    assert first["invitation"]["year"] == 2027
    retry = await payload_of(
        run,
        invitation_to(guest, idempotencyKey="k"),
        principal=as_member(inviter),
        now=LAST_MOMENT,
        clock=Clock(NEW_YEAR + timedelta(seconds=1)),
    )
    assert retry == first


async def test_an_idempotency_key_is_the_inviters_for_one_quota_year(
    session_factory: Any, run: Any
) -> None:
    """Within a year a key names one invitation: a retry returns it, another invitee is
    refused. The next year the same key is a new request."""
    inviter, guests = await guests_of_a_member(session_factory, 3)
    member = as_member(inviter)
    in_2026 = datetime(2026, 6, 1, tzinfo=UTC)
    in_2027 = datetime(2027, 6, 1, tzinfo=UTC)
    first = await payload_of(
        run, invitation_to(guests[0], idempotencyKey="k"), principal=member, now=in_2026
    )
    assert first["invitation"]["year"] == 2026
    next_year = await payload_of(
        run, invitation_to(guests[1], idempotencyKey="k"), principal=member, now=in_2027
    )
    assert next_year == {
        "invitation": {
            "id": next_year["invitation"]["id"],
            "year": 2027,
            "createdAt": "2027-06-01T00:00:00+00:00",
            "expiresAt": "2027-07-01T00:00:00+00:00",
        },
        "errors": [],
    }
    assert next_year["invitation"]["id"] != first["invitation"]["id"]
    # Retries, each in its year, return that year's invitation.
    assert (
        await payload_of(
            run,
            invitation_to(guests[0], idempotencyKey="k"),
            principal=member,
            now=in_2026 + timedelta(days=1),
        )
        == first
    )
    assert (
        await payload_of(
            run,
            invitation_to(guests[1], idempotencyKey="k"),
            principal=member,
            now=in_2027 + timedelta(days=1),
        )
        == next_year
    )
    reused = await payload_of(
        run, invitation_to(guests[2], idempotencyKey="k"), principal=member, now=in_2027
    )
    assert reused == {
        "invitation": None,
        "errors": [{"code": "IDEMPOTENCY_KEY_REUSED", "field": "idempotencyKey"}],
    }
