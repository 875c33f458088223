"""The cost estimate on list sizes observed in the data (resolvers/list_sizes.py), and the
budget enforced on the objects an operation produces (schema/production.py), on the schema
with a real context."""

import asyncio
import logging
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from graphql import get_introspection_query
from sqlalchemy import func, select
from strawberry.federation import Schema

from club.access import Principal
from club.enums import ActionItemStatus, AttendanceRole, FocusArea, InvitationStatus, Role
from db.engine import SessionFactory
from db.models import ActionItem, Attendance, Country, Organization, WorkingGroup
from db.models import WorkingGroupMember as Member
from db.seed import seed
from resolvers.list_sizes import ListSizeObserver, Observation
from schema.cost import observations_of
from schema.ids import encode_id
from schema.strawberry_private import graphql_core_schema
from tests.factories import T0, add, country_ids, event, invitation, organization

PARTNER = Principal(Role.PARTNER)
# The two ordinary questions of issue 16 (point 7), refused on the declared sizes alone.
WORKING_GROUPS_AND_MEMBERS = "{ workingGroups { name members { name } } }"
COUNTRIES_AND_ORGANIZATIONS = "{ countries { name organizations { name } } }"
# Every country's organizations' attendances' events' guests: a bomb on any data.
A_MILLION_ROWS = "{ countries { organizations { attendances { event { guests { name } } } } } }"


def observer_for(schema: Schema, session_factory: SessionFactory) -> ListSizeObserver:
    return ListSizeObserver(session_factory, observations_of(graphql_core_schema(schema)))


@pytest.fixture
def run_observed(schema: Schema, make_context: Any) -> Any:
    """`await run_observed(QUERY, observer, principal)`: the response, the estimate reading
    `observer`'s snapshot."""

    async def execute(
        query: str,
        observer: ListSizeObserver | None,
        principal: Principal = PARTNER,
        **settings: Any,
    ) -> dict[str, Any]:
        context = make_context(principal)
        context.list_sizes = observer
        context.settings = context.settings.model_copy(update=settings)
        result = await schema.execute(query, context_value=context)
        response: dict[str, Any] = {"data": result.data}
        if result.errors:
            response["errors"] = [error.formatted for error in result.errors]
        return response

    return execute


def working_group(slug: str, **values: Any) -> WorkingGroup:
    return WorkingGroup(
        slug=slug, name=slug.title(), focus_area=FocusArea.OTHER, created_at=T0, **values
    )


async def small_club(session_factory: SessionFactory) -> dict[str, int]:
    """A graph whose largest fan-outs are easy to count: see EXPECTED."""
    countries = await country_ids(session_factory, "KE", "MD")
    a = organization(countries["KE"], member=True)
    await add(session_factory, a)
    b, c = (organization(countries["KE"], sponsor_id=a.id) for _ in range(2))
    d = organization(countries["MD"], member=True)
    await add(session_factory, b, c, d)
    w1, w2 = working_group("w-one"), working_group("w-two")
    await add(session_factory, w1, w2)
    e1, e2 = event(a.id), event(a.id)
    e3 = event(d.id, working_group_id=w1.id)
    await add(session_factory, e1, e2, e3)
    await add(
        session_factory,
        Attendance(event_id=e1.id, organization_id=b.id, role=AttendanceRole.GUEST, recorded_at=T0),
        Attendance(event_id=e1.id, organization_id=c.id, role=AttendanceRole.GUEST, recorded_at=T0),
        Attendance(
            event_id=e1.id, organization_id=d.id, role=AttendanceRole.MEMBER, recorded_at=T0
        ),
        Attendance(event_id=e2.id, organization_id=b.id, role=AttendanceRole.GUEST, recorded_at=T0),
        *(Member(working_group_id=w1.id, organization_id=o.id, joined_at=T0) for o in (a, b, c)),
        Member(working_group_id=w2.id, organization_id=a.id, joined_at=T0),
        *(
            ActionItem(
                working_group_id=group.id,
                title=f"Step {n}",
                status=ActionItemStatus.PLANNED,
                due_date=date(2027, 1, n),
                created_at=T0,
            )
            for group, n in ((w1, 1), (w1, 2), (w2, 3))
        ),
        invitation(a.id, d.id, status=InvitationStatus.DECLINED),
        invitation(a.id, d.id),
    )
    return {"w1": w1.id}


