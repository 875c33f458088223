"""The club's rules without a database or GraphQL: every refusal and its code."""

from datetime import UTC, datetime, timedelta

import pytest

from club import rules
from club.enums import AttendanceRole, EventStatus, InvitationStatus, OrganizationStatus
from club.errors import ErrorCode, PayloadRefusal
from club.rules import InvitationFacts, OrganizationFacts

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
MEMBER = OrganizationFacts(1, "Member", OrganizationStatus.MEMBER)
OTHER_MEMBER = OrganizationFacts(2, "Other member", OrganizationStatus.MEMBER)
GUEST = OrganizationFacts(3, "Guest", OrganizationStatus.GUEST)
OTHER_GUEST = OrganizationFacts(4, "Other guest", OrganizationStatus.GUEST)


def code(refusal: PayloadRefusal | None) -> ErrorCode | None:
    return refusal.code if refusal else None


def whole(refusal: PayloadRefusal | None) -> tuple[ErrorCode, str, str | None] | None:
    return (refusal.code, refusal.message, refusal.field) if refusal else None


@pytest.mark.parametrize(
    ("inviter", "invitee", "was_guest", "pending", "expected"),
    [
        (MEMBER, GUEST, True, False, None),
        (MEMBER, MEMBER, True, False, ErrorCode.SELF_INVITATION),
        (GUEST, OTHER_GUEST, True, False, ErrorCode.INVITER_NOT_MEMBER),
        (MEMBER, OTHER_MEMBER, True, False, ErrorCode.INVITEE_ALREADY_MEMBER),
        (MEMBER, GUEST, False, False, ErrorCode.GUEST_ATTENDANCE_REQUIRED),
        (MEMBER, GUEST, True, True, ErrorCode.ALREADY_INVITED),
    ],
)
def test_check_invitation(
    inviter: OrganizationFacts,
    invitee: OrganizationFacts,
    was_guest: bool,
    pending: bool,
    expected: ErrorCode | None,
) -> None:
    refusal = rules.check_invitation(
        inviter, invitee, invitee_was_guest=was_guest, invitee_has_pending_invitation=pending
    )
    assert code(refusal) == expected


def test_refusals_name_the_input_at_fault() -> None:
    refusal = rules.check_invitation(
        GUEST, OTHER_GUEST, invitee_was_guest=True, invitee_has_pending_invitation=False
    )
    assert whole(refusal) == (
        ErrorCode.INVITER_NOT_MEMBER,
        "Guest is not a member; only members invite.",
        "inviterId",
    )


@pytest.mark.parametrize(
    ("used", "expected"),
    [
        (0, None),
        (4, None),
        (5, ErrorCode.INVITATION_QUOTA_EXCEEDED),
        (6, ErrorCode.INVITATION_QUOTA_EXCEEDED),
    ],
)
def test_check_quota(used: int, expected: ErrorCode | None) -> None:
    assert code(rules.check_quota(used=used, limit=5, year=2026)) == expected


def test_the_quota_year_is_the_utc_year_of_creation() -> None:
    new_year_in_kyiv = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # 01:30 on 1 January in Kyiv
    assert rules.invitation_year(new_year_in_kyiv) == 2026
    assert rules.invitation_expiry(NOW, 30) == NOW + timedelta(days=30)


def pending(
    expires_at: datetime = NOW + timedelta(days=1),
    status: InvitationStatus = InvitationStatus.PENDING,
) -> InvitationFacts:
    return InvitationFacts(
        inviter_id=MEMBER.id, invitee_id=GUEST.id, status=status, expires_at=expires_at
    )


@pytest.mark.parametrize(
    ("invitation", "inviter", "invitee", "expected"),
    [
        (pending(), MEMBER, GUEST, None),
        (
            pending(status=InvitationStatus.DECLINED),
            MEMBER,
            GUEST,
            ErrorCode.INVITATION_NOT_PENDING,
        ),
        (
            pending(status=InvitationStatus.ACCEPTED),
            MEMBER,
            GUEST,
            ErrorCode.INVITATION_NOT_PENDING,
        ),
        (pending(status=InvitationStatus.REVOKED), MEMBER, GUEST, ErrorCode.INVITATION_NOT_PENDING),
        (pending(expires_at=NOW), MEMBER, GUEST, ErrorCode.INVITATION_EXPIRED),
        (pending(), GUEST, OTHER_GUEST, ErrorCode.INVITER_NOT_MEMBER),
        # It joined meanwhile (another invitation): accepting again would rewrite its sponsor.
        (pending(), MEMBER, OTHER_MEMBER, ErrorCode.INVITEE_ALREADY_MEMBER),
    ],
)
def test_check_acceptance(
    invitation: InvitationFacts,
    inviter: OrganizationFacts,
    invitee: OrganizationFacts,
    expected: ErrorCode | None,
) -> None:
    assert (
        code(rules.check_acceptance(invitation, inviter, invitee, NOW, invitee_was_guest=True))
        == expected
    )


def test_acceptance_asks_again_whether_the_invitee_attended_as_a_guest() -> None:
    """The event it attended may have been cancelled since it was invited."""
    assert whole(
        rules.check_acceptance(pending(), MEMBER, GUEST, NOW, invitee_was_guest=False)
    ) == (
        ErrorCode.GUEST_ATTENDANCE_REQUIRED,
        f"{GUEST.name} no longer has a club event it attended as a guest.",
        None,
    )


