"""The club's tables. Relations are plain foreign-key columns; loaders fetch them explicitly."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from club.enums import (
    ActionItemStatus,
    AttendanceRole,
    EventKind,
    EventStatus,
    FocusArea,
    InitiativeStage,
    InvitationStatus,
    OrganizationKind,
    OrganizationStatus,
    Role,
)
from club.rules import OrganizationFacts
from db.base import Base, enum_column

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit sequence.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Country(Base):
    __tablename__ = "countries"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(2), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    region: Mapped[str] = mapped_column(String(40))


class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint("sponsor_id IS NULL OR sponsor_id <> id", name="not_own_sponsor"),
        CheckConstraint("status <> 'MEMBER' OR joined_at IS NOT NULL", name="member_has_joined_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[OrganizationKind] = mapped_column(enum_column(OrganizationKind))
    status: Mapped[OrganizationStatus] = mapped_column(
        enum_column(OrganizationStatus), default=OrganizationStatus.GUEST
    )
    country_id: Mapped[int] = mapped_column(ForeignKey("countries.id"), index=True)
    website: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    contact_email: Mapped[str | None] = mapped_column(String(254))
    joined_at: Mapped[datetime | None]
    sponsor_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime]

    def facts(self) -> OrganizationFacts:
        """What the club's rules need to know of it."""
        return OrganizationFacts(self.id, self.name, self.status)


class WorkingGroup(Base):
    __tablename__ = "working_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    focus_area: Mapped[FocusArea] = mapped_column(enum_column(FocusArea))
    description: Mapped[str | None] = mapped_column(Text)
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime]