EXPECTED = {
    "countries": 249,  # the reference table
    "working_groups": 2,
    "organizations_of_country": 3,  # KE: a, b, c
    "organizations_sponsored_by": 2,  # a sponsored b and c
    "events_hosted_by": 2,  # a hosts e1 and e2
    "attendances_of_event": 3,  # e1: b, c, d
    "guests_of_event": 2,  # e1: b and c as guests
    "attendances_of_organization": 2,  # b at e1 and e2
    "members_of_working_group": 3,  # w1: a, b, c
    "working_groups_of_organization": 2,  # a in w1 and w2
    "meetings_of_working_group": 1,  # e3 in w1
    "action_items_of_working_group": 2,  # w1
    "invitations_sent": 2,  # a to d, twice
    "invitations_received": 2,  # d, twice
    # clubStatistics' groups (the factories' one kind, one year and one event kind)
    "statistics.countries": 2,  # KE and MD
    "statistics.kinds": 1,
    "statistics.years_joined": 1,  # a and d joined in T0's year
    "statistics.invitation_years": 1,
    "statistics.event_years": 1,
    "statistics.attendance_years": 2,  # guests and a member, in one year
}
# The incubator's lists: none in this club (tests/graphql/test_incubator.py observes them on
# the seeded one).
INCUBATOR = {
    "cohorts_of_program",
    "countries_of_initiative",
    "graduates_of_program",
    "initiatives_of_country",
    "initiatives_of_program",
    "initiatives_of_working_group",
    "initiatives_partnered_by",
    "initiatives_proposed_by",
    "partners_of_initiative",
    "programs_organized_by",
    "stage_history_of_initiative",
    "supporters_of_initiative",
    "supporters_of_program",
}
EXPECTED |= dict.fromkeys(INCUBATOR, 0)
# clubStatistics' initiative figures: none here either (tests/graphql/test_statistics.py
# observes them on its club).
EXPECTED |= {"statistics.initiative_stages": 0, "statistics.stage_moves": 0}


async def test_a_refresh_observes_the_largest_size_of_each_list_in_one_statement(
    schema: Schema, session_factory: SessionFactory, count_statements: Any
) -> None:
    await small_club(session_factory)
    observer = observer_for(schema, session_factory)
    with count_statements() as log:
        snapshot = await observer.refresh()
    assert snapshot is not None and observer.current is snapshot
    assert dict(snapshot.sizes) == EXPECTED
    assert log.count == 1
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Country)) == 249


async def test_every_observation_is_named_once(schema: Schema) -> None:
    observations = observations_of(graphql_core_schema(schema))
    assert sorted(observation.name for observation in observations) == sorted(EXPECTED)
    assert all(isinstance(observation, Observation) for observation in observations)


