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
    OTHER = "OTHER"


class ActionItemStatus(StrEnum):
    PLANNED = "PLANNED"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"


class Role(StrEnum):
    """What an API token may act as."""

    ADMIN = "ADMIN"
    ORGANIZATION = "ORGANIZATION"
    PARTNER = "PARTNER"
