"""Invitations: lookups (visible to admins, the inviter and the invitee only) and the
mutations by which a guest becomes a member."""

from datetime import datetime

import strawberry
from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.activity import append_activity
from db.enums import (
    ActivityKind,
    AttendanceRole,
    EventStatus,
    InvitationStatus,
    OrganizationStatus,
    Role,
)
from resolvers import rules
from resolvers.context import Info
from resolvers.invitation_access import owners, visible_invitation
from resolvers.mutations import acting_organization, facts, found, id_of, mutation, transaction
from resolvers.rules import ErrorCode, InvitationFacts, Refusal
from resolvers.validation import optional_text
from resolvers.visibility import Audience, Principal, can_see
from schema.ids import decode_id
from schema.invitations import Invitation, InvitationPayload, InviteOrganizationInput


async def invitation(info: Info, id: strawberry.ID) -> Invitation | None:
    row = await visible_invitation(info, decode_id("Invitation", id))
    return Invitation.from_row(row) if row else None


def _inviter_id(principal: Principal, given: str | None) -> int:
    if principal.role is Role.ADMIN:
        if given is None:
            raise Refusal(ErrorCode.INVALID_INPUT, "Name the inviting member.", "inviterId")
        return id_of("Organization", given, "inviterId")
    own = acting_organization(principal)
    if given is not None and id_of("Organization", given, "inviterId") != own:
        raise Refusal(ErrorCode.FORBIDDEN, "An organization invites as itself.", "inviterId")
    return own


async def _lock_organization(session: AsyncSession, pk: int, field: str) -> models.Organization:
    """The organization's row, locked until commit. FOR NO KEY UPDATE: writers queue behind
    one another, while inserts that merely reference the row (activity log, invitations) do
    not wait. SQLite has no row locks; BEGIN IMMEDIATE already admits one writer at a time."""
    statement = (
        select(models.Organization)
        .where(models.Organization.id == pk)
        .with_for_update(key_share=True)
    )
    return found(await session.scalar(statement), "organization", field)


async def _expire_stale_invitations(session: AsyncSession, invitee_id: int, now: datetime) -> None:
    await session.execute(
        update(models.Invitation)
        .where(
            models.Invitation.invitee_id == invitee_id,
            models.Invitation.status == InvitationStatus.PENDING,
            models.Invitation.expires_at <= now,
        )
        .values(status=InvitationStatus.EXPIRED)
    )


async def _was_guest(session: AsyncSession, organization_id: int) -> bool:
    attended = (
        select(models.Attendance.id)
        .join(models.Event, models.Event.id == models.Attendance.event_id)
        .where(
            models.Attendance.organization_id == organization_id,
            models.Attendance.role == AttendanceRole.GUEST,
            models.Event.status != EventStatus.CANCELLED,
        )
    )
    return bool(await session.scalar(select(exists(attended))))


async def _has_pending(session: AsyncSession, invitee_id: int) -> bool:
    pending = select(models.Invitation.id).where(
        models.Invitation.invitee_id == invitee_id,
        models.Invitation.status == InvitationStatus.PENDING,
    )
    return bool(await session.scalar(select(exists(pending))))


@mutation(InvitationPayload, Role.ADMIN, Role.ORGANIZATION)
async def invite_organization(info: Info, input: InviteOrganizationInput) -> Invitation:
    """A member invites a guest (rules 2 to 4), within its yearly quota (rule 3)."""
    context = info.context
    inviter_id = _inviter_id(context.principal, input.inviter_id)
    invitee_id = id_of("Organization", input.invitee_id, "inviteeId")
    message = optional_text(input.message, "message", max_length=2000)
    key = optional_text(input.idempotency_key, "idempotencyKey", max_length=100)
    now = context.now

    async with transaction(info) as session:
        # Every invitation by this inviter queues here, in one process or many: the count
        # below cannot be overtaken by a concurrent insert.
        inviter = await _lock_organization(session, inviter_id, "inviterId")
        if key is not None:
            earlier = await session.scalar(
                select(models.Invitation).where(
                    models.Invitation.inviter_id == inviter_id,
                    models.Invitation.idempotency_key == key,
                )
            )
            if earlier is not None:
                if earlier.invitee_id != invitee_id:
                    raise Refusal(
                        ErrorCode.IDEMPOTENCY_KEY_REUSED,
                        "This idempotency key was used for another invitation.",
                        "idempotencyKey",
                    )
                return Invitation.from_row(earlier)  # a retry: nothing new, no slot used

        invitee = found(
            await session.get(models.Organization, invitee_id), "organization", "inviteeId"
        )
        await _expire_stale_invitations(session, invitee_id, now)
        refusal = rules.check_invitation(
            facts(inviter),
            facts(invitee),
            invitee_was_guest=await _was_guest(session, invitee_id),
            invitee_has_pending_invitation=await _has_pending(session, invitee_id),
        )
        if refusal:
            raise refusal

        year = rules.invitation_year(now)
        used = await session.scalar(
            select(func.count()).where(
                models.Invitation.inviter_id == inviter_id, models.Invitation.year == year
            )
        )
        if refusal := rules.check_quota(
            used=used or 0, limit=context.settings.invitation_quota, year=year
        ):
            raise refusal

        row = models.Invitation(
            inviter_id=inviter_id,
            invitee_id=invitee_id,
            status=InvitationStatus.PENDING,
            message=message,
            year=year,
            created_at=now,
            expires_at=rules.invitation_expiry(now, context.settings.invitation_ttl_days),
            idempotency_key=key,
        )
        session.add(row)
        try:
            await session.flush()
        except IntegrityError:
            # Another member's invitation to the same guest committed first.
            raise Refusal(
                ErrorCode.ALREADY_INVITED,
                f"{invitee.name} already holds a pending invitation.",
                "inviteeId",
            ) from None
        await append_activity(
            session,
            ActivityKind.INVITATION_SENT,
            occurred_at=now,
            organization_id=invitee_id,
            invitation_id=row.id,
            payload={"inviter_id": inviter_id, "invitee_id": invitee_id},
        )
    return Invitation.from_row(row)


