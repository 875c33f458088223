"""The compiled read path (schema/compiled/) answers exactly as the reference executor:
the same JSON text, data and errors, for every role, on both databases; it answers the queries it
covers itself (counted by the `clubjustice_query_executions` metric), in one statement per
relation level; and it leaves everything else to the reference executor."""

import logging
import os
from datetime import timedelta
from typing import Any

import orjson
import pytest
from graphql import (
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    get_named_type,
    is_non_null_type,
    parse,
    validate,
)
from graphql.execution.values import VariableValues
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis_graphql import from_schema
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.federation import Schema

from bench.scenarios import OURS
from club.access import ANONYMOUS, Principal, callers
from club.enums import AttendanceRole, Role
from club.metrics import Metrics
from club.settings import Settings
from db.engine import RequestReads, reads_without_transaction
from db.models import Attendance
from resolvers.list_sizes import ListSizeObserver
from resolvers.loaders import Loaders
from schema.compiled.executor import PLANS_KEPT, CompiledReads, PlanCache
from schema.compiled.nodes import Directory
from schema.compiled.planner import MAX_JOINS, Planner
from schema.compiled.run import Run
from schema.compiled.sources import SOURCES
from schema.cost import observations_of
from schema.ids import encode_id
from schema.strawberry_private import graphql_core_schema
from tests.factories import T0, add, build_club, country_ids, event, organization

ORGANIZATION = """
  __typename id name slug kind status website description contactEmail joinedAt
"""

EDGE_CASES = {
    "directory": f"{{ organizations(first: 5) {{ edges {{ cursor node {{ {ORGANIZATION} "
    "country { id code name region memberCount } } } "
    "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount } }",
    "directory, filtered, aliases and typenames": """
      { members: organizations(first: 3, filter: {status: MEMBER, countryCode: "MD"}) {
          __typename total: totalCount
          info: pageInfo { __typename more: hasNextPage end: endCursor }
          edges { __typename node { n: name c: country { c: code } } } }
        guests: organizations(filter: {status: GUEST, search: "0"}) {
          edges { node { name status } } } }
    """,
    "an empty page": "{ organizations(first: 0) { edges { cursor } pageInfo { hasNextPage "
    "startCursor endCursor } totalCount } }",
    "no match": '{ organizations(filter: {search: "no such name"}) { totalCount edges '
    "{ node { id } } pageInfo { startCursor endCursor hasNextPage } } }",
    "cursors only": "{ organizations(first: 2) { edges { cursor } } }",
    "the S3 walk": """
      query Walk($representations: [_Any!]!) { _entities(representations: $representations)
        { ... on Country { name organizations(first: 20) { name attendances
          { role event { title host { name } } } } } } }
    """,
    "S4 entities": """
      query Entities($representations: [_Any!]!) { _entities(representations:
        $representations) { ... on Organization { name slug country { code } } } }
    """,
    "every covered field of events": """
      query Events($representations: [_Any!]!) { _entities(representations: $representations)
        { ... on Event { __typename id title description kind status startsAt endsAt
            meetingUrl cancellationReason host { id contactEmail }
            attendances { id role recordedAt organization { name } event { id } } } } }
    """,
    "sponsors and hosts": """
      query Hosts($representations: [_Any!]!) { _entities(representations: $representations)
        { ... on Organization { name sponsor { name } sponsored { name joinedAt }
          hostedEvents { id meetingUrl } } } }
    """,
    "countries and their members": """
      { countries { code memberCount organizations(first: 2, status: MEMBER) { name } } }
    """,
    "fragments, inline fragments, skip and include": """
      query Q($more: Boolean!, $less: Boolean = false) {
        organizations(first: 4) { edges { node { ...Named ... on Organization @include(if:
          $more) { slug country { ...Place } } status @skip(if: $less) } } } }
      fragment Named on Organization { id name name }
      fragment Place on Country { code name @skip(if: $more) }
    """,
    "a filter and a page size in variables": """
      query Filtered($filter: OrganizationFilter, $first: Int) {
        organizations(first: $first, filter: $filter) { totalCount
          edges { node { name status country { code } } } } }
    """,
    "refused arguments": """
      { big: organizations(first: 101) { totalCount }
        bad: organizations(after: "not a cursor") { totalCount } }
    """,
    "entities of every kind, missing and repeated": """
      query E($representations: [_Any!]!) { _entities(representations: $representations) {
        __typename ... on Organization { id contactEmail }
        ... on Event { title meetingUrl host { name } }
        ... on Country { code memberCount } } }
    """,
}


