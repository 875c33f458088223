"""Demo data from the club's launch. Idempotent: seeding twice adds nothing the second time."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import SessionFactory
from db.enums import (
    ActionItemStatus,
    AttendanceRole,
    EventKind,
    EventStatus,
    FocusArea,
    InvitationStatus,
    OrganizationKind,
    OrganizationStatus,
)
from db.models import (
    ActionItem,
    Attendance,
    Country,
    Event,
    Invitation,
    Organization,
    WorkingGroup,
    WorkingGroupMember,
)

LAUNCH = datetime(2021, 10, 28, 12, 0, tzinfo=UTC)

M = TypeVar("M")

# slug, name, country, kind, member since (None: a guest), sponsor slug, description
ORGANIZATIONS: list[tuple[str, str, str, OrganizationKind, datetime | None, str | None, str]] = [
    (
        "irf",
        "International Renaissance Foundation",
        "UA",
        OrganizationKind.FOUNDATION,
        LAUNCH,
        None,
        "Supporting foundation of the club; backed the Kyiv Legal Empowerment Practical Program.",
    ),
    (
        "moldova-legal-empowerment",
        "Moldova Legal Empowerment Network",
        "MD",
        OrganizationKind.NGO,
        LAUNCH,
        None,
        "Community paralegals and legal-aid lawyers across Moldova.",
    ),
    (
        "albania-legal-aid",
        "Albanian Legal Aid Society",
        "AL",
        OrganizationKind.LEGAL_AID_PROVIDER,
        LAUNCH,
        None,
        "Free legal aid for people on low incomes in Albania.",
    ),
    (
        "macedonia-paralegals",
        "Macedonian Paralegal Association",
        "MK",
        OrganizationKind.NGO,
        LAUNCH,
        None,
        "Roma and rural community paralegals in North Macedonia.",
    ),
    (
        "kyiv-legal-empowerment",
        "Kyiv Legal Empowerment Hub",
        "UA",
        OrganizationKind.NGO,
        LAUNCH,
        None,
        "Runs the Kyiv Legal Empowerment Practical Program.",
    ),
    (
        "kenya-justice-access",
        "Kenya Justice Access Trust",
        "KE",
        OrganizationKind.NGO,
        LAUNCH,
        None,
        "Court users' help desks and paralegal networks in Kenya.",
    ),
    (
        "poland-pro-bono",
        "Polish Pro Bono Lawyers Forum",
        "PL",
        OrganizationKind.NGO,
        LAUNCH,
        None,
        "Matches pro bono lawyers with legal-aid organizations.",
    ),
    (
        "kyrgyz-paralegals",
        "Kyrgyz Community Paralegals",
        "KG",
        OrganizationKind.NGO,
        LAUNCH,
        None,
        "Village paralegals in the Kyrgyz Republic.",
    ),
    (
        "argentina-a2j-lab",
        "Argentine Access to Justice Lab",
        "AR",
        OrganizationKind.ACADEMIC,
        LAUNCH,
        None,
        "University lab studying legal needs and legal-aid technology.",
    ),
    (
        "mongolia-legal-aid",
        "Mongolian Legal Aid Institute",
        "MN",
        OrganizationKind.LEGAL_AID_PROVIDER,
        datetime(2022, 3, 14, 9, 30, tzinfo=UTC),
        "kyrgyz-paralegals",
        "State-funded legal aid centres in every aimag of Mongolia.",
    ),
    (
        "skopje-klepp-graduates",
        "Skopje Legal Empowerment Graduates",
        "MK",
        OrganizationKind.NGO,
        None,
        None,
        "Graduates of the Kyiv Legal Empowerment Practical Program in North Macedonia.",
    ),
    (
        "tbilisi-community-justice",
        "Tbilisi Community Justice Initiative",
        "GE",
        OrganizationKind.NGO,
        None,
        None,
        "Graduates of the Kyiv Legal Empowerment Practical Program in Georgia.",
    ),
    (
        "chisinau-law-clinic",
        "Chisinau Law School Legal Clinic",
        "MD",
        OrganizationKind.ACADEMIC,
        None,
        None,
        "Students giving supervised legal advice in Chisinau.",
    ),
]

# slug, name, focus area, lead slug, member slugs, action plan (title, status, owner, due)
WORKING_GROUPS: list[
    tuple[str, str, FocusArea, str, list[str], list[tuple[str, ActionItemStatus, str, date]]]
] = [
    (
        "tech-solutions",
        "Tech solutions",
        FocusArea.TECH_SOLUTIONS,
        "moldova-legal-empowerment",
        [
            "moldova-legal-empowerment",
            "argentina-a2j-lab",
            "kyiv-legal-empowerment",
            "kenya-justice-access",
        ],
        [
            (
                "Catalogue legal-aid chatbots in use by members",
                ActionItemStatus.DONE,
                "argentina-a2j-lab",
                date(2022, 3, 31),
            ),
            (
                "Shared intake form for online legal-aid requests",
                ActionItemStatus.IN_PROGRESS,
                "moldova-legal-empowerment",
                date(2027, 2, 28),
            ),
        ],
    ),
    (
        "paralegal-field-work",
        "Paralegals' field work",
        FocusArea.PARALEGAL_FIELD_WORK,
        "kyrgyz-paralegals",
        ["kyrgyz-paralegals", "macedonia-paralegals", "kenya-justice-access", "mongolia-legal-aid"],
        [
            (
                "Remote supervision guide for village paralegals",
                ActionItemStatus.IN_PROGRESS,
                "kyrgyz-paralegals",
                date(2027, 1, 31),
            ),
            (
                "Exchange visit between Kenyan and Kyrgyz paralegals",
                ActionItemStatus.PLANNED,
                "kenya-justice-access",
                date(2027, 6, 30),
            ),
        ],
    ),
    (
        "pro-bono-lawyers",
        "Engaging pro bono lawyers",
        FocusArea.PRO_BONO_LAWYERS,
        "poland-pro-bono",
        ["poland-pro-bono", "albania-legal-aid", "irf"],
        [
            (
                "Survey of bar associations' pro bono rules",
                ActionItemStatus.DONE,
                "poland-pro-bono",
                date(2022, 6, 30),
            ),
            (
                "Pro bono matching pilot in Albania",
                ActionItemStatus.PLANNED,
                "albania-legal-aid",
                date(2027, 4, 30),
            ),
        ],
    ),
]

# title, kind, status, start, hours, host, working group, meeting URL, attendances
EVENTS: list[
    tuple[
        str,
        EventKind,
        EventStatus,
        datetime,
        int,
        str,
        str | None,
        str,
        list[tuple[str, AttendanceRole]],
    ]
] = [
    (
        "Club Justice launch meeting",
        EventKind.ONLINE_MEETING,
        EventStatus.COMPLETED,
        LAUNCH,
        2,
        "irf",
        None,
        "https://meet.example.org/club-justice-launch",
        [
            ("irf", AttendanceRole.HOST),
            ("kyiv-legal-empowerment", AttendanceRole.SPEAKER),
            ("moldova-legal-empowerment", AttendanceRole.MEMBER),
            ("albania-legal-aid", AttendanceRole.MEMBER),
            ("macedonia-paralegals", AttendanceRole.MEMBER),
            ("kenya-justice-access", AttendanceRole.MEMBER),
            ("poland-pro-bono", AttendanceRole.MEMBER),
            ("kyrgyz-paralegals", AttendanceRole.MEMBER),
            ("argentina-a2j-lab", AttendanceRole.MEMBER),
            ("mongolia-legal-aid", AttendanceRole.GUEST),
            ("skopje-klepp-graduates", AttendanceRole.GUEST),
            ("tbilisi-community-justice", AttendanceRole.GUEST),
        ],
    ),
    (
        "Tech solutions: legal-aid chatbots",
        EventKind.ONLINE_MEETING,
        EventStatus.COMPLETED,
        datetime(2022, 2, 15, 14, 0, tzinfo=UTC),
        1,
        "moldova-legal-empowerment",
        "tech-solutions",
        "https://meet.example.org/tech-solutions-chatbots",
        [
            ("moldova-legal-empowerment", AttendanceRole.HOST),
            ("argentina-a2j-lab", AttendanceRole.SPEAKER),
            ("chisinau-law-clinic", AttendanceRole.GUEST),
        ],
    ),
    (
        "Paralegals' field work: remote supervision",
        EventKind.HYBRID,
        EventStatus.SCHEDULED,
        datetime(2027, 1, 20, 10, 0, tzinfo=UTC),
        3,
        "kyrgyz-paralegals",
        "paralegal-field-work",
        "https://meet.example.org/paralegals-remote-supervision",
        [("kyrgyz-paralegals", AttendanceRole.HOST)],
    ),
]


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str) -> None:
        self.created[kind] = self.created.get(kind, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.created.values())


async def _get_or_add(
    session: AsyncSession, report: SeedReport, model: type[M], lookup: dict[str, Any], **values: Any
) -> M:
    existing = (await session.scalars(select(model).filter_by(**lookup))).first()
    if existing is not None:
        return existing
    row = model(**lookup, **values)
    session.add(row)
    await session.flush()
    report.count(model.__tablename__)  # type: ignore[attr-defined]
    return row


async def seed(session_factory: SessionFactory, *, now: datetime | None = None) -> SeedReport:
    """Insert what is missing of the demo data, in one transaction."""
    now = now or datetime.now(UTC)
    report = SeedReport()
    async with session_factory() as session, session.begin():
        countries = {c.code: c.id for c in await session.scalars(select(Country))}
        orgs: dict[str, Organization] = {}
        for slug, name, code, kind, joined_at, sponsor, description in ORGANIZATIONS:
            orgs[slug] = await _get_or_add(
                session,
                report,
                Organization,
                {"slug": slug},
                name=name,
                kind=kind,
                country_id=countries[code],
                description=description,
                status=OrganizationStatus.MEMBER if joined_at else OrganizationStatus.GUEST,
                joined_at=joined_at,
                sponsor_id=orgs[sponsor].id if sponsor else None,
                website=f"https://{slug}.example.org",
                contact_email=f"contact@{slug}.example.org",
                created_at=joined_at or LAUNCH,
            )

        groups: dict[str, WorkingGroup] = {}
        for slug, name, focus, lead, members, plan in WORKING_GROUPS:
            group = groups[slug] = await _get_or_add(
                session,
                report,
                WorkingGroup,
                {"slug": slug},
                name=name,
                focus_area=focus,
                lead_id=orgs[lead].id,
                created_at=LAUNCH,
                description=f"The club's working group on {name[0].lower() + name[1:]}.",
            )
            for member in members:
                await _get_or_add(
                    session,
                    report,
                    WorkingGroupMember,
                    {"working_group_id": group.id, "organization_id": orgs[member].id},
                    joined_at=LAUNCH,
                )
            for title, item_status, owner, due in plan:
                await _get_or_add(
                    session,
                    report,
                    ActionItem,
                    {"working_group_id": group.id, "title": title},
                    status=item_status,
                    owner_id=orgs[owner].id,
                    due_date=due,
                    created_at=LAUNCH,
                )

        for (
            title,
            event_kind,
            event_status,
            starts_at,
            hours,
            host,
            group_slug,
            url,
            attendances,
        ) in EVENTS:
            event = await _get_or_add(
                session,
                report,
                Event,
                {"title": title, "starts_at": starts_at},
                kind=event_kind,
                status=event_status,
                ends_at=starts_at + timedelta(hours=hours),
                host_id=orgs[host].id,
                working_group_id=groups[group_slug].id if group_slug else None,
                meeting_url=url,
                created_at=min(starts_at, now) - timedelta(days=14),
                description=f"{title}.",
            )
            for slug, role in attendances:
                await _get_or_add(
                    session,
                    report,
                    Attendance,
                    {"event_id": event.id, "organization_id": orgs[slug].id},
                    role=role,
                    recorded_at=event.ends_at if starts_at < now else event.created_at,
                )

        # Invitations in each state the club sees: accepted (Mongolia's path to membership),
        # declined, expired, and one pending now.
        accepted_at = datetime(2022, 3, 14, 9, 30, tzinfo=UTC)
        invitations = [
            (
                "kyrgyz-paralegals",
                "mongolia-legal-aid",
                InvitationStatus.ACCEPTED,
                accepted_at - timedelta(days=10),
                accepted_at,
            ),
            (
                "macedonia-paralegals",
                "skopje-klepp-graduates",
                InvitationStatus.DECLINED,
                datetime(2022, 5, 2, 8, 0, tzinfo=UTC),
                datetime(2022, 5, 9, 8, 0, tzinfo=UTC),
            ),
            (
                "kyiv-legal-empowerment",
                "tbilisi-community-justice",
                InvitationStatus.EXPIRED,
                datetime(2022, 6, 1, 8, 0, tzinfo=UTC),
                None,
            ),
            (
                "moldova-legal-empowerment",
                "chisinau-law-clinic",
                InvitationStatus.PENDING,
                now,
                None,
            ),
        ]
        for inviter, invitee, invitation_status, created_at, responded_at in invitations:
            await _get_or_add(
                session,
                report,
                Invitation,
                {"inviter_id": orgs[inviter].id, "invitee_id": orgs[invitee].id},
                status=invitation_status,
                year=created_at.year,
                created_at=created_at,
                expires_at=created_at + timedelta(days=30),
                responded_at=responded_at,
                message="We would be glad to welcome you to Club Justice.",
            )
    return report
