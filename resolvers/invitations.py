"""Invitations: lookups (visible to admins, the inviter and the invitee only) and the
mutations by which a guest becomes a member."""

from collections.abc import AsyncGenerator
from datetime import datetime

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from club import rules
from club.access import (
    Audience,
    acting_organization,
    can_see,
    organization_acted_for,
    require_role,
)
from club.enums import (
    INVITATION_UPDATES,
    ActivityKind,
    AttendanceRole,
    EventStatus,
    InvitationStatus,
    OrganizationStatus,
    Role,
)
from club.errors import ErrorCode, PayloadRefusal, found
from club.ids import decode_id, id_of
from club.rules import InvitationFacts
from club.validation import IDEMPOTENCY_KEY_LENGTH, MESSAGE_LENGTH, optional_text
from db import models
from db.activity import Subject, append_activity
from db.notifier import LiveEvent
from resolvers.context import Info
from resolvers.mutations import mutation, transaction
from resolvers.subscriptions import follow


def owners(row: models.Invitation) -> frozenset[int]:
    return frozenset((row.inviter_id, row.invitee_id))


async def invitation(info: Info, *, id: str) -> models.Invitation | None:
    """The invitation, or None when it does not exist or the caller may not see it (only
    admins, its inviter and its invitee may)."""
    row = await info.context.loaders.invitation.load(decode_id("Invitation", id))
    if row is None or not can_see(Audience.OWNERS, info.context.principal, owners(row)):
        return None
    return row


async def _lock_organizations(session: AsyncSession, *ids: int) -> dict[int, models.Organization]:
    """The organizations' rows, locked until commit, in id order.

    FOR NO KEY UPDATE: writers of these rows queue behind one another, while inserts that
    merely reference them (activity log, invitations) do not wait. Every invitation mutation
    locks organizations first, then invitations, then (last) the activity log, so no two
    transactions wait on each other in a circle. SQLite has no row locks: BEGIN IMMEDIATE
    already admits one writer at a time."""
    statement = (
        select(models.Organization)
        .where(models.Organization.id.in_(ids))
        .order_by(models.Organization.id)
        .with_for_update(key_share=True)
    )
    return {row.id: row for row in await session.scalars(statement)}