@pytest.fixture
async def club(session_factory: Any) -> dict[str, Any]:
    built = await build_club(session_factory, organizations=24, events=8, working_groups=0)
    md = (await country_ids(session_factory, "MD"))["MD"]
    sponsor = organization(md, member=True, website="https://sponsor.example.org")
    await add(session_factory, sponsor)
    sponsored = organization(md, sponsor_id=sponsor.id, description="Joined on an invitation")
    await add(session_factory, sponsored)
    hosted = event(sponsor.id, meeting_url="https://meet.example.org/s", description="Agenda")
    await add(session_factory, hosted)
    await add(
        session_factory,
        Attendance(
            event_id=hosted.id,
            organization_id=sponsored.id,
            role=AttendanceRole.GUEST,
            recorded_at=T0 + timedelta(hours=1),
        ),
    )
    # A guest that hosts an event: its meeting URL is visible to it as the event's owner
    # (`owner_ids`), not as a member.
    guest_host = organization(md, description="Hosts as a guest")
    await add(session_factory, guest_host)
    guest_hosted = event(guest_host.id, meeting_url="https://meet.example.org/g")
    await add(session_factory, guest_hosted)
    return {
        "member": built.organization_ids[1],
        "guest": built.organization_ids[0],
        "sponsor": sponsor.id,
        "guest host": guest_host.id,
        "organizations": [*built.organization_ids, sponsor.id, sponsored.id, guest_host.id],
        "events": [*built.event_ids, hosted.id, guest_hosted.id],
    }


def principals(club: dict[str, Any]) -> dict[str, Principal]:
    return {
        "admin": Principal(Role.ADMIN),
        "partner": Principal(Role.PARTNER),
        "anonymous": ANONYMOUS,
        "member": Principal(
            Role.ORGANIZATION, organization_id=club["member"], organization_is_member=True
        ),
        "guest": Principal(
            Role.ORGANIZATION, organization_id=club["guest"], organization_is_member=False
        ),
        "host": Principal(
            Role.ORGANIZATION, organization_id=club["sponsor"], organization_is_member=True
        ),
        "guest host": Principal(
            Role.ORGANIZATION, organization_id=club["guest host"], organization_is_member=False
        ),
    }


def variables_for(case: str, club: dict[str, Any], countries: list[int]) -> dict[str, Any]:
    if case == "the S3 walk":
        return {
            "representations": [
                {"__typename": "Country", "id": encode_id("Country", n)} for n in countries
            ]
        }
    if case == "every covered field of events":
        return {
            "representations": [
                {"__typename": "Event", "id": encode_id("Event", n)} for n in club["events"]
            ]
        }
    if case == "sponsors and hosts":
        return {
            "representations": [
                {"__typename": "Organization", "id": encode_id("Organization", n)}
                for n in club["organizations"]
            ]
        }
    if case == "S4 entities":
        return {
            "representations": [
                {"__typename": "Organization", "id": encode_id("Organization", n)}
                for n in club["organizations"][::3]
            ]
        }
    if case == "entities of every kind, missing and repeated":
        return {
            "representations": [
                {"__typename": "Organization", "id": encode_id("Organization", club["sponsor"])},
                {"__typename": "Event", "id": encode_id("Event", club["events"][-1])},
                {"__typename": "Organization", "id": encode_id("Organization", 99_999)},
                {"__typename": "Country", "id": encode_id("Country", countries[0]), "extra": 1},
                {"__typename": "Organization", "id": encode_id("Organization", club["sponsor"])},
            ]
        }
    if case == "fragments, inline fragments, skip and include":
        return {"more": True}
    if case == "a filter and a page size in variables":
        return {"filter": {"status": "MEMBER", "countryCode": "MD"}, "first": 2}
    return {}


