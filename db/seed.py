"""Demo data from the club's launch. Idempotent: seeding twice adds nothing the second time."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from club.enums import (
    ActionItemStatus,
    AttendanceRole,
    EventKind,
    EventStatus,
    FocusArea,
    InvitationStatus,
    OrganizationKind,
    OrganizationStatus,
)
from db.engine import SessionFactory
from db.incubator_seed import seed_incubator
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
from db.seeding import SeedReport, get_or_add

LAUNCH = datetime(2021, 10, 28, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class DemoOrganization:
    slug: str
    name: str
    country: str
    kind: OrganizationKind
    member_since: datetime | None  # None: a guest
    sponsor: str | None
    description: str


@dataclass(frozen=True)
class DemoActionItem:
    title: str
    status: ActionItemStatus
    owner: str
    due: date


@dataclass(frozen=True)
class DemoWorkingGroup:
    slug: str
    name: str
    focus_area: FocusArea
    lead: str
    members: list[str]
    action_plan: list[DemoActionItem]


@dataclass(frozen=True)
class DemoEvent:
    title: str
    kind: EventKind
    status: EventStatus
    starts_at: datetime
    hours: int
    host: str
    working_group: str | None
    meeting_url: str
    attendances: list[tuple[str, AttendanceRole]]


ORGANIZATIONS: list[DemoOrganization] = [
    DemoOrganization(
        slug="irf",
        name="International Renaissance Foundation",
        country="UA",
        kind=OrganizationKind.FOUNDATION,
        member_since=LAUNCH,
        sponsor=None,
        description=(
            "Supporting foundation of the club; "
            "backed the Kyiv Legal Empowerment Practical Program."
        ),
    ),
    DemoOrganization(
        slug="moldova-legal-empowerment",
        name="Moldova Legal Empowerment Network",
        country="MD",
        kind=OrganizationKind.NGO,
        member_since=LAUNCH,
        sponsor=None,
        description="Community paralegals and legal-aid lawyers across Moldova.",
    ),
    DemoOrganization(
        slug="albania-legal-aid",
        name="Albanian Legal Aid Society",
        country="AL",
        kind=OrganizationKind.LEGAL_AID_PROVIDER,
        member_since=LAUNCH,
        sponsor=None,
        description="Free legal aid for people on low incomes in Albania.",
    ),
    DemoOrganization(
        slug="macedonia-paralegals",
        name="Macedonian Paralegal Association",
        country="MK",
        kind=OrganizationKind.NGO,
        member_since=LAUNCH,
        sponsor=None,
        description="Roma and rural community paralegals in North Macedonia.",
    ),
    DemoOrganization(
        slug="kyiv-legal-empowerment",
        name="Kyiv Legal Empowerment Hub",
        country="UA",
        kind=OrganizationKind.NGO,
        member_since=LAUNCH,
        sponsor=None,
        description="Runs the Kyiv Legal Empowerment Practical Program.",
    ),
    DemoOrganization(
        slug="kenya-justice-access",
        name="Kenya Justice Access Trust",
        country="KE",
        kind=OrganizationKind.NGO,
        member_since=LAUNCH,
        sponsor=None,
        description="Court users' help desks and paralegal networks in Kenya.",
    ),
    DemoOrganization(
        slug="poland-pro-bono",
        name="Polish Pro Bono Lawyers Forum",
        country="PL",
        kind=OrganizationKind.NGO,
        member_since=LAUNCH,
        sponsor=None,
        description="Matches pro bono lawyers with legal-aid organizations.",
    ),
    DemoOrganization(
        slug="kyrgyz-paralegals",
        name="Kyrgyz Community Paralegals",
        country="KG",
        kind=OrganizationKind.NGO,
        member_since=LAUNCH,
        sponsor=None,
        description="Village paralegals in the Kyrgyz Republic.",
    ),
    DemoOrganization(
        slug="argentina-a2j-lab",
        name="Argentine Access to Justice Lab",
        country="AR",
        kind=OrganizationKind.ACADEMIC,
        member_since=LAUNCH,
        sponsor=None,
        description="University lab studying legal needs and legal-aid technology.",
    ),
    DemoOrganization(
        slug="mongolia-legal-aid",
        name="Mongolian Legal Aid Institute",
        country="MN",
        kind=OrganizationKind.LEGAL_AID_PROVIDER,
        member_since=datetime(2022, 3, 14, 9, 30, tzinfo=UTC),
        sponsor="kyrgyz-paralegals",
        description="State-funded legal aid centres in every aimag of Mongolia.",
    ),
    DemoOrganization(
        slug="skopje-klepp-graduates",
        name="Skopje Legal Empowerment Graduates",
        country="MK",
        kind=OrganizationKind.NGO,
        member_since=None,
        sponsor=None,
        description="Graduates of the Kyiv Legal Empowerment Practical Program in North Macedonia.",
    ),
    DemoOrganization(
        slug="tbilisi-community-justice",
        name="Tbilisi Community Justice Initiative",
        country="GE",
        kind=OrganizationKind.NGO,
        member_since=None,
        sponsor=None,
        description="Graduates of the Kyiv Legal Empowerment Practical Program in Georgia.",
    ),
    DemoOrganization(
        slug="chisinau-law-clinic",
        name="Chisinau Law School Legal Clinic",
        country="MD",
        kind=OrganizationKind.ACADEMIC,
        member_since=None,
        sponsor=None,
        description="Students giving supervised legal advice in Chisinau.",
    ),
]

WORKING_GROUPS: list[DemoWorkingGroup] = [
    DemoWorkingGroup(
        slug="tech-solutions",
        name="Tech solutions",
        focus_area=FocusArea.TECH_SOLUTIONS,
        lead="moldova-legal-empowerment",
        members=[
            "moldova-legal-empowerment",
            "argentina-a2j-lab",
            "kyiv-legal-empowerment",
            "kenya-justice-access",
        ],
        action_plan=[
            DemoActionItem(
                title="Catalogue legal-aid chatbots in use by members",
                status=ActionItemStatus.DONE,
                owner="argentina-a2j-lab",
                due=date(2022, 3, 31),
            ),
            DemoActionItem(
                title="Shared intake form for online legal-aid requests",
                status=ActionItemStatus.IN_PROGRESS,
                owner="moldova-legal-empowerment",
                due=date(2027, 2, 28),
            ),
        ],
    ),
    DemoWorkingGroup(
        slug="paralegal-field-work",
        name="Paralegals' field work",
        focus_area=FocusArea.PARALEGAL_FIELD_WORK,
        lead="kyrgyz-paralegals",
        members=[
            "kyrgyz-paralegals",
            "macedonia-paralegals",
            "kenya-justice-access",
            "mongolia-legal-aid",
        ],
        action_plan=[
            DemoActionItem(
                title="Remote supervision guide for village paralegals",
                status=ActionItemStatus.IN_PROGRESS,
                owner="kyrgyz-paralegals",
                due=date(2027, 1, 31),
            ),
            DemoActionItem(
                title="Exchange visit between Kenyan and Kyrgyz paralegals",
                status=ActionItemStatus.PLANNED,
                owner="kenya-justice-access",
                due=date(2027, 6, 30),
            ),
        ],
    ),
    DemoWorkingGroup(
        slug="pro-bono-lawyers",
        name="Engaging pro bono lawyers",
        focus_area=FocusArea.PRO_BONO_LAWYERS,
        lead="poland-pro-bono",
        members=["poland-pro-bono", "albania-legal-aid", "irf"],
        action_plan=[
            DemoActionItem(
                title="Survey of bar associations' pro bono rules",
                status=ActionItemStatus.DONE,
                owner="poland-pro-bono",
                due=date(2022, 6, 30),
            ),
            DemoActionItem(
                title="Pro bono matching pilot in Albania",
                status=ActionItemStatus.PLANNED,
                owner="albania-legal-aid",
                due=date(2027, 4, 30),
            ),
        ],
    ),
]

EVENTS: list[DemoEvent] = [
    DemoEvent(
        title="Club Justice launch meeting",
        kind=EventKind.ONLINE_MEETING,
        status=EventStatus.COMPLETED,
        starts_at=LAUNCH,
        hours=2,
        host="irf",
        working_group=None,
        meeting_url="https://meet.example.org/club-justice-launch",
        attendances=[
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
    DemoEvent(
        title="Tech solutions: legal-aid chatbots",
        kind=EventKind.ONLINE_MEETING,
        status=EventStatus.COMPLETED,
        starts_at=datetime(2022, 2, 15, 14, 0, tzinfo=UTC),
        hours=1,
        host="moldova-legal-empowerment",
        working_group="tech-solutions",
        meeting_url="https://meet.example.org/tech-solutions-chatbots",
        attendances=[
            ("moldova-legal-empowerment", AttendanceRole.HOST),
            ("argentina-a2j-lab", AttendanceRole.SPEAKER),
            ("chisinau-law-clinic", AttendanceRole.GUEST),
        ],
    ),
    DemoEvent(
        title="Paralegals' field work: remote supervision",
        kind=EventKind.HYBRID,
        status=EventStatus.SCHEDULED,
        starts_at=datetime(2027, 1, 20, 10, 0, tzinfo=UTC),
        hours=3,
        host="kyrgyz-paralegals",
        working_group="paralegal-field-work",
        meeting_url="https://meet.example.org/paralegals-remote-supervision",
        attendances=[("kyrgyz-paralegals", AttendanceRole.HOST)],
    ),
]


async def seed(session_factory: SessionFactory, *, now: datetime | None = None) -> SeedReport:
    """Insert what is missing of the demo data, in one transaction."""
    now = now or datetime.now(UTC)
    report = SeedReport()
    async with session_factory() as session, session.begin():
        countries = {c.code: c.id for c in await session.scalars(select(Country))}
        orgs: dict[str, Organization] = {}
        for demo in ORGANIZATIONS:
            orgs[demo.slug] = await get_or_add(
                session,
                report,
                Organization,
                {"slug": demo.slug},
                name=demo.name,
                kind=demo.kind,
                country_id=countries[demo.country],
                description=demo.description,
                status=OrganizationStatus.MEMBER if demo.member_since else OrganizationStatus.GUEST,
                joined_at=demo.member_since,
                sponsor_id=orgs[demo.sponsor].id if demo.sponsor else None,
                website=f"https://{demo.slug}.example.org/",  # normalized, as the API stores it
                contact_email=f"contact@{demo.slug}.example.org",
                created_at=demo.member_since or LAUNCH,
            )

        groups: dict[str, WorkingGroup] = {}
        for demo_group in WORKING_GROUPS:
            name = demo_group.name
            group = groups[demo_group.slug] = await get_or_add(
                session,
                report,
                WorkingGroup,
                {"slug": demo_group.slug},
                name=name,
                focus_area=demo_group.focus_area,
                lead_id=orgs[demo_group.lead].id,
                created_at=LAUNCH,
                description=f"The club's working group on {name[0].lower() + name[1:]}.",
            )
            for member in demo_group.members:
                await get_or_add(
                    session,
                    report,
                    WorkingGroupMember,
                    {"working_group_id": group.id, "organization_id": orgs[member].id},
                    joined_at=LAUNCH,
                )
            for item in demo_group.action_plan:
                await get_or_add(
                    session,
                    report,
                    ActionItem,
                    {"working_group_id": group.id, "title": item.title},
                    status=item.status,
                    owner_id=orgs[item.owner].id,
                    due_date=item.due,
                    created_at=LAUNCH,
                )

        for demo_event in EVENTS:
            starts_at = demo_event.starts_at
            event = await get_or_add(
                session,
                report,
                Event,
                {"title": demo_event.title, "starts_at": starts_at},
                kind=demo_event.kind,
                status=demo_event.status,
                ends_at=starts_at + timedelta(hours=demo_event.hours),
                host_id=orgs[demo_event.host].id,
                working_group_id=(
                    groups[demo_event.working_group].id if demo_event.working_group else None
                ),
                meeting_url=demo_event.meeting_url,
                created_at=min(starts_at, now) - timedelta(days=14),
                description=f"{demo_event.title}.",
            )
            for slug, role in demo_event.attendances:
                await get_or_add(
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
            await get_or_add(
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

        await seed_incubator(session, report, orgs=orgs, groups=groups, countries=countries)
    return report
