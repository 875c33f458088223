"""The club's vocabularies, as plain Python enums shared by storage, rules and schema."""

from enum import StrEnum


class OrganizationKind(StrEnum):
    NGO = "NGO"
    LEGAL_AID_PROVIDER = "LEGAL_AID_PROVIDER"
    GOVERNMENT = "GOVERNMENT"
    ACADEMIC = "ACADEMIC"
    FOUNDATION = "FOUNDATION"
    OTHER = "OTHER"


class OrganizationStatus(StrEnum):
    GUEST = "GUEST"
    MEMBER = "MEMBER"


class EventKind(StrEnum):
    ONLINE_MEETING = "ONLINE_MEETING"
    IN_PERSON = "IN_PERSON"
    HYBRID = "HYBRID"


class EventStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"


class AttendanceRole(StrEnum):
    HOST = "HOST"
    MEMBER = "MEMBER"
    GUEST = "GUEST"
    SPEAKER = "SPEAKER"


class InvitationStatus(StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


class FocusArea(StrEnum):
    TECH_SOLUTIONS = "TECH_SOLUTIONS"
    PARALEGAL_FIELD_WORK = "PARALEGAL_FIELD_WORK"
    PRO_BONO_LAWYERS = "PRO_BONO_LAWYERS"
    DATA_AND_EVIDENCE = "DATA_AND_EVIDENCE"
    # Initiatives' themes beyond the working groups' (the pandemic's aftermath).
    PUBLIC_HEALTH = "PUBLIC_HEALTH"
    SOCIAL_PROBLEMS = "SOCIAL_PROBLEMS"
    OTHER = "OTHER"


class ActionItemStatus(StrEnum):
    PLANNED = "PLANNED"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"


class Role(StrEnum):
    """What the caller acts as: its API token's role, or ANONYMOUS for a request without a
    token where the server allows those (CLUBJUSTICE_ANONYMOUS_READS)."""

    ADMIN = "ADMIN"
    ORGANIZATION = "ORGANIZATION"
    PARTNER = "PARTNER"
    # No token: public fields only, no mutations. Never a token's role (TOKEN_ROLES).
    ANONYMOUS = "ANONYMOUS"


# The roles an API token may have (`clubjustice token create --role`, the api_tokens CHECK).
TOKEN_ROLES = (Role.ADMIN, Role.ORGANIZATION, Role.PARTNER)


class ActivityKind(StrEnum):
    """What a row of the activity log records; subscriptions filter on it."""

    ORGANIZATION_REGISTERED = "ORGANIZATION_REGISTERED"
    ORGANIZATION_UPDATED = "ORGANIZATION_UPDATED"
    MEMBER_JOINED = "MEMBER_JOINED"
    EVENT_SCHEDULED = "EVENT_SCHEDULED"
    EVENT_UPDATED = "EVENT_UPDATED"
    EVENT_CANCELLED = "EVENT_CANCELLED"
    EVENT_COMPLETED = "EVENT_COMPLETED"
    ATTENDANCE_RECORDED = "ATTENDANCE_RECORDED"
    INVITATION_SENT = "INVITATION_SENT"
    INVITATION_ACCEPTED = "INVITATION_ACCEPTED"
    INVITATION_DECLINED = "INVITATION_DECLINED"
    INVITATION_REVOKED = "INVITATION_REVOKED"
    INVITATION_EXPIRED = "INVITATION_EXPIRED"
    WORKING_GROUP_CREATED = "WORKING_GROUP_CREATED"
    WORKING_GROUP_JOINED = "WORKING_GROUP_JOINED"
    WORKING_GROUP_LEFT = "WORKING_GROUP_LEFT"
    ACTION_ITEM_ADDED = "ACTION_ITEM_ADDED"
    ACTION_ITEM_UPDATED = "ACTION_ITEM_UPDATED"
    TOKEN_REVOKED = "TOKEN_REVOKED"
    INITIATIVE_PROPOSED = "INITIATIVE_PROPOSED"
    INITIATIVE_UPDATED = "INITIATIVE_UPDATED"
    INITIATIVE_PARTNER_ADDED = "INITIATIVE_PARTNER_ADDED"
    INITIATIVE_PARTNER_REMOVED = "INITIATIVE_PARTNER_REMOVED"
    INITIATIVE_STAGE_CHANGED = "INITIATIVE_STAGE_CHANGED"
    GRADUATION_RECORDED = "GRADUATION_RECORDED"


class MeetingUpdateKind(StrEnum):
    SCHEDULED = "SCHEDULED"
    UPDATED = "UPDATED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"
    ATTENDANCE_RECORDED = "ATTENDANCE_RECORDED"


# The activity a `meetingUpdates` subscription delivers, as the kind it reports.
MEETING_UPDATES = {
    ActivityKind.EVENT_SCHEDULED: MeetingUpdateKind.SCHEDULED,
    ActivityKind.EVENT_UPDATED: MeetingUpdateKind.UPDATED,
    ActivityKind.EVENT_CANCELLED: MeetingUpdateKind.CANCELLED,
    ActivityKind.EVENT_COMPLETED: MeetingUpdateKind.COMPLETED,
    ActivityKind.ATTENDANCE_RECORDED: MeetingUpdateKind.ATTENDANCE_RECORDED,
}


class InvitationUpdateKind(StrEnum):
    SENT = "SENT"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


# The activity an `invitationUpdates` subscription delivers, as the kind it reports.
INVITATION_UPDATES = {
    ActivityKind.INVITATION_SENT: InvitationUpdateKind.SENT,
    ActivityKind.INVITATION_ACCEPTED: InvitationUpdateKind.ACCEPTED,
    ActivityKind.INVITATION_DECLINED: InvitationUpdateKind.DECLINED,
    ActivityKind.INVITATION_REVOKED: InvitationUpdateKind.REVOKED,
    ActivityKind.INVITATION_EXPIRED: InvitationUpdateKind.EXPIRED,
}


class InitiativeStage(StrEnum):
    """IDEA → INCUBATING → PILOTING → IMPLEMENTED, one step at a time; or SHELVED, and back."""

    IDEA = "IDEA"
    INCUBATING = "INCUBATING"
    PILOTING = "PILOTING"
    IMPLEMENTED = "IMPLEMENTED"
    SHELVED = "SHELVED"


class InitiativeUpdateKind(StrEnum):
    PROPOSED = "PROPOSED"
    UPDATED = "UPDATED"
    PARTNER_ADDED = "PARTNER_ADDED"
    PARTNER_REMOVED = "PARTNER_REMOVED"
    STAGE_CHANGED = "STAGE_CHANGED"


# The activity an `initiativeUpdates` subscription delivers, as the kind it reports.
INITIATIVE_UPDATES = {
    ActivityKind.INITIATIVE_PROPOSED: InitiativeUpdateKind.PROPOSED,
    ActivityKind.INITIATIVE_UPDATED: InitiativeUpdateKind.UPDATED,
    ActivityKind.INITIATIVE_PARTNER_ADDED: InitiativeUpdateKind.PARTNER_ADDED,
    ActivityKind.INITIATIVE_PARTNER_REMOVED: InitiativeUpdateKind.PARTNER_REMOVED,
    ActivityKind.INITIATIVE_STAGE_CHANGED: InitiativeUpdateKind.STAGE_CHANGED,
}