class Answers:
    """Runs an operation on each path with a fresh context and says which path answered. The
    context reads as a request's does: on one connection (`RequestReads`), the compiled
    path's statements sent by the driver (db/prepared.py). (A failure there would fall back
    to the reference executor, and the paths the tests expect would differ.)"""

    def __init__(
        self, schema: Schema, make_context: Any, settings: Settings, engine: AsyncEngine
    ) -> None:
        self.schema = schema
        self.make_context = make_context
        self.settings = settings
        self.engine = engine

    async def answer(
        self,
        query: str,
        variables: dict[str, Any],
        principal: Principal,
        *,
        compiled: bool,
        list_sizes: ListSizeObserver | None = None,
        **settings: Any,
    ) -> tuple[dict[str, Any], str]:
        context = self.make_context(principal)
        reads = RequestReads(reads_without_transaction(self.engine))
        context.session_factory = reads
        context.loaders = Loaders.for_request(reads)
        context.settings = self.settings.model_copy(update={"compiled_reads": compiled, **settings})
        context.metrics = Metrics()
        context.list_sizes = list_sizes
        try:
            result = await self.schema.execute(
                query, variable_values=variables, context_value=context
            )
        finally:
            await reads.release(finished=True)
        response: dict[str, Any] = {"data": result.data}
        if result.errors:
            response["errors"] = [error.formatted for error in result.errors]
        registry = context.metrics.registry
        answered = registry.get_sample_value(
            "clubjustice_query_executions_total", {"path": "compiled"}
        )
        return response, "compiled" if answered else "reference"

    async def both(
        self,
        query: str,
        variables: dict[str, Any],
        principal: Principal,
        list_sizes: ListSizeObserver | None = None,
        **settings: Any,
    ) -> tuple[dict[str, Any], str]:
        """The compiled path's answer, which path gave it, after checking that the reference
        executor's is the same — or, for an answer over the caller's budget, that the
        compiled path refused it exactly as `over_budget` says where the reference executor
        stopped it mid-answer."""
        compiled, path = await self.answer(
            query, variables, principal, compiled=True, list_sizes=list_sizes, **settings
        )
        reference, reference_path = await self.answer(
            query, variables, principal, compiled=False, list_sizes=list_sizes, **settings
        )
        assert reference_path == "reference"
        if path == "compiled" and "errors" in compiled:
            await self.refused_over_budget(
                compiled, reference, query, variables, principal, list_sizes, settings
            )
            return compiled, path
        # As the client reads them: the JSON text, so that key order and 1/True/1.0 count.
        assert orjson.dumps(compiled) == orjson.dumps(reference), (compiled, reference)
        return compiled, path

    async def refused_over_budget(
        self,
        compiled: dict[str, Any],
        reference: dict[str, Any],
        query: str,
        variables: dict[str, Any],
        principal: Principal,
        list_sizes: ListSizeObserver | None,
        settings: dict[str, Any],
    ) -> None:
        """The one answer the paths give differently: over the budget on the objects actually
        read, the reference executor's RESULT_TOO_LARGE and the compiled path's refusal, no
        data, `measured` between the budget and the whole answer's objects (exact when the
        whole answer was read)."""
        assert {error["extensions"]["code"] for error in reference["errors"]} == {
            "RESULT_TOO_LARGE"
        }, reference
        unlimited_budget = {f"cost_budget_{role.value.lower()}": 10**9 for role in Role}
        whole, _ = await self.answer(
            query,
            variables,
            principal,
            compiled=False,
            list_sizes=list_sizes,
            **{**settings, **unlimited_budget},
        )
        [error] = compiled["errors"]
        budget = self.settings.model_copy(update=settings).cost_budget(principal.role)
        measured = error["extensions"]["measured"]
        assert budget < measured <= objects_in(whole["data"])
        # "at least" when it stopped early; the rows read may then be the whole answer already.
        exact = not error["message"].startswith("The answer would hold at least")
        if exact:
            assert measured == objects_in(whole["data"])
        counted = f"{measured}" if exact else f"at least {measured}"
        assert compiled == {
            "data": None,
            "errors": [
                {
                    "message": f"The answer would hold {counted} objects, counted on the rows "
                    f"it read before answering; the budget of {callers(principal.role)} is "
                    f"{budget}. Ask for smaller pages (`first`) or fewer nested lists.",
                    "extensions": {
                        "code": "COST_LIMIT_EXCEEDED",
                        "limit": budget,
                        "measured": measured,
                    },
                }
            ],
        }


def _answered_with_error(response: dict[str, Any]) -> bool:
    """An answer with an error other than the compiled path's refusal over the budget (the
    estimate's refusal, before execution, is one)."""
    return any(
        not error["message"].startswith("The answer would hold")
        for error in response.get("errors", ())
    )


@pytest.fixture
def answers(schema: Schema, make_context: Any, settings: Settings, engine: AsyncEngine) -> Answers:
    return Answers(schema, make_context, settings, engine)


