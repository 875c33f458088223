"""The one vocabulary of refusals. Each type's name says where it surfaces:

- `PayloadRefusal`: a rule says no; it surfaces in the mutation payload's `errors`
  (a `UserError` with an `ErrorCode`) and the transaction rolls back.
- `RequestError`: the request cannot be answered as asked (bad input, a role that may
  not call the field, a limit); it surfaces as an entry of the response's top-level
  `errors`, with `extensions.code`.
- `HTTPRejection`: the transport refuses before any GraphQL runs; it surfaces as an HTTP
  status with a GraphQL-shaped body (server/guard.py sends it).

All three carry a message that is safe to show; anything else that goes wrong is masked.
"""

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

T = TypeVar("T")


class ErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    FORBIDDEN = "FORBIDDEN"
    INVITER_NOT_MEMBER = "INVITER_NOT_MEMBER"
    INVITEE_ALREADY_MEMBER = "INVITEE_ALREADY_MEMBER"
    GUEST_ATTENDANCE_REQUIRED = "GUEST_ATTENDANCE_REQUIRED"
    INVITATION_QUOTA_EXCEEDED = "INVITATION_QUOTA_EXCEEDED"
    ALREADY_INVITED = "ALREADY_INVITED"
    SELF_INVITATION = "SELF_INVITATION"
    INVITATION_NOT_PENDING = "INVITATION_NOT_PENDING"
    INVITATION_EXPIRED = "INVITATION_EXPIRED"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    MEMBERSHIP_REQUIRED = "MEMBERSHIP_REQUIRED"
    EVENT_NOT_SCHEDULED = "EVENT_NOT_SCHEDULED"
    EVENT_NOT_STARTED = "EVENT_NOT_STARTED"
    EVENT_HAS_ATTENDANCE = "EVENT_HAS_ATTENDANCE"
    ATTENDANCE_ALREADY_RECORDED = "ATTENDANCE_ALREADY_RECORDED"
    ATTENDANCE_ROLE_MISMATCH = "ATTENDANCE_ROLE_MISMATCH"
    ALREADY_IN_WORKING_GROUP = "ALREADY_IN_WORKING_GROUP"
    NOT_IN_WORKING_GROUP = "NOT_IN_WORKING_GROUP"
    NAME_TAKEN = "NAME_TAKEN"
    NOT_INITIATIVE_EDITOR = "NOT_INITIATIVE_EDITOR"
    NOT_PROGRAM_ORGANIZER = "NOT_PROGRAM_ORGANIZER"
    NOT_INCUBATED = "NOT_INCUBATED"
    STAGE_CHANGE_NOT_ALLOWED = "STAGE_CHANGE_NOT_ALLOWED"
    PROGRAM_LOCKED = "PROGRAM_LOCKED"
    PARTNER_NOT_IN_CLUB = "PARTNER_NOT_IN_CLUB"
    ALREADY_PARTNER = "ALREADY_PARTNER"
    NOT_A_PARTNER = "NOT_A_PARTNER"
    ALREADY_GRADUATED = "ALREADY_GRADUATED"


class PayloadRefusal(Exception):
    """A typed refusal: the action breaks a rule; nothing may change."""

    def __init__(self, code: ErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"PayloadRefusal({self.code}, {self.message!r}, field={self.field!r})"


class RequestError(Exception):
    """A request-level GraphQL error the client caused and can fix: `code` goes to
    `extensions.code`, with any other `extensions`."""

    def __init__(self, code: str, message: str, **extensions: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extensions: dict[str, object] = {"code": code, **extensions}

    @classmethod
    def bad_input(cls, message: str, *, field: str | None = None) -> "RequestError":
        """BAD_USER_INPUT, naming the argument at fault when there is one."""
        return cls("BAD_USER_INPUT", message, **({} if field is None else {"field": field}))

    @classmethod
    def forbidden(cls, message: str) -> "RequestError":
        """FORBIDDEN: the caller's role may not do this at all (a partner calling a mutation)."""
        return cls("FORBIDDEN", message)


class HTTPRejection(Exception):
    """A refusal at the transport: an HTTP status, a code and headers (e.g. Retry-After)."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def found(row: T | None, what: str, field: str | None = "id") -> T:
    if row is None:
        raise PayloadRefusal(ErrorCode.NOT_FOUND, f"No such {what}.", field)
    return row