def test_an_attended_event_keeps_its_start_in_the_past() -> None:
    later = NOW + timedelta(seconds=1)
    assert rules.check_start_change(later, now=NOW, attendance_recorded=False) is None
    assert rules.check_start_change(NOW, now=NOW, attendance_recorded=True) is None
    assert whole(rules.check_start_change(later, now=NOW, attendance_recorded=True)) == (
        ErrorCode.EVENT_HAS_ATTENDANCE,
        "Attendance of this event is recorded: it cannot start in the future.",
        "startsAt",
    )


def test_declining_or_revoking_needs_a_pending_unexpired_invitation() -> None:
    assert rules.check_still_pending(pending(), NOW) is None
    assert (
        code(rules.check_still_pending(pending(expires_at=NOW - timedelta(seconds=1)), NOW))
        == ErrorCode.INVITATION_EXPIRED
    )


def test_events() -> None:
    later = NOW + timedelta(days=1)
    hour = timedelta(hours=1)
    assert rules.check_schedule(later, later + hour, now=NOW, may_backdate=False) is None
    assert whole(rules.check_schedule(later, later, now=NOW, may_backdate=True)) == (
        ErrorCode.INVALID_INPUT,
        "An event must end after it starts.",
        "endsAt",
    )
    past = NOW - timedelta(days=1)
    assert rules.check_schedule(past, past + hour, now=NOW, may_backdate=True) is None
    assert whole(rules.check_schedule(past, past + hour, now=NOW, may_backdate=False)) == (
        ErrorCode.INVALID_INPUT,
        "Meetings are scheduled ahead; the secretariat records past ones.",
        "startsAt",
    )
    assert rules.check_host(MEMBER) is None
    assert code(rules.check_host(GUEST)) == ErrorCode.MEMBERSHIP_REQUIRED
    assert rules.check_event_open(EventStatus.SCHEDULED) is None
    assert code(rules.check_event_open(EventStatus.CANCELLED)) == ErrorCode.EVENT_NOT_SCHEDULED
    assert code(rules.check_event_open(EventStatus.COMPLETED)) == ErrorCode.EVENT_NOT_SCHEDULED
    assert rules.check_completion(EventStatus.SCHEDULED, NOW, NOW) is None
    assert (
        code(rules.check_completion(EventStatus.SCHEDULED, NOW + timedelta(minutes=1), NOW))
        == ErrorCode.EVENT_NOT_STARTED
    )


@pytest.mark.parametrize(
    ("status", "attendee", "role", "recorded", "expected"),
    [
        (EventStatus.SCHEDULED, GUEST, AttendanceRole.GUEST, None, ErrorCode.EVENT_NOT_STARTED),
        (EventStatus.SCHEDULED, GUEST, AttendanceRole.GUEST, False, None),
        (EventStatus.COMPLETED, GUEST, AttendanceRole.GUEST, False, None),
        (EventStatus.SCHEDULED, MEMBER, AttendanceRole.HOST, False, None),
        (EventStatus.SCHEDULED, OTHER_MEMBER, AttendanceRole.MEMBER, False, None),
        (EventStatus.SCHEDULED, GUEST, AttendanceRole.SPEAKER, False, None),
        (EventStatus.CANCELLED, GUEST, AttendanceRole.GUEST, False, ErrorCode.EVENT_NOT_SCHEDULED),
        (
            EventStatus.SCHEDULED,
            GUEST,
            AttendanceRole.GUEST,
            True,
            ErrorCode.ATTENDANCE_ALREADY_RECORDED,
        ),
        (
            EventStatus.SCHEDULED,
            OTHER_MEMBER,
            AttendanceRole.HOST,
            False,
            ErrorCode.ATTENDANCE_ROLE_MISMATCH,
        ),
        (
            EventStatus.SCHEDULED,
            GUEST,
            AttendanceRole.MEMBER,
            False,
            ErrorCode.ATTENDANCE_ROLE_MISMATCH,
        ),
        (
            EventStatus.SCHEDULED,
            OTHER_MEMBER,
            AttendanceRole.GUEST,
            False,
            ErrorCode.ATTENDANCE_ROLE_MISMATCH,
        ),
    ],
)
def test_check_attendance(
    status: EventStatus,
    attendee: OrganizationFacts,
    role: AttendanceRole,
    recorded: bool | None,
    expected: ErrorCode | None,
) -> None:
    refusal = rules.check_attendance(
        event_status=status,
        event_started=recorded is not None,  # None: the event has not started yet
        event_host_id=MEMBER.id,
        attendee=attendee,
        role=role,
        already_recorded=bool(recorded),
    )
    assert code(refusal) == expected


def test_working_groups() -> None:
    assert rules.check_joining(MEMBER, already_in=False) is None
    assert code(rules.check_joining(GUEST, already_in=False)) == ErrorCode.MEMBERSHIP_REQUIRED
    assert code(rules.check_joining(MEMBER, already_in=True)) == ErrorCode.ALREADY_IN_WORKING_GROUP
    assert rules.check_leaving(MEMBER, is_in=True) is None
    assert code(rules.check_leaving(MEMBER, is_in=False)) == ErrorCode.NOT_IN_WORKING_GROUP


def test_rules_import_neither_strawberry_nor_sqlalchemy() -> None:
    import ast
    from pathlib import Path

    tree = ast.parse(Path(rules.__file__).read_text())
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert not {name for name in imported if name.split(".")[0] in {"strawberry", "sqlalchemy"}}