async def _lock_invitation(info: Info, session: AsyncSession, pk: int) -> models.Invitation:
    """The invitation's row, locked until commit and read afresh; NOT_FOUND also for callers
    who may not see it, so that probing reveals nothing."""
    row = await session.scalar(
        select(models.Invitation)
        .where(models.Invitation.id == pk)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if row is None or not can_see(Audience.OWNERS, info.context.principal, owners(row)):
        raise PayloadRefusal(ErrorCode.NOT_FOUND, "No such invitation.", "id")
    return row


async def _was_guest(session: AsyncSession, organization_id: int, now: datetime) -> bool:
    """Whether the organization attended a club event as a guest, judged now: an event that
    was cancelled, or moved to start later, after its attendance was recorded no longer
    counts (docs/security.md, "Rules that hold whatever happens later")."""
    attended = (
        select(models.Attendance.id)
        .join(models.Event, models.Event.id == models.Attendance.event_id)
        .where(
            models.Attendance.organization_id == organization_id,
            models.Attendance.role == AttendanceRole.GUEST,
            models.Event.status != EventStatus.CANCELLED,
            models.Event.starts_at <= now,
        )
    )
    return bool(await session.scalar(select(exists(attended))))


async def _has_pending(session: AsyncSession, invitee_id: int, now: datetime) -> bool:
    pending = select(models.Invitation.id).where(
        models.Invitation.invitee_id == invitee_id,
        models.Invitation.status == InvitationStatus.PENDING,
        models.Invitation.expires_at > now,
    )
    return bool(await session.scalar(select(exists(pending))))


async def _expire_stale_invitations(session: AsyncSession, invitee_id: int, now: datetime) -> None:
    """Write down that pending invitations past their time expired (they read as EXPIRED
    already), so that the one-pending-invitation index admits a new one; each is logged."""
    expired = await session.scalars(
        update(models.Invitation)
        .where(
            models.Invitation.invitee_id == invitee_id,
            models.Invitation.status == InvitationStatus.PENDING,
            models.Invitation.expires_at <= now,
        )
        .values(status=InvitationStatus.EXPIRED)
        .returning(models.Invitation.id)
    )
    for invitation_id in expired.all():
        await append_activity(
            session,
            ActivityKind.INVITATION_EXPIRED,
            occurred_at=now,
            subject=Subject.of(models.Invitation, invitation_id),
            related={"organization_id": invitee_id},
        )


@mutation(Role.ADMIN, Role.ORGANIZATION)
async def invite_organization(
    info: Info,
    *,
    invitee_id: str,
    message: str | None = None,
    inviter_id: str | None = None,
    idempotency_key: str | None = None,
) -> models.Invitation:
    """A member invites a guest (rules 2 and 4), within its yearly quota (rule 3). A retry
    with the same idempotency key returns the first invitation and uses no second slot."""
    context = info.context
    inviter_pk = organization_acted_for(context.principal, inviter_id, "inviterId")
    invitee_pk = id_of("Organization", invitee_id, "inviteeId")
    message = optional_text(message, "message", max_length=MESSAGE_LENGTH, multiline=True)
    key = optional_text(idempotency_key, "idempotencyKey", max_length=IDEMPOTENCY_KEY_LENGTH)

    async with transaction(info) as session:
        # Every invitation by this inviter, and every change to this invitee, queues here, in
        # one process or many: the quota count and the invitee's state below cannot be
        # overtaken by a concurrent transaction.
        locked = await _lock_organizations(session, inviter_pk, invitee_pk)
        # The time of the decision is when the lock was obtained: an invitation that waited
        # for it past midnight on 31 December counts against the new year.
        now = context.clock()
        year = rules.invitation_year(now)
        inviter = found(locked.get(inviter_pk), "organization", "inviterId")
        if key is not None:
            # A key is the inviter's for one quota year (as the unique constraint says).
            earlier = await session.scalar(
                select(models.Invitation).where(
                    models.Invitation.inviter_id == inviter_pk,
                    models.Invitation.year == year,
                    models.Invitation.idempotency_key == key,
                )
            )
            if earlier is not None:
                if earlier.invitee_id != invitee_pk:
                    raise PayloadRefusal(
                        ErrorCode.IDEMPOTENCY_KEY_REUSED,
                        "This idempotency key was used for another invitation.",
                        "idempotencyKey",
                    )
                return earlier  # a retry: nothing new, no slot used

        invitee = found(locked.get(invitee_pk), "organization", "inviteeId")
        refusal = rules.check_invitation(
            inviter.facts(),
            invitee.facts(),
            invitee_was_guest=await _was_guest(session, invitee_pk, now),
            invitee_has_pending_invitation=await _has_pending(session, invitee_pk, now),
        )
        if refusal:
            raise refusal

        used = await session.scalar(
            select(func.count()).where(
                models.Invitation.inviter_id == inviter_pk, models.Invitation.year == year
            )
        )
        limit = context.settings.invitation_quota
        if refusal := rules.check_quota(used=used or 0, limit=limit, year=year):
            raise refusal

        await _expire_stale_invitations(session, invitee_pk, now)
        row = models.Invitation(
            inviter_id=inviter_pk,
            invitee_id=invitee_pk,
            status=InvitationStatus.PENDING,
            message=message,
            year=year,
            created_at=now,
            expires_at=rules.invitation_expiry(now, context.settings.invitation_ttl_days),
            idempotency_key=key,
        )
        session.add(row)
        await session.flush()
        await append_activity(
            session,
            ActivityKind.INVITATION_SENT,
            occurred_at=now,
            subject=Subject.of(models.Invitation, row.id),
            related={"organization_id": invitee_pk},
            payload={"inviter_id": inviter_pk, "invitee_id": invitee_pk},
        )
    return row


def _invitation_facts(row: models.Invitation) -> InvitationFacts:
    return InvitationFacts(row.inviter_id, row.invitee_id, row.status, row.expires_at)


def _require_side(row: models.Invitation, organization_id: int, side: str) -> None:
    if organization_id != getattr(row, f"{side}_id"):
        raise PayloadRefusal(ErrorCode.FORBIDDEN, f"Only the {side} may do this.", "id")


async def _close(
    info: Info, id: str, status: InvitationStatus, kind: ActivityKind, side: str
) -> models.Invitation:
    """Decline (the invitee) or revoke (the inviter, or the secretariat): a pending,
    unexpired invitation ends. A revoked invitation's quota slot stays used."""
    principal = info.context.principal
    pk = id_of("Invitation", id, "id")
    async with transaction(info) as session:
        row = await _lock_invitation(info, session, pk)
        now = info.context.clock()  # expired or not when the lock was obtained
        if principal.role is not Role.ADMIN:
            _require_side(row, acting_organization(principal), side)
        if refusal := rules.check_still_pending(_invitation_facts(row), now):
            raise refusal
        row.status = status
        row.responded_at = now
        await session.flush()
        await append_activity(
            session,
            kind,
            occurred_at=now,
            subject=Subject.of(models.Invitation, row.id),
            related={"organization_id": row.invitee_id},
        )
    return row


@mutation(Role.ORGANIZATION)
async def accept_invitation(info: Info, *, id: str) -> models.Invitation:
    """The invitee joins (rule 5): a pending, unexpired invitation from a member."""
    invitee_id = acting_organization(info.context.principal)
    pk = id_of("Invitation", id, "id")
    async with transaction(info) as session:
        invitee = found(
            (await _lock_organizations(session, invitee_id)).get(invitee_id), "organization"
        )
        row = await _lock_invitation(info, session, pk)
        now = info.context.clock()  # expired or not when the locks were obtained
        _require_side(row, invitee_id, "invitee")
        inviter = found(await session.get(models.Organization, row.inviter_id), "organization")
        refusal = rules.check_acceptance(
            _invitation_facts(row),
            inviter.facts(),
            invitee.facts(),
            now,
            invitee_was_guest=await _was_guest(session, invitee_id, now),
        )
        if refusal:
            raise refusal
        row.status = InvitationStatus.ACCEPTED
        row.responded_at = now
        invitee.status = OrganizationStatus.MEMBER
        invitee.joined_at = now
        invitee.sponsor_id = inviter.id
        await session.flush()
        await append_activity(
            session,
            ActivityKind.INVITATION_ACCEPTED,
            occurred_at=now,
            subject=Subject.of(models.Invitation, row.id),
            related={"organization_id": invitee.id},
        )
        await append_activity(
            session,
            ActivityKind.MEMBER_JOINED,
            occurred_at=now,
            subject=Subject.of(models.Organization, invitee.id),
            related={"invitation_id": row.id},
            payload={"sponsor_id": inviter.id, "country_id": invitee.country_id},
        )
    return row


@mutation(Role.ORGANIZATION)
async def decline_invitation(info: Info, *, id: str) -> models.Invitation:
    return await _close(
        info, id, InvitationStatus.DECLINED, ActivityKind.INVITATION_DECLINED, "invitee"
    )


@mutation(Role.ADMIN, Role.ORGANIZATION)
async def revoke_invitation(info: Info, *, id: str) -> models.Invitation:
    return await _close(
        info, id, InvitationStatus.REVOKED, ActivityKind.INVITATION_REVOKED, "inviter"
    )


async def invitation_updates(
    info: Info, *, after: str | None = None
) -> AsyncGenerator[LiveEvent, None]:
    """The caller's organization's invitations, sent or received, from the activity log:
    await it, then iterate (closing the generator unsubscribes)."""
    require_role(info.context.principal, Role.ORGANIZATION)
    own = info.context.principal.organization_id

    def wants(live: LiveEvent) -> bool:
        invitation = live.subject_as(models.Invitation)
        return (
            live.kind in INVITATION_UPDATES
            and invitation is not None
            and own in (invitation.inviter_id, invitation.invitee_id)
        )

    return follow(info, wants, after)