async def test_the_ordinary_questions_pass_on_observed_sizes(
    schema: Schema, session_factory: SessionFactory, run_observed: Any
) -> None:
    await seed(session_factory)
    async with session_factory() as session:
        member_id = await session.scalar(
            select(Organization.id).where(Organization.slug == "moldova-legal-empowerment")
        )
    member = Principal(Role.ORGANIZATION, organization_id=member_id, organization_is_member=True)
    observer = observer_for(schema, session_factory)
    await observer.refresh()

    groups = await run_observed(WORKING_GROUPS_AND_MEMBERS, observer)
    assert groups == {
        "data": {
            "workingGroups": [
                {
                    "name": "Engaging pro bono lawyers",
                    "members": [
                        {"name": "Albanian Legal Aid Society"},
                        {"name": "International Renaissance Foundation"},
                        {"name": "Polish Pro Bono Lawyers Forum"},
                    ],
                },
                {
                    "name": "Paralegals' field work",
                    "members": [
                        {"name": "Kenya Justice Access Trust"},
                        {"name": "Kyrgyz Community Paralegals"},
                        {"name": "Macedonian Paralegal Association"},
                        {"name": "Mongolian Legal Aid Institute"},
                    ],
                },
                {
                    "name": "Tech solutions",
                    "members": [
                        {"name": "Argentine Access to Justice Lab"},
                        {"name": "Kenya Justice Access Trust"},
                        {"name": "Kyiv Legal Empowerment Hub"},
                        {"name": "Moldova Legal Empowerment Network"},
                    ],
                },
            ]
        }
    }
    countries = await run_observed(COUNTRIES_AND_ORGANIZATIONS, observer, member)
    assert "errors" not in countries
    assert len(countries["data"]["countries"]) == 249
    with_organizations = {
        country["name"]: [organization["name"] for organization in country["organizations"]]
        for country in countries["data"]["countries"]
        if country["organizations"]
    }
    async with session_factory() as session:
        rows = await session.execute(
            select(Country.name, Organization.name)
            .join(Organization, Organization.country_id == Country.id)
            .order_by(Country.name, Organization.name)
        )
        expected: dict[str, list[str]] = {}
        for country_name, organization_name in rows:
            expected.setdefault(country_name, []).append(organization_name)
    assert with_organizations == expected


async def test_before_the_first_refresh_the_declared_sizes_refuse_them(
    schema: Schema, session_factory: SessionFactory, run_observed: Any
) -> None:
    await seed(session_factory)
    observer = observer_for(schema, session_factory)  # never refreshed
    assert observer.current is None and observer.age() == -1
    member = Principal(Role.ORGANIZATION, organization_id=1, organization_is_member=True)
    for query, principal, measured, budget, role in (
        (WORKING_GROUPS_AND_MEMBERS, PARTNER, 50 * (1 + 100), 5000, "PARTNER"),
        (COUNTRIES_AND_ORGANIZATIONS, member, 250 * (1 + 100), 20_000, "ORGANIZATION"),
    ):
        assert await run_observed(query, observer, principal) == {
            "data": None,
            "errors": [
                {
                    "message": f"The operation could return about {measured} objects; the "
                    f"budget of {role} tokens is {budget}. Ask for smaller pages (`first`) or "
                    "fewer nested lists.",
                    "extensions": {
                        "code": "COST_LIMIT_EXCEEDED",
                        "limit": budget,
                        "measured": measured,
                    },
                }
            ],
        }


