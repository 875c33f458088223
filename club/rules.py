"""The club's rules as pure functions over plain values.

Each check returns None when the action is allowed, or a `PayloadRefusal` naming the contract's
error code. Mutations raise the refusal, which rolls their transaction back, and report it
as a payload error. Nothing here touches the database or GraphQL.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from club.enums import AttendanceRole, EventStatus, InvitationStatus, OrganizationStatus
from club.errors import ErrorCode, PayloadRefusal


@dataclass(frozen=True, slots=True)
class OrganizationFacts:
    id: int
    name: str
    status: OrganizationStatus

    @property
    def is_member(self) -> bool:
        return self.status is OrganizationStatus.MEMBER


@dataclass(frozen=True, slots=True)
class InvitationFacts:
    inviter_id: int
    invitee_id: int
    status: InvitationStatus
    expires_at: datetime


# --- invitations -----------------------------------------------------------------------


def invitation_year(created_at: datetime) -> int:
    """The calendar year (UTC) whose quota an invitation counts against."""
    return created_at.astimezone(UTC).year


def invitation_expiry(created_at: datetime, ttl_days: int) -> datetime:
    return created_at + timedelta(days=ttl_days)


def check_invitation(
    inviter: OrganizationFacts,
    invitee: OrganizationFacts,
    *,
    invitee_was_guest: bool,
    invitee_has_pending_invitation: bool,
) -> PayloadRefusal | None:
    """Rules 2 and 4: a member invites a guest who attended a club event as a guest, not
    itself, not a member, not one that already holds a pending invitation."""
    if inviter.id == invitee.id:
        return PayloadRefusal(
            ErrorCode.SELF_INVITATION, "An organization cannot invite itself.", "inviteeId"
        )
    if not inviter.is_member:
        return PayloadRefusal(
            ErrorCode.INVITER_NOT_MEMBER,
            f"{inviter.name} is not a member; only members invite.",
            "inviterId",
        )
    if invitee.is_member:
        return PayloadRefusal(
            ErrorCode.INVITEE_ALREADY_MEMBER, f"{invitee.name} is already a member.", "inviteeId"
        )
    if not invitee_was_guest:
        return PayloadRefusal(
            ErrorCode.GUEST_ATTENDANCE_REQUIRED,
            f"{invitee.name} has not attended a club event as a guest yet.",
            "inviteeId",
        )
    if invitee_has_pending_invitation:
        return PayloadRefusal(
            ErrorCode.ALREADY_INVITED,
            f"{invitee.name} already holds a pending invitation.",
            "inviteeId",
        )
    return None


def check_quota(*, used: int, limit: int, year: int) -> PayloadRefusal | None:
    """Rule 3: at most `limit` invitations per member per calendar year. (The database
    enforces it atomically; this states it and words the refusal.)"""
    if used >= limit:
        return PayloadRefusal(
            ErrorCode.INVITATION_QUOTA_EXCEEDED,
            f"The invitation quota for {year} ({limit}) is used up.",
        )
    return None


def effective_invitation_status(
    status: InvitationStatus, expires_at: datetime, now: datetime
) -> InvitationStatus:
    """A pending invitation past its expiry time is expired, whether or not anything has
    written that down yet."""
    if status is InvitationStatus.PENDING and expires_at <= now:
        return InvitationStatus.EXPIRED
    return status


def check_still_pending(invitation: InvitationFacts, now: datetime) -> PayloadRefusal | None:
    if invitation.status is not InvitationStatus.PENDING:
        return PayloadRefusal(
            ErrorCode.INVITATION_NOT_PENDING,
            f"The invitation is {invitation.status.value.lower()}, no longer pending.",
        )
    if invitation.expires_at <= now:
        return PayloadRefusal(ErrorCode.INVITATION_EXPIRED, "The invitation has expired.")
    return None


def check_acceptance(
    invitation: InvitationFacts,
    inviter: OrganizationFacts,
    invitee: OrganizationFacts,
    now: datetime,
    *,
    invitee_was_guest: bool,
) -> PayloadRefusal | None:
    """Rule 5: a pending, unexpired invitation from an organization that is still a member,
    to one that is not a member yet and still attended a club event as a guest (rule 2 is
    asked again: the event it attended may have been cancelled since it was invited)."""
    if refusal := check_still_pending(invitation, now):
        return refusal
    if invitee.is_member:
        return PayloadRefusal(
            ErrorCode.INVITEE_ALREADY_MEMBER, f"{invitee.name} is already a member."
        )
    if not inviter.is_member:
        return PayloadRefusal(
            ErrorCode.INVITER_NOT_MEMBER, f"{inviter.name}, who invited you, is no longer a member."
        )
    if not invitee_was_guest:
        return PayloadRefusal(
            ErrorCode.GUEST_ATTENDANCE_REQUIRED,
            f"{invitee.name} no longer has a club event it attended as a guest.",
        )
    return None


# --- events and attendance -------------------------------------------------------------


def check_schedule(
    starts_at: datetime, ends_at: datetime, *, now: datetime, may_backdate: bool
) -> PayloadRefusal | None:
    """An event ends after it starts. Members schedule meetings ahead; only the secretariat
    records past ones (a back-dated meeting would make guest attendance trivial to claim)."""
    if starts_at >= ends_at:
        return PayloadRefusal(
            ErrorCode.INVALID_INPUT, "An event must end after it starts.", "endsAt"
        )
    if starts_at <= now and not may_backdate:
        return PayloadRefusal(
            ErrorCode.INVALID_INPUT,
            "Meetings are scheduled ahead; the secretariat records past ones.",
            "startsAt",
        )
    return None


def check_start_change(
    starts_at: datetime, *, now: datetime, attendance_recorded: bool
) -> PayloadRefusal | None:
    """An event whose attendance is recorded has taken place (attendance is recorded once it
    has started): its start stays in the past. Moved into the future, it would leave an
    attendance of an event that has not happened, still counted as one (a guest's, rule 2)."""
    if attendance_recorded and starts_at > now:
        return PayloadRefusal(
            ErrorCode.EVENT_HAS_ATTENDANCE,
            "Attendance of this event is recorded: it cannot start in the future.",
            "startsAt",
        )
    return None


def check_host(host: OrganizationFacts) -> PayloadRefusal | None:
    if not host.is_member:
        return PayloadRefusal(
            ErrorCode.MEMBERSHIP_REQUIRED,
            f"{host.name} is not a member; only members host.",
            "hostId",
        )
    return None


def check_event_open(status: EventStatus) -> PayloadRefusal | None:
    """Only a scheduled event changes: cancelled and completed ones are history."""
    if status is not EventStatus.SCHEDULED:
        return PayloadRefusal(
            ErrorCode.EVENT_NOT_SCHEDULED,
            f"The event is {status.value.lower()}, no longer scheduled.",
        )
    return None


def check_completion(
    status: EventStatus, starts_at: datetime, now: datetime
) -> PayloadRefusal | None:
    if refusal := check_event_open(status):
        return refusal
    if starts_at > now:
        return PayloadRefusal(
            ErrorCode.EVENT_NOT_STARTED, "An event cannot be completed before it starts."
        )
    return None


def check_attendance(
    *,
    event_status: EventStatus,
    event_started: bool,
    event_host_id: int,
    attendee: OrganizationFacts,
    role: AttendanceRole,
    already_recorded: bool,
) -> PayloadRefusal | None:
    """Attendance of a club event that took place (it has started and was not cancelled),
    one per organization, in a role that fits: HOST is the host, MEMBER a member, GUEST an
    organization that is not one."""
    if event_status is EventStatus.CANCELLED:
        return PayloadRefusal(ErrorCode.EVENT_NOT_SCHEDULED, "The event was cancelled.", "eventId")
    if not event_started:
        return PayloadRefusal(
            ErrorCode.EVENT_NOT_STARTED,
            "Attendance is recorded once the event has started.",
            "eventId",
        )
    if already_recorded:
        return PayloadRefusal(
            ErrorCode.ATTENDANCE_ALREADY_RECORDED,
            f"{attendee.name}'s attendance is already recorded.",
            "organizationId",
        )
    mismatch = {
        AttendanceRole.HOST: attendee.id != event_host_id,
        AttendanceRole.MEMBER: not attendee.is_member,
        AttendanceRole.GUEST: attendee.is_member,
        AttendanceRole.SPEAKER: False,
    }[role]
    if mismatch:
        return PayloadRefusal(
            ErrorCode.ATTENDANCE_ROLE_MISMATCH,
            f"{attendee.name} cannot attend as {role.value}.",
            "role",
        )
    return None


# --- working groups --------------------------------------------------------------------


def check_joining(organization: OrganizationFacts, *, already_in: bool) -> PayloadRefusal | None:
    if not organization.is_member:
        return PayloadRefusal(
            ErrorCode.MEMBERSHIP_REQUIRED, "Working groups are for member organizations."
        )
    if already_in:
        return PayloadRefusal(
            ErrorCode.ALREADY_IN_WORKING_GROUP, f"{organization.name} is already in it."
        )
    return None


def check_leaving(organization: OrganizationFacts, *, is_in: bool) -> PayloadRefusal | None:
    if not is_in:
        return PayloadRefusal(ErrorCode.NOT_IN_WORKING_GROUP, f"{organization.name} is not in it.")
    return None