class WorkingGroupMember(Base):
    __tablename__ = "working_group_members"

    working_group_id: Mapped[int] = mapped_column(
        ForeignKey("working_groups.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    joined_at: Mapped[datetime]


class ActionItem(Base):
    __tablename__ = "action_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    working_group_id: Mapped[int] = mapped_column(
        ForeignKey("working_groups.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[ActionItemStatus] = mapped_column(
        enum_column(ActionItemStatus), default=ActionItemStatus.PLANNED
    )
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    due_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (CheckConstraint("starts_at < ends_at", name="starts_before_it_ends"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind))
    status: Mapped[EventStatus] = mapped_column(
        enum_column(EventStatus), default=EventStatus.SCHEDULED
    )
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    meeting_url: Mapped[str | None] = mapped_column(String(500))
    host_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    working_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="SET NULL"), index=True
    )
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class Attendance(Base):
    __tablename__ = "attendances"
    __table_args__ = (UniqueConstraint("event_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[AttendanceRole] = mapped_column(enum_column(AttendanceRole))
    recorded_at: Mapped[datetime]


class Invitation(Base):
    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint("inviter_id <> invitee_id", name="not_self"),
        CheckConstraint("created_at < expires_at", name="expires_after_creation"),
        # Rule 4 in the database too: at most one pending invitation per invitee.
        Index(
            "uq_invitations_one_pending_per_invitee",
            "invitee_id",
            unique=True,
            sqlite_where=text("status = 'PENDING'"),
            postgresql_where=text("status = 'PENDING'"),
        ),
        Index("ix_invitations_inviter_id_year", "inviter_id", "year"),
        # A retried inviteOrganization with the same key finds the invitation it made: a key
        # is the inviter's for one quota year.
        UniqueConstraint("inviter_id", "year", "idempotency_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inviter_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    invitee_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    status: Mapped[InvitationStatus] = mapped_column(
        enum_column(InvitationStatus), default=InvitationStatus.PENDING
    )
    message: Mapped[str | None] = mapped_column(Text)
    year: Mapped[int]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    responded_at: Mapped[datetime | None]
    idempotency_key: Mapped[str | None] = mapped_column(String(100))


class IncubatorProgram(Base):
    """A program of the ideas incubator (KyivLEPP), run by one organization."""

    __tablename__ = "incubator_programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_at: Mapped[datetime]


class ProgramSupporter(Base):
    __tablename__ = "program_supporters"

    program_id: Mapped[int] = mapped_column(
        ForeignKey("incubator_programs.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    commitment: Mapped[str | None] = mapped_column(Text)


class ProgramGraduate(Base):
    """An organization that graduated from a program, in a year: once per program."""

    __tablename__ = "program_graduates"

    program_id: Mapped[int] = mapped_column(
        ForeignKey("incubator_programs.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    year: Mapped[int] = mapped_column(index=True)
    recorded_at: Mapped[datetime]


class Initiative(Base):
    """An idea the club incubates, from proposal to implementation (or the shelf)."""

    __tablename__ = "initiatives"
    __table_args__ = (
        CheckConstraint("cohort_year IS NULL OR program_id IS NOT NULL", name="cohort_of_program"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    problem: Mapped[str] = mapped_column(Text)
    focus_area: Mapped[FocusArea] = mapped_column(enum_column(FocusArea), index=True)
    proposer_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    program_id: Mapped[int | None] = mapped_column(
        ForeignKey("incubator_programs.id", ondelete="SET NULL"), index=True
    )
    cohort_year: Mapped[int | None]
    working_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="SET NULL"), index=True
    )
    stage: Mapped[InitiativeStage] = mapped_column(
        enum_column(InitiativeStage), default=InitiativeStage.IDEA, index=True
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class InitiativeCountry(Base):
    __tablename__ = "initiative_countries"

    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), primary_key=True
    )
    country_id: Mapped[int] = mapped_column(
        ForeignKey("countries.id"), primary_key=True, index=True
    )


class InitiativePartner(Base):
    """An organization taking part in an initiative it did not propose; once each."""

    __tablename__ = "initiative_partners"

    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime]


class InitiativeSupporter(Base):
    __tablename__ = "initiative_supporters"

    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    commitment: Mapped[str | None] = mapped_column(Text)


class InitiativeStageChange(Base):
    """One step of an initiative's history, its proposal (to IDEA) included: the timeline
    the statistics measure (days between stages). The stage it came from is the step
    before; a shelved initiative returns to the stage before its last SHELVED step."""

    __tablename__ = "initiative_stage_changes"
    __table_args__ = (Index("ix_initiative_stage_changes_history", "initiative_id", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    stage: Mapped[InitiativeStage] = mapped_column(enum_column(InitiativeStage))
    changed_at: Mapped[datetime]
    # The organization that made the change; None: the secretariat.
    changed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    note: Mapped[str | None] = mapped_column(Text)


class ActivityLogEntry(Base):
    """Append-only: one row per committed change, the single source of live events.

    A row names what it is about generically, as `(subject_type, subject_id)`: the name of
    a mapped class above and its id ('Event', 7). A new kind of subject needs no column
    here and no change to the feed (db/notifier.py), which loads subjects by that name.
    Other rows a change touched are kept in `payload`, as `<table>_id` keys."""

    __tablename__ = "activity_log"
    __table_args__ = (
        CheckConstraint(
            "(subject_type IS NULL) = (subject_id IS NULL)", name="subject_type_with_id"
        ),
        # One subject's history, newest last, without scanning the log.
        Index("ix_activity_log_subject", "subject_type", "subject_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    occurred_at: Mapped[datetime]
    subject_type: Mapped[str | None] = mapped_column(String(64))
    subject_id: Mapped[int | None] = mapped_column(BigId)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ApiToken(Base):
    """Opaque bearer tokens, stored only as a hash."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint(
            "(role = 'ORGANIZATION') = (organization_id IS NOT NULL)",
            name="organization_role_has_organization",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # One of TOKEN_ROLES: the database's CHECK (migration 0001) names those three, and
    # db/tokens.store_token refuses ANONYMOUS, the role of a request without a token.
    role: Mapped[Role] = mapped_column(enum_column(Role))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class DemoSecret(Base):
    """The random key the demo's tokens are derived from (db/demo.py): one row, written when
    `clubjustice demo` first seeds a database; its presence marks a demo database."""

    __tablename__ = "demo_secret"

    id: Mapped[int] = mapped_column(primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))  # 32 random bytes, hex
    created_at: Mapped[datetime]


class IdempotencyKey(Base):
    """A mutation operation sent with an `Idempotency-Key`, per caller (club/idempotency.py).

    Written in the transaction of the operation's first mutation that commits, with what
    each mutation field returned (`results`: response key → [model name, id]); `response`
    is the whole answer, stored once it is known. A retry is answered from `response`, or,
    when the first try committed but never finished answering, from `results`."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(64))
    results: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
