"""Invitations through the schema: the path to membership and every refusal, each of which
leaves the database exactly as it was."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from club.access import Principal
from club.enums import AttendanceRole, EventStatus, OrganizationStatus, Role
from club.ids import parse_id
from db.models import ActivityLogEntry, Attendance, Organization
from schema.ids import encode_id
from tests.factories import activity_log, add, country_ids, event, organization
from tests.snapshots import snapshot

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)

INVITE = """
mutation($input: InviteOrganizationInput!) {
  inviteOrganization(input: $input) {
    invitation { id status year message inviter { slug } invitee { slug } createdAt expiresAt }
    errors { code message field }
  }
}
"""
ACCEPT = """
mutation($id: ID!) {
  acceptInvitation(id: $id) {
    invitation { status respondedAt invitee { slug status joinedAt sponsor { slug } } }
    errors { code message field }
  }
}
"""
DECLINE = """
mutation($id: ID!) { declineInvitation(id: $id) { invitation { status } errors { code field } } }
"""
REVOKE = """
mutation($id: ID!) { revokeInvitation(id: $id) { invitation { status } errors { code field } } }
"""
QUOTA = """
query($id: ID!, $year: Int) {
  organization(id: $id) { invitationQuota(year: $year) { year limit used remaining } }
}
"""


@dataclass
class Club:
    member: int
    other_member: int
    guest: int  # attended a scheduled event as a guest
    guests: list[int]  # more of those, for the quota
    stranger: int  # never attended as a guest
    cancelled_guest: int  # a guest only at a cancelled event

    def as_(self, pk: int, member: bool) -> Principal:
        return Principal(Role.ORGANIZATION, organization_id=pk, organization_is_member=member)

    @property
    def inviter(self) -> Principal:
        return self.as_(self.member, True)


@pytest.fixture
async def club(session_factory: Any) -> Club:
    md = (await country_ids(session_factory, "MD"))["MD"]
    member = organization(md, member=True, slug="member")
    other_member = organization(md, member=True, slug="other-member")
    guest = organization(md, slug="guest")
    guests = [organization(md, slug=f"guest-{i}") for i in range(6)]
    stranger = organization(md, slug="stranger")
    cancelled_guest = organization(md, slug="cancelled-guest")
    await add(session_factory, member, other_member, guest, *guests, stranger, cancelled_guest)
    meeting = event(member.id, starts_at=NOW - timedelta(days=7))  # it took place
    cancelled = event(member.id, status=EventStatus.CANCELLED)
    await add(session_factory, meeting, cancelled)
    await add(
        session_factory,
        *[
            Attendance(
                event_id=meeting.id,
                organization_id=o.id,
                role=AttendanceRole.GUEST,
                recorded_at=NOW,
            )
            for o in (guest, *guests)
        ],
        Attendance(
            event_id=meeting.id,
            organization_id=stranger.id,
            role=AttendanceRole.SPEAKER,
            recorded_at=NOW,
        ),
        Attendance(
            event_id=cancelled.id,
            organization_id=cancelled_guest.id,
            role=AttendanceRole.GUEST,
            recorded_at=NOW,
        ),
    )
    return Club(
        member.id,
        other_member.id,
        guest.id,
        [g.id for g in guests],
        stranger.id,
        cancelled_guest.id,
    )


def org_id(pk: int) -> str:
    return encode_id("Organization", pk)


async def invite(
    run: Any, principal: Principal, invitee: int, now: datetime = NOW, **extra: Any
) -> dict[str, Any]:
    response = await run(
        INVITE, {"input": {"inviteeId": org_id(invitee), **extra}}, principal=principal, now=now
    )
    assert "errors" not in response, response
    payload: dict[str, Any] = response["data"]["inviteOrganization"]
    return payload


async def test_a_guest_becomes_a_member(session_factory: Any, club: Club, run: Any) -> None:
    sent = await invite(run, club.inviter, club.guest, message="Welcome!")
    invitation = sent["invitation"]
    assert sent == {
        "invitation": {
            "id": invitation["id"],
            "status": "PENDING",
            "year": 2026,
            "message": "Welcome!",
            "inviter": {"slug": "member"},
            "invitee": {"slug": "guest"},
            "createdAt": "2026-03-10T09:00:00+00:00",
            "expiresAt": "2026-04-09T09:00:00+00:00",
        },
        "errors": [],
    }
    later = NOW + timedelta(days=3)
    accepted = await run(
        ACCEPT, {"id": invitation["id"]}, principal=club.as_(club.guest, False), now=later
    )
    assert accepted == {
        "data": {
            "acceptInvitation": {
                "invitation": {
                    "status": "ACCEPTED",
                    "respondedAt": "2026-03-13T09:00:00+00:00",
                    "invitee": {
                        "slug": "guest",
                        "status": "MEMBER",
                        "joinedAt": "2026-03-13T09:00:00+00:00",
                        "sponsor": {"slug": "member"},
                    },
                },
                "errors": [],
            }
        }
    }
    log = await activity_log(session_factory, ActivityLogEntry.payload)
    invitation_pk = parse_id("Invitation", invitation["id"])
    md = (await country_ids(session_factory, "MD"))["MD"]
    assert log == [
        (
            "INVITATION_SENT",
            "Invitation",
            invitation_pk,
            {"organization_id": club.guest, "inviter_id": club.member, "invitee_id": club.guest},
        ),
        ("INVITATION_ACCEPTED", "Invitation", invitation_pk, {"organization_id": club.guest}),
        (
            "MEMBER_JOINED",
            "Organization",
            club.guest,
            {"invitation_id": invitation_pk, "sponsor_id": club.member, "country_id": md},
        ),
    ]


async def test_the_inviter_sees_its_quota_move(club: Club, run: Any) -> None:
    await invite(run, club.inviter, club.guest)
    quota = await run(QUOTA, {"id": org_id(club.member), "year": 2026}, principal=club.inviter)
    assert quota == {
        "data": {
            "organization": {
                "invitationQuota": {"year": 2026, "limit": 5, "used": 1, "remaining": 4}
            }
        }
    }


async def refused(
    session_factory: Any,
    run: Any,
    query: str,
    variables: dict[str, Any],
    principal: Principal,
    now: datetime = NOW,
) -> list[dict[str, Any]]:
    """Run a mutation that must be refused; check that nothing changed; return its errors."""
    before = await snapshot(session_factory)
    response = await run(query, variables, principal=principal, now=now)
    assert await snapshot(session_factory) == before
    assert "errors" not in response, response
    (payload,) = response["data"].values()
    (object_value,) = [value for key, value in payload.items() if key != "errors"]
    assert object_value is None
    errors: list[dict[str, Any]] = payload["errors"]
    return errors


def one(code: str, field: str | None, message: str | None = None) -> Any:
    def check(errors: list[dict[str, Any]]) -> bool:
        assert [(e["code"], e["field"]) for e in errors] == [(code, field)], errors
        if message is not None:
            assert errors[0]["message"] == message
        return True

    return check


async def test_the_quota_year_by_default_is_the_request_clocks(club: Club, run: Any) -> None:
    """Without `year`, the year of the request's clock (UTC): the invitation made at NOW (2026)
    counts, and a request whose clock reads 2027 starts a fresh year."""
    await invite(run, club.inviter, club.guest)
    this_year = await run(QUOTA, {"id": org_id(club.member)}, principal=club.inviter, now=NOW)
    next_year = await run(
        QUOTA,
        {"id": org_id(club.member)},
        principal=club.inviter,
        now=datetime(2027, 1, 1, 0, 0, tzinfo=UTC),
    )
    assert [this_year, next_year] == [
        {
            "data": {
                "organization": {
                    "invitationQuota": {"year": 2026, "limit": 5, "used": 1, "remaining": 4}
                }
            }
        },
        {
            "data": {
                "organization": {
                    "invitationQuota": {"year": 2027, "limit": 5, "used": 0, "remaining": 5}
                }
            }
        },
    ]


async def test_each_invitation_rule_refuses_with_its_code_and_changes_nothing(
    session_factory: Any, club: Club, run: Any
) -> None:
    inviter = club.inviter

    async def refuse(
        invitee: int, principal: Principal = inviter, **extra: Any
    ) -> list[dict[str, Any]]:
        return await refused(
            session_factory,
            run,
            INVITE,
            {"input": {"inviteeId": org_id(invitee), **extra}},
            principal,
        )

    assert one("SELF_INVITATION", "inviteeId", "An organization cannot invite itself.")(
        await refuse(club.member)
    )
    assert one("INVITER_NOT_MEMBER", "inviterId")(
        await refuse(club.guests[0], club.as_(club.guest, False))
    )
    assert one("INVITEE_ALREADY_MEMBER", "inviteeId")(await refuse(club.other_member))
    assert one("GUEST_ATTENDANCE_REQUIRED", "inviteeId")(await refuse(club.stranger))
    assert one("GUEST_ATTENDANCE_REQUIRED", "inviteeId")(await refuse(club.cancelled_guest))
    assert one("NOT_FOUND", "inviteeId")(await refuse(999_999))
    assert one("FORBIDDEN", "inviterId")(
        await refuse(club.guest, inviterId=org_id(club.other_member))
    )
    malformed = await refused(
        session_factory, run, INVITE, {"input": {"inviteeId": "nope"}}, inviter
    )
    assert one("INVALID_INPUT", "inviteeId")(malformed)
    too_long = await refuse(club.guest, message="x" * 2001)
    assert one("INVALID_INPUT", "message")(too_long)

    await invite(run, inviter, club.guest)
    other = club.as_(club.other_member, True)
    assert one("ALREADY_INVITED", "inviteeId")(await refuse(club.guest, other))


async def test_the_sixth_invitation_of_a_year_is_refused_and_next_year_is_fresh(
    session_factory: Any, club: Club, run: Any
) -> None:
    for guest in club.guests[:5]:
        assert (await invite(run, club.inviter, guest))["errors"] == []
    errors = await refused(
        session_factory, run, INVITE, {"input": {"inviteeId": org_id(club.guests[5])}}, club.inviter
    )
    assert errors == [
        {
            "code": "INVITATION_QUOTA_EXCEEDED",
            "message": "The invitation quota for 2026 (5) is used up.",
            "field": None,
        }
    ]
    next_year = datetime(2027, 1, 1, 0, 0, tzinfo=UTC)
    assert (await invite(run, club.inviter, club.guests[5], now=next_year))["invitation"][
        "year"
    ] == 2027


async def test_a_revoked_invitation_still_counts(
    session_factory: Any, club: Club, run: Any
) -> None:
    sent = await invite(run, club.inviter, club.guest)
    revoked = await run(REVOKE, {"id": sent["invitation"]["id"]}, principal=club.inviter, now=NOW)
    assert revoked == {
        "data": {"revokeInvitation": {"invitation": {"status": "REVOKED"}, "errors": []}}
    }
    quota = await run(QUOTA, {"id": org_id(club.member), "year": 2026}, principal=club.inviter)
    assert quota["data"]["organization"]["invitationQuota"]["used"] == 1
    # ...and the guest may be invited again, by anyone.
    assert (await invite(run, club.as_(club.other_member, True), club.guest))["errors"] == []


async def test_a_retry_with_the_same_idempotency_key_returns_the_first_invitation(
    session_factory: Any, club: Club, run: Any
) -> None:
    first = await invite(run, club.inviter, club.guest, idempotencyKey="request-1")
    again = await invite(
        run, club.inviter, club.guest, idempotencyKey="request-1", now=NOW + timedelta(minutes=1)
    )
    assert again == first
    quota = await run(QUOTA, {"id": org_id(club.member), "year": 2026}, principal=club.inviter)
    assert quota["data"]["organization"]["invitationQuota"]["used"] == 1
    errors = await refused(
        session_factory,
        run,
        INVITE,
        {"input": {"inviteeId": org_id(club.guests[0]), "idempotencyKey": "request-1"}},
        club.inviter,
    )
    assert one("IDEMPOTENCY_KEY_REUSED", "idempotencyKey")(errors)


async def test_answering_an_invitation(session_factory: Any, club: Club, run: Any) -> None:
    sent = await invite(run, club.inviter, club.guest)
    invitation_id = sent["invitation"]["id"]
    guest = club.as_(club.guest, False)

    # Only the invitee answers; the inviter may not accept for it; strangers do not see it.
    assert one("FORBIDDEN", "id")(
        await refused(session_factory, run, ACCEPT, {"id": invitation_id}, club.inviter)
    )
    assert one("NOT_FOUND", "id")(
        await refused(
            session_factory, run, ACCEPT, {"id": invitation_id}, club.as_(club.stranger, False)
        )
    )
    expired = NOW + timedelta(days=30)
    assert one("INVITATION_EXPIRED", None)(
        await refused(session_factory, run, ACCEPT, {"id": invitation_id}, guest, now=expired)
    )

    declined = await run(DECLINE, {"id": invitation_id}, principal=guest, now=NOW)
    assert declined == {
        "data": {"declineInvitation": {"invitation": {"status": "DECLINED"}, "errors": []}}
    }
    for mutation in (ACCEPT, DECLINE):
        assert one("INVITATION_NOT_PENDING", None)(
            await refused(session_factory, run, mutation, {"id": invitation_id}, guest)
        )
    assert one("INVITATION_NOT_PENDING", None)(
        await refused(session_factory, run, REVOKE, {"id": invitation_id}, club.inviter)
    )


async def test_the_inviter_must_still_be_a_member_at_acceptance(
    session_factory: Any, club: Club, run: Any
) -> None:
    sent = await invite(run, club.inviter, club.guest)
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Organization)
            .where(Organization.id == club.member)
            .values(status=OrganizationStatus.GUEST)
        )
    errors = await refused(
        session_factory, run, ACCEPT, {"id": sent["invitation"]["id"]}, club.as_(club.guest, False)
    )
    assert one("INVITER_NOT_MEMBER", None)(errors)


async def test_an_expired_invitation_does_not_block_a_new_one(club: Club, run: Any) -> None:
    await invite(run, club.inviter, club.guest)
    later = NOW + timedelta(days=31)
    again = await invite(run, club.as_(club.other_member, True), club.guest, now=later)
    assert again["errors"] == []
    sent = await run(
        "query($id: ID!) { organization(id: $id) { invitationsReceived { status } } }",
        {"id": org_id(club.guest)},
        principal=Principal(Role.ADMIN),
        now=later,
    )
    assert sent["data"]["organization"]["invitationsReceived"] == [
        {"status": "EXPIRED"},
        {"status": "PENDING"},
    ]


async def test_the_secretariat_invites_for_a_member_and_partners_may_not_mutate(
    session_factory: Any, club: Club, run: Any
) -> None:
    admin = Principal(Role.ADMIN)
    sent = await invite(run, admin, club.guest, inviterId=org_id(club.member))
    assert sent["invitation"]["inviter"] == {"slug": "member"}
    assert one("INVALID_INPUT", "inviterId")(
        await refused(
            session_factory, run, INVITE, {"input": {"inviteeId": org_id(club.guests[0])}}, admin
        )
    )

    before = await snapshot(session_factory)
    response = await run(
        INVITE, {"input": {"inviteeId": org_id(club.guests[0])}}, principal=Principal(Role.PARTNER)
    )
    assert response == {
        "data": None,
        "errors": [
            {
                "message": "The PARTNER role may not do this (it needs ADMIN, ORGANIZATION).",
                "locations": [{"line": 3, "column": 3}],
                "path": ["inviteOrganization"],
                "extensions": {"code": "FORBIDDEN"},
            }
        ],
    }
    assert await snapshot(session_factory) == before


async def test_a_revoked_or_expired_invitation_cannot_be_answered(
    session_factory: Any, club: Club, run: Any
) -> None:
    guest = club.as_(club.guest, False)
    revoked = (await invite(run, club.inviter, club.guest))["invitation"]["id"]
    await run(REVOKE, {"id": revoked}, principal=club.inviter, now=NOW)
    for mutation in (ACCEPT, DECLINE):
        assert one("INVITATION_NOT_PENDING", None)(
            await refused(session_factory, run, mutation, {"id": revoked}, guest)
        )
    expired_at = NOW + timedelta(days=30)
    lapsing = (await invite(run, club.inviter, club.guests[0]))["invitation"]["id"]
    for mutation, principal in ((DECLINE, club.as_(club.guests[0], False)), (REVOKE, club.inviter)):
        assert one("INVITATION_EXPIRED", None)(
            await refused(
                session_factory, run, mutation, {"id": lapsing}, principal, now=expired_at
            )
        )


async def test_a_retry_after_the_quota_is_used_up_still_returns_the_invitation(
    club: Club, run: Any
) -> None:
    first = await invite(run, club.inviter, club.guests[0], idempotencyKey="k-0")
    for n, guest in enumerate(club.guests[1:5], start=1):
        await invite(run, club.inviter, guest, idempotencyKey=f"k-{n}")
    assert await invite(run, club.inviter, club.guests[0], idempotencyKey="k-0") == first


async def test_an_invitee_that_became_a_member_meanwhile_cannot_accept(
    session_factory: Any, club: Club, run: Any
) -> None:
    sent = await invite(run, club.inviter, club.guest)
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Organization)
            .where(Organization.id == club.guest)
            .values(status=OrganizationStatus.MEMBER, joined_at=NOW)
        )
    errors = await refused(
        session_factory, run, ACCEPT, {"id": sent["invitation"]["id"]}, club.as_(club.guest, True)
    )
    assert one("INVITEE_ALREADY_MEMBER", None)(errors)


async def test_writing_down_an_expiry_is_logged(session_factory: Any, club: Club, run: Any) -> None:
    first = await invite(run, club.inviter, club.guest)
    later = NOW + timedelta(days=40)
    await invite(run, club.as_(club.other_member, True), club.guest, now=later)
    log = await activity_log(session_factory, ActivityLogEntry.occurred_at)
    first_pk = parse_id("Invitation", first["invitation"]["id"])
    assert [(kind, subject) for kind, *subject, _ in log][:2] == [
        ("INVITATION_SENT", ["Invitation", first_pk]),
        ("INVITATION_EXPIRED", ["Invitation", first_pk]),
    ]
    assert [kind for kind, *_ in log] == [
        "INVITATION_SENT",
        "INVITATION_EXPIRED",
        "INVITATION_SENT",
    ]
    assert log[1][3] == later