async def _countries(session_factory: Any) -> list[int]:
    codes = ("MD", "AL", "MK", "UA", "KE", "PL", "MN", "KG", "AR", "GE", "FR")
    return sorted((await country_ids(session_factory, *codes)).values())


@pytest.mark.parametrize("case", EDGE_CASES)
async def test_the_compiled_path_answers_as_the_reference_executor(
    case: str, club: dict[str, Any], answers: Answers, session_factory: Any
) -> None:
    variables = variables_for(case, club, await _countries(session_factory))
    paths = {}
    for who, principal in principals(club).items():
        response, paths[who] = await answers.both(EDGE_CASES[case], variables, principal)
        # An answer with an error is the reference executor's (a refused argument), but for
        # a refusal over a role's budget.
        expected = "reference" if _answered_with_error(response) else "compiled"
        assert paths[who] == expected, (case, who, response.get("errors"))
    # Each case is compared where it matters: on the compiled path's answer, for the roles
    # whose budget allows it (all but the refused arguments, which no plan answers).
    if case == "refused arguments":
        assert set(paths.values()) == {"reference"}
    else:
        assert paths["admin"] == paths["member"] == "compiled", paths


@pytest.mark.parametrize("failing", [1, 2])
async def test_a_failure_on_the_compiled_path_is_logged_and_answered_by_the_reference(
    failing: int,
    club: dict[str, Any],
    answers: Answers,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A statement of the plan that fails (its first, the page, or its second, the count
    for `totalCount`): the answer is exactly the reference executor's (no SQL, no error), counted
    as the reference's, and the failure is logged with its traceback."""
    read = Run.bound
    calls = 0

    async def failing_read(run: Run, statement: Any, values: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == failing:
            raise OperationalError(
                "SELECT organizations.id FROM organizations", {}, ConnectionError("gone")
            )
        return await read(run, statement, values)

    monkeypatch.setattr(Run, "bound", failing_read)
    admin = principals(club)["admin"]
    query = EDGE_CASES["directory"]
    with caplog.at_level(logging.WARNING, logger="clubjustice.compiled_reads"):
        compiled, path = await answers.answer(query, {}, admin, compiled=True)
    assert calls == failing
    assert path == "reference"
    reference, _ = await answers.answer(query, {}, admin, compiled=False)
    assert "errors" not in reference
    assert orjson.dumps(compiled) == orjson.dumps(reference)
    (record,) = [r for r in caplog.records if r.name == "clubjustice.compiled_reads"]
    assert record.levelno == logging.WARNING
    assert record.exc_info is not None and record.exc_info[0] is OperationalError


async def test_a_failure_to_plan_is_logged_and_answered_by_the_reference(
    club: dict[str, Any],
    answers: Answers,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A planner that fails: the reference executor answers, the failure is logged once and
    the operation is left to the reference executor from then on (in a cache of this test's
    own: the process's outlives it)."""

    def failing_plan(planner: Planner) -> Any:
        raise RuntimeError("a bug in the planner")

    monkeypatch.setattr(Planner, "plan", failing_plan)
    monkeypatch.setattr(CompiledReads, "plans", PlanCache(PLANS_KEPT))
    admin = principals(club)["admin"]
    query = "{ plannerFails: countries { code } }"
    with caplog.at_level(logging.WARNING, logger="clubjustice.compiled_reads"):
        for _ in range(2):
            compiled, path = await answers.answer(query, {}, admin, compiled=True)
            reference, _ = await answers.answer(query, {}, admin, compiled=False)
            assert path == "reference" and "errors" not in compiled
            assert orjson.dumps(compiled) == orjson.dumps(reference)
    (record,) = [r for r in caplog.records if r.name == "clubjustice.compiled_reads"]
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError


async def test_a_null_for_a_non_null_argument_answers_as_with_the_setting_off(
    club: dict[str, Any], answers: Answers, caplog: pytest.LogCaptureFixture
) -> None:
    """A variable with a default, sent as null where the argument is non-null: the
    reference executor's error for the argument, on both paths (the same JSON); a request
    the plan does not answer (`Unanswerable`), not a failure of the compiled path."""
    query = "query($r: [_Any!] = []) { _entities(representations: $r) { __typename } }"
    for principal in principals(club).values():
        with caplog.at_level(logging.WARNING, logger="clubjustice.compiled_reads"):
            compiled, path = await answers.answer(query, {"r": None}, principal, compiled=True)
        assert not [r for r in caplog.records if r.name == "clubjustice.compiled_reads"]
        reference, _ = await answers.answer(query, {"r": None}, principal, compiled=False)
        assert path == "reference"
        assert compiled["data"] is None and len(compiled["errors"]) == 1
        assert orjson.dumps(compiled) == orjson.dumps(reference)


def objects_in(data: dict[str, Any]) -> int:
    """The object values of an answer's `data` (not the root), list items included: what the
    cost budget counts (schema/production.py)."""

    def count(value: Any) -> int:
        if isinstance(value, list):
            return sum(count(item) for item in value)
        if isinstance(value, dict):
            return 1 + sum(count(item) for item in value.values())
        return 0

    return sum(count(value) for value in data.values())


# Where the list grown in the test below (the sponsor's 300 more sponsored organizations)
# is counted: under `_entities`, under the directory's edges (the sponsor and its sponsored
# organizations are on the first page, by name) and under the countries.
BUDGET_CASES = {
    "entities": EDGE_CASES["sponsors and hosts"],
    "directory": "{ organizations(first: 26) { totalCount edges { cursor node { name "
    "sponsored { name } } } pageInfo { endCursor } } }",
    "countries": "{ countries { code memberCount organizations(first: 100) { name "
    "sponsor { name } } } }",
}


@pytest.mark.parametrize("case", BUDGET_CASES)
async def test_the_budget_counts_the_same_objects_on_both_paths(
    case: str, club: dict[str, Any], answers: Answers, schema: Schema, session_factory: Any
) -> None:
    """An estimate kept low (a snapshot saying every list is empty) and a list grown past it
    (300 organizations sponsored by one): an answer of exactly the budget is the compiled
    path's, and one object over it refused by it with COST_LIMIT_EXCEEDED, the objects it
    counted those the reference executor counts (an organization under each of its places
    included) — where the reference executor stops it mid-answer with RESULT_TOO_LARGE."""
    observer = ListSizeObserver(session_factory, observations_of(graphql_core_schema(schema)))
    snapshot = await observer.refresh()
    assert snapshot is not None
    observer.current = type(snapshot)(dict.fromkeys(snapshot.sizes, 0), snapshot.observed_at)
    md = (await country_ids(session_factory, "MD"))["MD"]
    await add(session_factory, *(organization(md, sponsor_id=club["sponsor"]) for _ in range(300)))
    query = BUDGET_CASES[case]
    variables = variables_for("sponsors and hosts", club, []) if case == "entities" else {}
    partner = principals(club)["partner"]
    full, path = await answers.both(query, variables, partner, observer)
    assert path == "compiled"
    objects = objects_in(full["data"])
    assert objects > 300
    at, path = await answers.both(query, variables, partner, observer, cost_budget_partner=objects)
    assert path == "compiled"
    assert orjson.dumps(at) == orjson.dumps(full)
    # One over it: the compiled path refuses it, the whole answer counted (the reference
    # executor would stop it mid-answer with RESULT_TOO_LARGE: `both` checks both).
    over, path = await answers.both(
        query, variables, partner, observer, cost_budget_partner=objects - 1
    )
    assert path == "compiled"
    [error] = over["errors"]
    assert (over["data"], error["extensions"]) == (
        None,
        {"code": "COST_LIMIT_EXCEEDED", "limit": objects - 1, "measured": objects},
    )
    # Far below it (at the estimate, which lets the operation run), the refusal comes as
    # the rows read pass the budget, before the rest is read or built: a lower bound.
    refused, _ = await answers.answer(
        query, variables, partner, compiled=True, list_sizes=observer, cost_budget_partner=1
    )
    estimate = refused["errors"][0]["extensions"]["measured"]
    assert estimate < objects
    low, path = await answers.both(
        query, variables, partner, observer, cost_budget_partner=estimate
    )
    assert path == "compiled"
    assert estimate < low["errors"][0]["extensions"]["measured"] < objects
    assert low["errors"][0]["message"].startswith("The answer would hold at least")


@pytest.mark.parametrize(
    "query",
    [
        "{ organizations(first: 20) { totalCount } }",
        "{ organizations(first: 20) { pageInfo { hasNextPage endCursor } } }",
    ],
    ids=["totalCount", "pageInfo"],
)
async def test_a_page_counts_only_the_objects_it_holds(
    query: str, club: dict[str, Any], answers: Answers
) -> None:
    """A page read for its count or its page info holds no edge: its 20 rows are not objects
    of the answer, and a budget of 10 holds it (a review found them counted)."""
    partner = principals(club)["partner"]
    response, path = await answers.both(query, {}, partner, cost_budget_partner=10)
    assert path == "compiled"
    assert "errors" not in response


PAGE = """
  query Page($first: Int, $after: String) { organizations(first: $first, after: $after) {
    totalCount edges { cursor node { name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }
"""


@pytest.mark.parametrize("first", [1, 7, 26, 100])
async def test_pages_to_the_end_and_past_it_answer_alike(
    first: int, club: dict[str, Any], answers: Answers
) -> None:
    """Following `endCursor` through the whole directory, each page the same on both paths,
    up to the last (hasNextPage false) and the empty one after its last cursor."""
    member = principals(club)["member"]
    after = None
    pages = 0
    while True:
        response, path = await answers.both(PAGE, {"first": first, "after": after}, member)
        assert path == "compiled"
        page = response["data"]["organizations"]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    last = page["edges"][-1]["cursor"] if page["edges"] else after
    response, path = await answers.both(PAGE, {"first": first, "after": last}, member)
    assert response["data"]["organizations"]["edges"] == []
    assert pages == -(-page["totalCount"] // first)


# The part of the schema the planner covers (a subset of schema.graphql: every generated
# operation is validated against the real schema before it runs). Without the directory's
# arguments: random ones are nearly all refused (the edge cases above cover them).
COVERED = """
type Query {
  organizations: OrganizationConnection!
  countries: [Country!]!
}
type OrganizationConnection { edges: [OrganizationEdge!]! pageInfo: PageInfo! totalCount: Int! }
type OrganizationEdge { cursor: String! node: Organization! }
type PageInfo {
  hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String
}
type Organization {
  id: ID! slug: String! name: String! kind: OrganizationKind! status: OrganizationStatus!
  website: String description: String contactEmail: String joinedAt: DateTime
  country: Country! sponsor: Organization sponsored: [Organization!]!
  attendances: [Attendance!]! hostedEvents: [Event!]!
}
type Country {
  id: ID! code: String! name: String! region: String! memberCount: Int!
  organizations(status: OrganizationStatus): [Organization!]!
}
type Event {
  id: ID! title: String! description: String kind: EventKind! status: EventStatus!
  startsAt: DateTime! endsAt: DateTime! meetingUrl: String cancellationReason: String
  host: Organization! attendances: [Attendance!]!
}
type Attendance {
  id: ID! role: AttendanceRole! recordedAt: DateTime! event: Event! organization: Organization!
}
enum OrganizationKind { NGO LEGAL_AID_PROVIDER GOVERNMENT ACADEMIC FOUNDATION OTHER }
enum OrganizationStatus { GUEST MEMBER }
enum EventKind { ONLINE_MEETING IN_PERSON HYBRID }
enum EventStatus { SCHEDULED CANCELLED COMPLETED }
enum AttendanceRole { HOST MEMBER GUEST SPEAKER }
scalar DateTime
"""
# Operations generated; each runs for every role on both paths, on both databases. A longer
# run: CLUBJUSTICE_DIFFERENTIAL_EXAMPLES=2000 (docs/architecture.md).
GENERATED = int(os.environ.get("CLUBJUSTICE_DIFFERENTIAL_EXAMPLES", "100"))


def generated_operations(
    count: int, covered: str = COVERED, fields: list[str] | None = None
) -> list[str]:
    """`count` operations over the covered schema (of its root `fields`, if given), the same
    ones on every run."""
    operations: list[str] = []

    @hypothesis_settings(
        max_examples=count,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],  # no shrinking: every example is kept, small or large
    )
    @seed(17)  # the same examples on every run
    @given(from_schema(covered, fields=fields, allow_x00=False))
    def collect(operation: str) -> None:
        operations.append(operation)

    collect()
    return operations


async def test_generated_operations_answer_alike_on_both_paths(
    club: dict[str, Any], answers: Answers, schema: Schema
) -> None:
    real: GraphQLSchema = graphql_core_schema(schema)
    compiled = 0
    for operation in generated_operations(GENERATED):
        assert not validate(real, parse(operation)), operation
        for principal in principals(club).values():
            response, path = await answers.both(operation, {}, principal)
            # Every answer is the compiled path's, but for one with an error (none here) that
            # is not a refusal over a role's cost budget.
            assert path == ("reference" if _answered_with_error(response) else "compiled"), (
                operation
            )
            compiled += path == "compiled"
    # Not a vacuous comparison: 679 of the 700 answers (100 operations, 7 roles) with the
    # fixed seed are the compiled path's (refusals over a budget included).
    assert compiled >= GENERATED, compiled


# Where each type the planner reads from rows is reached, for the test below.
REACH = {
    "Organization": "{ organizations { edges { node { %s } } } }",
    "Country": "{ countries { %s } }",
    "Event": "{ _entities(representations: []) { ... on Event { %s } } }",
    "Attendance": "{ _entities(representations: []) { ... on Event { attendances { %s } } } }",
}


async def test_the_generated_operations_reach_every_field_the_planner_covers(
    answers: Answers, schema: Schema
) -> None:
    """COVERED is written by hand: every field the planner answers must be in it (or a
    field made plannable would never be compared), and every field in it is planned."""
    real = graphql_core_schema(schema)
    covered = build_schema(COVERED)
    assert set(REACH) == set(SOURCES)
    admin = Principal(Role.ADMIN)
    for type_name, document in REACH.items():
        type_ = real.get_type(type_name)
        assert isinstance(type_, GraphQLObjectType)
        planned = set()
        for name, definition in type_.fields.items():
            if any(is_non_null_type(argument.type) for argument in definition.args.values()):
                continue
            inner = isinstance(get_named_type(definition.type), GraphQLObjectType)
            selection = f"{name} {{ __typename }}" if inner else name
            _, path = await answers.answer(document % selection, {}, admin, compiled=True)
            if path == "compiled":
                planned.add(name)
        listed = covered.get_type(type_name)
        assert isinstance(listed, GraphQLObjectType)
        assert planned == set(listed.fields), type_name


@pytest.mark.parametrize(
    ("scenario", "statements"),
    [
        # the page of organizations, each with its country (joined)
        ("S2", 1),
        # the countries; their organizations (windowed); those organizations' attendances,
        # each with its event and the event's host (joined)
        ("S3", 3),
        # the organizations, each with its country (joined)
        ("S4", 1),
    ],
)
async def test_the_benchmark_scenarios_take_one_statement_per_level(
    scenario: str,
    statements: int,
    club: dict[str, Any],
    answers: Answers,
    session_factory: Any,
    count_statements: Any,
) -> None:
    countries = await _countries(session_factory)
    representations = {
        "S3": [{"__typename": "Country", "id": encode_id("Country", n)} for n in countries],
        "S4": [
            {"__typename": "Organization", "id": encode_id("Organization", n)}
            for n in club["organizations"]
        ],
    }
    variables = (
        {"representations": representations[scenario]} if scenario in representations else {}
    )
    admin = Principal(Role.ADMIN)
    await answers.answer(OURS[scenario], variables, admin, compiled=True)  # warm the pool
    with count_statements() as log:
        response, path = await answers.answer(OURS[scenario], variables, admin, compiled=True)
    assert path == "compiled" and "errors" not in response
    assert log.count == statements, log.statements


async def test_a_statement_takes_at_most_max_joins(
    club: dict[str, Any], answers: Answers, schema: Schema, caplog: pytest.LogCaptureFixture
) -> None:
    """More to-one relations than one statement may join (SQLite: 64 tables): past
    `MAX_JOINS`, each is read by a statement of its own, where its own to-one relations are
    joined again. Answered by the compiled path, equal to the reference executor's answer,
    nothing logged."""
    sponsors = " ".join(
        f"s{n}: sponsor {{ name country {{ code }} sponsor {{ name }} }}" for n in range(25)
    )
    query = f"{{ organizations(first: 30) {{ edges {{ node {{ name {sponsors} }} }} }} }}"
    operation = parse(query).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    core = graphql_core_schema(schema)
    plan = Planner(core, {}, VariableValues({}, {}), operation).plan()
    directory = plan.fields[0]
    assert isinstance(directory, Directory)
    assert len(directory.node.joins) == MAX_JOINS
    admin = principals(club)["admin"]
    with caplog.at_level(logging.WARNING, logger="clubjustice.compiled_reads"):
        _, path = await answers.both(query, {}, admin, max_aliases=100, cost_budget_admin=10**6)
    assert path == "compiled"
    assert caplog.records == []