async def test_a_failed_refresh_falls_back_to_the_declared_sizes_and_says_so(
    schema: Schema,
    session_factory: SessionFactory,
    run_observed: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await seed(session_factory)
    observer = observer_for(schema, session_factory)
    await observer.refresh()
    assert "errors" not in await run_observed(WORKING_GROUPS_AND_MEMBERS, observer)

    def broken() -> Any:
        raise ConnectionRefusedError("the database is down")

    observer.sessions = broken
    with caplog.at_level(logging.WARNING, logger="clubjustice.list_sizes"):
        assert await observer.refresh() is None
    assert observer.current is None
    assert [record.getMessage() for record in caplog.records] == [
        "observing list sizes failed (ConnectionRefusedError: the database is down); the cost "
        "estimate uses the declared sizes until a refresh succeeds"
    ]
    refused = await run_observed(WORKING_GROUPS_AND_MEMBERS, observer)
    assert refused["errors"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


async def test_a_failed_refresh_keeps_a_young_snapshot_for_three_intervals(
    schema: Schema,
    session_factory: SessionFactory,
    run_observed: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await seed(session_factory)
    clock = Clock()
    observer = ListSizeObserver(
        session_factory, observations_of(graphql_core_schema(schema)), every=300, clock=clock
    )
    snapshot = await observer.refresh()
    assert snapshot is not None and observer.kept_for() == 900

    def broken() -> Any:
        raise ConnectionRefusedError("the database is down")

    observer.sessions = broken
    caplog.set_level(logging.WARNING, logger="clubjustice.list_sizes")
    clock.now = T0 + timedelta(seconds=900)  # failures up to three intervals: kept
    assert await observer.refresh() is None
    assert observer.current is snapshot and observer.age() == 900
    assert "errors" not in await run_observed(WORKING_GROUPS_AND_MEMBERS, observer)
    clock.now = T0 + timedelta(seconds=901)  # older: the declared sizes again
    assert await observer.refresh() is None
    assert observer.current is None
    refused = await run_observed(WORKING_GROUPS_AND_MEMBERS, observer)
    assert refused["errors"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
    failed = "observing list sizes failed (ConnectionRefusedError: the database is down); "
    assert [record.getMessage() for record in caplog.records] == [
        failed + "the cost estimate keeps the sizes observed 900 s ago",
        failed + "the cost estimate uses the declared sizes until a refresh succeeds",
    ]


async def test_after_a_failed_refresh_the_next_is_tried_ten_seconds_later(
    schema: Schema, session_factory: SessionFactory
) -> None:
    waits: list[float] = []
    outcomes = iter([None, None, "snapshot", None])

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) > 4:
            raise asyncio.CancelledError

    observer = ListSizeObserver(
        session_factory, observations_of(graphql_core_schema(schema)), every=300, sleep=sleep
    )

    async def refresh() -> Any:
        return next(outcomes)

    observer.refresh = refresh  # type: ignore[method-assign]
    with pytest.raises(asyncio.CancelledError):
        await observer.run()
    assert waits == [300, 10, 10, 300, 10]


async def test_a_bomb_is_refused_on_observed_sizes_too(
    schema: Schema, session_factory: SessionFactory, run_observed: Any
) -> None:
    await seed(session_factory)
    observer = observer_for(schema, session_factory)
    await observer.refresh()
    admin = Principal(Role.ADMIN)
    response = await run_observed(A_MILLION_ROWS, observer, admin)
    assert response["data"] is None
    [error] = response["errors"]
    assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
    assert error["extensions"]["measured"] > 50_000
    # The declared sizes cap what was observed: never above what they would estimate.
    declared = await run_observed(A_MILLION_ROWS, None, admin)
    assert declared["errors"][0]["extensions"]["measured"] >= error["extensions"]["measured"]


# What a PARTNER may get in the tests below: enough for the small club as observed.
SMALL_BUDGET = {"cost_budget_partner": 100}
STOPPED = (
    "The answer grew past 100 objects, the budget of PARTNER tokens, and the operation was "
    "stopped there (data is null or partial). Ask for smaller pages (`first`) or fewer nested "
    "lists."
)


async def grow(session_factory: SessionFactory, working_group_id: int, members: int) -> None:
    """New members of a working group, after the last refresh."""
    ke = (await country_ids(session_factory, "KE"))["KE"]
    joining = [organization(ke) for _ in range(members)]
    await add(session_factory, *joining)
    await add(
        session_factory,
        *(Member(working_group_id=working_group_id, organization_id=o.id, joined_at=T0)
          for o in joining),
    )  # fmt: skip


async def test_data_grown_since_the_refresh_is_stopped_while_it_is_produced(
    schema: Schema,
    session_factory: SessionFactory,
    run_observed: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ids = await small_club(session_factory)
    observer = observer_for(schema, session_factory)
    await observer.refresh()
    # 2 groups observed (+ margin: 8) x (1 + 3 members observed (+ margin: 9)) = 80
    before = await run_observed(WORKING_GROUPS_AND_MEMBERS, observer, **SMALL_BUDGET)
    assert "errors" not in before
    await grow(session_factory, ids["w1"], 120)
    caplog.set_level(logging.INFO)
    response = await run_observed(WORKING_GROUPS_AND_MEMBERS, observer, **SMALL_BUDGET)
    assert response["data"] is None  # every list on the way is non-null
    [error] = response["errors"]
    assert error["message"] == STOPPED
    assert error["extensions"] == {"code": "RESULT_TOO_LARGE", "limit": 100}
    assert error["path"][:3] == ["workingGroups", 0, "members"]
    assert [
        r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR
    ] == []


async def test_a_stop_nulls_the_nearest_nullable_field_and_keeps_the_rest(
    schema: Schema, session_factory: SessionFactory, run_observed: Any
) -> None:
    ids = await small_club(session_factory)
    observer = observer_for(schema, session_factory)
    await observer.refresh()
    await grow(session_factory, ids["w1"], 120)
    query = '{ __typename workingGroup(slug: "w-one") { name members { name } } }'
    response = await run_observed(query, observer, **SMALL_BUDGET)
    assert response == {
        "data": {"__typename": "Query", "workingGroup": None},
        "errors": [
            {
                "message": STOPPED,
                "locations": response["errors"][0]["locations"],
                "path": ["workingGroup", "members", 99],  # the 101st object
                "extensions": {"code": "RESULT_TOO_LARGE", "limit": 100},
            }
        ],
    }


async def test_an_estimate_kept_low_is_caught_by_the_count(
    schema: Schema, session_factory: SessionFactory, run_observed: Any
) -> None:
    """A snapshot that says every list is empty (stale, or forced): the estimate lets a
    bomb through; what it produces is stopped at the budget by the executor, or refused by
    the compiled read path as soon as the rows it read pass the budget (the 249 countries,
    before their organizations are read)."""
    await small_club(session_factory)
    observer = observer_for(schema, session_factory)
    snapshot = await observer.refresh()
    assert snapshot is not None
    observer.current = type(snapshot)(dict.fromkeys(snapshot.sizes, 0), snapshot.observed_at)
    query = "{ countries { organizations { name } } }"  # 249 countries, estimated at 5
    response = await run_observed(query, observer, compiled_reads=False, **SMALL_BUDGET)
    assert response["data"] is None
    assert [error["extensions"]["code"] for error in response["errors"]] == ["RESULT_TOO_LARGE"]
    refused = await run_observed(query, observer, **SMALL_BUDGET)
    assert refused["data"] is None
    assert [error["extensions"] for error in refused["errors"]] == [
        {"code": "COST_LIMIT_EXCEEDED", "limit": 100, "measured": 249}
    ]


async def test_every_field_the_stop_nulls_has_an_error_at_its_path(
    schema: Schema, session_factory: SessionFactory, run_observed: Any
) -> None:
    """The spec: a field nulled by an error has an error at (or below) its path. Both
    aliases are nulled by the stop: each says so (b is not "no such working group")."""
    ids = await small_club(session_factory)
    observer = observer_for(schema, session_factory)
    await observer.refresh()
    await grow(session_factory, ids["w1"], 120)
    query = """{ a: workingGroup(slug: "w-one") { members { name } }
                 b: workingGroup(slug: "w-one") { members { name } } }"""
    response = await run_observed(query, observer, **SMALL_BUDGET)
    assert response["data"] == {"a": None, "b": None}
    # a's members fill the budget (2 groups... 1 group + 99 members = 100) and its 100th
    # member is the 101st object; b's group is over it, so its first member already is.
    assert [(error["path"], error["message"]) for error in response["errors"]] == [
        (["a", "members", 98], STOPPED),
        (["b", "members", 0], STOPPED),
    ]


async def test_no_mutation_runs_after_the_stop_and_the_answer_names_those_that_ran(
    schema: Schema, session_factory: SessionFactory, make_context: Any
) -> None:
    md = (await country_ids(session_factory, "MD"))["MD"]
    me = organization(md, member=True)
    await add(session_factory, me)
    w1, w2 = working_group("w-one"), working_group("w-two")
    await add(session_factory, w1, w2)
    observer = observer_for(schema, session_factory)
    await observer.refresh()  # w1 empty: estimated at 5 members
    await grow(session_factory, w1.id, 120)  # grown since the refresh
    principal = Principal(Role.ORGANIZATION, organization_id=me.id, organization_is_member=True)
    context = make_context(principal)
    context.list_sizes = observer
    context.settings = context.settings.model_copy(update={"cost_budget_organization": 100})
    query = """mutation($a: ID!, $b: ID!) {
      a: joinWorkingGroup(id: $a) { workingGroup { members { name } } errors { code } }
      b: joinWorkingGroup(id: $b) { errors { code } }
    }"""
    result = await schema.execute(
        query,
        variable_values={
            "a": encode_id("WorkingGroup", w1.id),
            "b": encode_id("WorkingGroup", w2.id),
        },
        context_value=context,
    )
    assert result.data is None  # both payloads are non-null
    stopped, not_run = [error.formatted for error in result.errors or []]
    assert stopped["path"][:3] == ["a", "workingGroup", "members"]
    assert stopped["message"] == (
        "The answer grew past 100 objects, the budget of ORGANIZATION tokens, and the "
        "operation was stopped there (data is null or partial); the mutations after it did "
        "not run. The mutations that ran, their changes made: `a`. Ask for smaller pages "
        "(`first`) or fewer nested lists."
    )
    assert not_run == {
        "message": "Not run: the answer grew past 100 objects, the budget of ORGANIZATION "
        "tokens, and the operation was stopped there, before this mutation started; it "
        "changed nothing. The mutations that ran, their changes made: `a`.",
        "locations": not_run["locations"],
        "path": ["b"],
        "extensions": {"code": "RESULT_TOO_LARGE", "limit": 100, "ran": ["a"]},
    }
    assert stopped["extensions"] == not_run["extensions"]
    async with session_factory() as session:
        joined = await session.scalars(
            select(Member.working_group_id).where(Member.organization_id == me.id)
        )
        assert list(joined) == [w1.id]  # a committed; b changed nothing


INTROSPECTION = get_introspection_query(descriptions=True, input_value_deprecation=True)


async def test_introspection_is_not_counted(
    schema: Schema, session_factory: SessionFactory, run_observed: Any
) -> None:
    """Introspection is not costed by the estimate (schema/cost.py), nor counted while it
    runs: the whole schema's introspection (69 types, over 1,000 objects) fits a budget of 10."""
    observer = observer_for(schema, session_factory)
    await observer.refresh()
    full = await run_observed(INTROSPECTION, observer, cost_budget_partner=10)
    assert "errors" not in full
    assert len(full["data"]["__schema"]["types"]) > 50
    service = await run_observed("{ _service { sdl } }", observer, cost_budget_partner=1)
    assert "errors" not in service and service["data"]["_service"]["sdl"]
    # The objects beside it still count (a snapshot that says the lists are empty lets the
    # estimate pass: 1 group and 5 members).
    group = working_group("w-one")
    await add(session_factory, group)
    await grow(session_factory, group.id, 20)
    snapshot = observer.current
    assert snapshot is not None
    observer.current = type(snapshot)(dict.fromkeys(snapshot.sizes, 0), snapshot.observed_at)
    mixed = await run_observed(
        '{ __schema { types { name } } workingGroup(slug: "w-one") { members { name } } }',
        observer,
        cost_budget_partner=10,
    )
    assert len(mixed["data"]["__schema"]["types"]) > 50 and mixed["data"]["workingGroup"] is None
    assert [(error["path"], error["extensions"]["code"]) for error in mixed["errors"]] == [
        (["workingGroup", "members", 9], "RESULT_TOO_LARGE")
    ]