async def _lock_invitation(info: Info, session: AsyncSession, id: str) -> models.Invitation:
    """The invitation's row, locked until commit; NOT_FOUND also for callers who may not
    see it, so that probing reveals nothing."""
    pk = id_of("Invitation", id, "id")
    row = await session.scalar(
        select(models.Invitation).where(models.Invitation.id == pk).with_for_update(key_share=True)
    )
    principal = info.context.principal
    if row is None or not can_see(Audience.OWNERS, principal, owners(row)):
        raise Refusal(ErrorCode.NOT_FOUND, "No such invitation.", "id")
    return row


def _invitation_facts(row: models.Invitation) -> InvitationFacts:
    return InvitationFacts(row.inviter_id, row.invitee_id, row.status, row.expires_at)


def _require_side(row: models.Invitation, organization_id: int, side: str) -> None:
    if organization_id != getattr(row, f"{side}_id"):
        raise Refusal(ErrorCode.FORBIDDEN, f"Only the {side} may do this.", "id")


async def _respond(
    info: Info, id: str, status: InvitationStatus, kind: ActivityKind
) -> models.Invitation:
    async with transaction(info) as session:
        row = await _lock_invitation(info, session, id)
        _require_side(row, acting_organization(info.context.principal), "invitee")
        if refusal := rules.check_still_pending(_invitation_facts(row), info.context.now):
            raise refusal
        row.status = status
        row.responded_at = info.context.now
        await session.flush()
        await append_activity(
            session,
            kind,
            occurred_at=info.context.now,
            organization_id=row.invitee_id,
            invitation_id=row.id,
        )
    return row


@mutation(InvitationPayload, Role.ORGANIZATION)
async def accept_invitation(info: Info, id: strawberry.ID) -> Invitation:
    """The invitee joins (rule 5): a pending, unexpired invitation from a member."""
    now = info.context.now
    async with transaction(info) as session:
        row = await _lock_invitation(info, session, id)
        _require_side(row, acting_organization(info.context.principal), "invitee")
        inviter = found(await session.get(models.Organization, row.inviter_id), "organization")
        if refusal := rules.check_acceptance(_invitation_facts(row), facts(inviter), now):
            raise refusal
        invitee = await _lock_organization(session, row.invitee_id, "id")
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
            organization_id=invitee.id,
            invitation_id=row.id,
        )
        await append_activity(
            session,
            ActivityKind.MEMBER_JOINED,
            occurred_at=now,
            organization_id=invitee.id,
            invitation_id=row.id,
            payload={"sponsor_id": inviter.id, "country_id": invitee.country_id},
        )
    return Invitation.from_row(row)


@mutation(InvitationPayload, Role.ORGANIZATION)
async def decline_invitation(info: Info, id: strawberry.ID) -> Invitation:
    row = await _respond(info, id, InvitationStatus.DECLINED, ActivityKind.INVITATION_DECLINED)
    return Invitation.from_row(row)


@mutation(InvitationPayload, Role.ADMIN, Role.ORGANIZATION)
async def revoke_invitation(info: Info, id: strawberry.ID) -> Invitation:
    """The inviter (or the secretariat for it) withdraws a pending invitation. The slot it
    used stays used: every invitation sent counts."""
    principal = info.context.principal
    now = info.context.now
    async with transaction(info) as session:
        row = await _lock_invitation(info, session, id)
        if principal.role is not Role.ADMIN:
            _require_side(row, acting_organization(principal), "inviter")
        if refusal := rules.check_still_pending(_invitation_facts(row), now):
            raise refusal
        row.status = InvitationStatus.REVOKED
        row.responded_at = now
        await session.flush()
        await append_activity(
            session,
            ActivityKind.INVITATION_REVOKED,
            occurred_at=now,
            organization_id=row.invitee_id,
            invitation_id=row.id,
        )
    return Invitation.from_row(row)
