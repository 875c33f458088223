"""The club's enums exposed to GraphQL. The Python enums live in club.enums; strawberry.enum
marks them in place, so the same classes serve storage, rules and schema."""

import strawberry

from club.enums import (
    ActionItemStatus,
    AttendanceRole,
    EventKind,
    EventStatus,
    FocusArea,
    InvitationStatus,
    InvitationUpdateKind,
    MeetingUpdateKind,
    OrganizationKind,
    OrganizationStatus,
    Role,
)

strawberry.enum(OrganizationKind)
strawberry.enum(
    OrganizationStatus,
    description="GUEST until the organization accepts an invitation; then MEMBER.",
)
strawberry.enum(EventKind)
strawberry.enum(EventStatus)
strawberry.enum(AttendanceRole)
strawberry.enum(
    InvitationStatus,
    description="EXPIRED is reported for a pending invitation past its expiry time.",
)
strawberry.enum(FocusArea)
strawberry.enum(ActionItemStatus)
strawberry.enum(
    Role,
    description="What the caller acts as: its token's role, or ANONYMOUS for a request "
    "without a token (where the server allows those: public fields only, no mutations).",
)
strawberry.enum(MeetingUpdateKind, description="What happened to a meeting.")
strawberry.enum(InvitationUpdateKind, description="What happened to an invitation.")

__all__ = [
    "ActionItemStatus",
    "AttendanceRole",
    "EventKind",
    "EventStatus",
    "FocusArea",
    "InvitationStatus",
    "InvitationUpdateKind",
    "MeetingUpdateKind",
    "OrganizationKind",
    "OrganizationStatus",
    "Role",
]
