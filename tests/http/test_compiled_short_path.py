"""The compiled short path (server/app.py `_answer_compiled`, schema/compiled/direct.py): with
the response cache off, a query the long path has answered from its compiled plan is
answered again from it before strawberry's view — the same status, headers and bytes, the
same statements, metrics and log line, no view, no strawberry execution, no SQLAlchemy
connection. Whatever it would not answer plainly (a refusal, variables that do not coerce, a
NUL, an argument the plan leaves to the reference executor, an answer over the budget) goes
through the view, which answers it as it answers a first request. Counted, not timed."""

import asyncio
import logging
from typing import Any

import pytest

import schema.compiled.direct
import schema.limits
from club.enums import Role
from club.settings import Settings
from schema.compiled.run import OverBudget, Run, Unanswerable
from schema.ids import encode_id
from tests.conftest import wire_on
from tests.factories import add, country_ids, organization
from tests.http.conftest import MakeToken
from tests.http.test_short_path import cache_settings, comparable, counted, post, samples, served

DIRECTORY = """
query Directory($first: Int, $after: String, $status: OrganizationStatus, $search: String) {
  organizations(first: $first, after: $after, filter: {status: $status, search: $search}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { __typename id name slug status country { code name } } }
  }
}
"""
ENTITIES = """
query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Organization { name slug country { code } }
  }
}
"""
PAGE = {"query": DIRECTORY, "variables": {"first": 4}}


@pytest.fixture
async def organizations(session_factory: Any) -> list[int]:
    """Twelve organizations in three countries, half of them members; their ids."""
    ids = await country_ids(session_factory, "MD", "KE", "PL")
    codes = list(ids)
    rows = [organization(ids[codes[n % 3]], member=n % 2 == 0) for n in range(12)]
    await add(session_factory, *rows)
    return [row.id for row in rows]


def entities(ids: list[int]) -> dict[str, Any]:
    representations = [
        {"__typename": "Organization", "id": encode_id("Organization", pk)} for pk in ids
    ]
    return {"query": ENTITIES, "variables": {"representations": representations}}


@pytest.mark.parametrize("role", [Role.ADMIN, Role.PARTNER, Role.ORGANIZATION])
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(PAGE, id="directory"),
        pytest.param(
            {"query": DIRECTORY, "variables": {"first": 3, "status": "MEMBER"}},
            id="directory-filtered",
        ),
        pytest.param("entities", id="entities"),
    ],
)
async def test_a_compiled_query_runs_again_without_strawberry(
    settings: Settings,
    make_token: MakeToken,
    monkeypatch: pytest.MonkeyPatch,
    organizations: list[int],
    role: Role,
    body: Any,
) -> None:
    if body == "entities":
        body = entities(organizations[2:9])
    # An ORGANIZATION token acts as a member (the first organization is one).
    token = await make_token(role, organizations[0] if role is Role.ORGANIZATION else None)
    async with served(cache_settings(settings, cached=False)) as (client, engine):
        with counted(monkeypatch, engine) as first_work, wire_on(engine) as first_wire:
            first = await post(client, token, body)  # the view runs it; its plan answers
        assert first.status_code == 200
        assert "errors" not in first.json()
        assert (first_work.views, first_work.executions) == (1, 1)
        for _ in range(3):
            with counted(monkeypatch, engine) as work, wire_on(engine) as wire:
                again = await post(client, token, body)
            assert comparable(again) == comparable(first)
            assert (work.views, work.executions, work.orm_connections) == (0, 0, 0)
            assert wire.statements == first_wire.statements
            assert (wire.round_trips, wire.connections) == (first_wire.round_trips, 0)
        metrics = (await client.get("/metrics")).text
    name = body["query"].split()[1].split("(")[0]
    key = (("operation_name", name), ("operation_type", "query"))
    assert samples(metrics, "clubjustice_graphql_operations_total")[key] == 4
    assert samples(metrics, "clubjustice_graphql_operation_duration_seconds_count")[key] == 4
    assert samples(metrics, "clubjustice_query_executions_total") == {(("path", "compiled"),): 4}


async def test_it_is_logged_as_the_view_logs_it(
    settings: Settings,
    make_token: MakeToken,
    caplog: pytest.LogCaptureFixture,
    organizations: list[int],
) -> None:
    token = await make_token(Role.PARTNER)
    async with served(cache_settings(settings, cached=False)) as (client, _):
        with caplog.at_level(logging.INFO):
            for _ in range(3):
                await post(client, token, PAGE)
    lines = [r.getMessage() for r in caplog.records if r.name == "clubjustice.access"]
    assert len(lines) == 3
    assert all(line.endswith(" PARTNER query Directory") for line in lines), lines


NUL = "\x00"


COERCION = {"first": 2, "status": 7}
# Ten rows estimated, six read (the members): over a budget of 30 by the estimate only.
MEMBERS = {"first": 10, "status": "MEMBER"}


def _over_the_budget(run: Any) -> None:
    raise OverBudget(101, exact=True)


def _unanswerable(run: Any) -> None:
    raise Unanswerable("found once the rows were read")


def _failing(*args: Any) -> None:
    raise RuntimeError("a bug")


# Each breaks a request in one place, on both servers: the plan's last step (after it has
# read everything), or the refusals before execution (before anything is read).
BREAKAGES: dict[str, list[tuple[Any, str, Any]]] = {
    "none": [],
    "over-the-budget-on-rows": [(Run, "check_budget", _over_the_budget)],
    "unanswerable-once-read": [(Run, "check_budget", _unanswerable)],
    "failure-once-read": [(Run, "check_budget", _failing)],
    "failure-before-the-plan": [
        (schema.limits, "operation_refusals", _failing),
        (schema.compiled.direct, "operation_refusals", _failing),
    ],
}


@pytest.mark.parametrize(
    ("variables", "budget", "breakage", "code"),
    [
        pytest.param(COERCION, 100, "none", "BAD_USER_INPUT", id="variables-that-do-not-coerce"),
        pytest.param({"first": 2, "status": "X"}, 100, "none", "BAD_USER_INPUT", id="bad-enum"),
        pytest.param({"first": 2, "search": f"x{NUL}"}, 100, "none", "BAD_USER_INPUT", id="nul"),
        pytest.param({"first": 2, "after": "no"}, 100, "none", "BAD_USER_INPUT", id="cursor"),
        pytest.param({"first": 25}, 100, "none", "BAD_USER_INPUT", id="over-the-page-size"),
        pytest.param(MEMBERS, 30, "none", "COST_LIMIT_EXCEEDED", id="over-the-estimate"),
        *(
            pytest.param({"first": 2}, 100, breakage, code, id=breakage)
            for breakage, code in [
                ("over-the-budget-on-rows", "COST_LIMIT_EXCEEDED"),
                ("unanswerable-once-read", None),
                ("failure-once-read", None),
                ("failure-before-the-plan", None),
            ]
        ),
    ],
)
async def test_what_is_not_a_plain_answer_goes_through_the_view_and_is_answered_alike(
    settings: Settings,
    make_token: MakeToken,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    organizations: list[int],
    variables: dict[str, Any],
    budget: int,
    breakage: str,
    code: str | None,
) -> None:
    """A server that has answered the directory plainly (`first: 4`), and a fresh one, give
    the same answer to each request, through the view, with the same statements (what the
    short path read is not read again) and the same failures logged. The estimate takes a
    `first` over the largest page (20) as the largest page; a budget of 30 passes the
    estimate of `first: 4`, not of `first: 10` (whose six rows' answer it would pass). The
    rest are made to happen (the data is too small to pass the budget, and holds no null
    where the schema says non-null)."""
    settings = cache_settings(settings, cached=False).model_copy(
        update={"cost_budget_partner": budget, "max_page_size": 20}
    )
    token = await make_token(Role.PARTNER)
    body = {"query": DIRECTORY, "variables": variables}
    answers, statements, failures = [], [], []

    async def ask(client: Any, engine: Any) -> None:
        with monkeypatch.context() as patch:
            for target, name, replacement in BREAKAGES[breakage]:
                patch.setattr(target, name, replacement)
            caplog.clear()
            with (
                counted(monkeypatch, engine) as work,
                wire_on(engine) as wire,
                caplog.at_level(logging.WARNING, logger="clubjustice.compiled_reads"),
            ):
                answers.append(await post(client, token, body))
        assert work.views == 1
        statements.append(wire.statements)
        failures.append(len([r for r in caplog.records if r.name == "clubjustice.compiled_reads"]))

    async with served(settings) as (fresh, fresh_engine):
        await ask(fresh, fresh_engine)  # the view: not known yet
    async with served(settings) as (known, known_engine):
        assert "errors" not in (await post(known, token, PAGE)).json()
        await ask(known, known_engine)
    first, again = answers
    assert statements[1] == statements[0]
    assert failures[1] == failures[0] == (breakage == "failure-once-read")
    if breakage == "failure-before-the-plan":
        # Masked, each with its own request id (the rest alike).
        for answer in (first, again):
            [error] = answer.json()["errors"]
            assert error["extensions"].pop("requestId") == answer.headers["x-request-id"]
            assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
        assert again.status_code == first.status_code
        return
    assert comparable(again) == comparable(first)
    errors = first.json().get("errors")
    assert [e["extensions"]["code"] for e in errors] == [code] if code else errors is None


async def test_a_refusal_is_judged_for_each_caller(
    settings: Settings,
    make_token: MakeToken,
    monkeypatch: pytest.MonkeyPatch,
    organizations: list[int],
) -> None:
    """What the long path kept from an ADMIN's request does not let a partner, who may run
    only trusted documents, run it: the refusals run on every request."""
    settings = cache_settings(settings, cached=False).model_copy(
        update={"trusted_documents_roles": frozenset({Role.PARTNER})}
    )
    admin, partner = await make_token(Role.ADMIN), await make_token(Role.PARTNER)
    async with served(settings) as (client, engine):
        for _ in range(2):
            assert "errors" not in (await post(client, admin, PAGE)).json()
        with counted(monkeypatch, engine) as work:
            refused = await post(client, partner, PAGE)
    assert work.views == 1
    assert [e["extensions"]["code"] for e in refused.json()["errors"]] == [
        "PERSISTED_QUERY_NOT_IN_LIST"
    ]


async def test_a_timeout_on_the_short_path_answers_as_the_view_does(
    settings: Settings,
    make_token: MakeToken,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    organizations: list[int],
) -> None:
    # Long enough for the first, real answer on a loaded machine; the slowed one sleeps 30 s.
    settings = cache_settings(settings, cached=False).model_copy(update={"execution_timeout": 2})
    token = await make_token(Role.PARTNER)
    bound = Run.bound
    slowed = 0

    async def slow_bound(self: Run, statement: Any, values: Any) -> Any:
        nonlocal slowed
        slowed += 1
        await asyncio.sleep(30)
        return await bound(self, statement, values)

    async with served(settings) as (client, engine):
        assert "errors" not in (await post(client, token, PAGE)).json()
        monkeypatch.setattr(Run, "bound", slow_bound)
        with counted(monkeypatch, engine) as work, caplog.at_level(logging.INFO):
            answer = await post(client, token, PAGE)
        assert work.views == 0
        monkeypatch.setattr(Run, "bound", bound)
        metrics = (await client.get("/metrics")).text
    assert slowed == 1
    assert answer.status_code == 200
    assert answer.json() == {
        "data": None,
        "errors": [
            {
                "message": "The operation ran longer than 2 s and was stopped; ask for less.",
                "extensions": {"code": "OPERATION_TIMEOUT"},
            }
        ],
    }
    errors = samples(metrics, "clubjustice_graphql_errors_total")
    assert errors[(("code", "OPERATION_TIMEOUT"),)] == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "clubjustice.access"]
    # As the view logs a timeout: the name the request gave (none here).
    assert lines[-1].endswith(" PARTNER timed out -"), lines


async def test_a_query_the_reference_executor_answered_is_not_kept(
    settings: Settings,
    make_token: MakeToken,
    monkeypatch: pytest.MonkeyPatch,
    organizations: list[int],
) -> None:
    """`viewer` has no plan; a directory page with an unknown cursor is answered (with its
    error) by the reference executor: each runs in strawberry every time."""
    token = await make_token(Role.PARTNER)
    refused = {"query": DIRECTORY, "variables": {"first": 1, "after": "bad"}}
    async with served(cache_settings(settings, cached=False)) as (client, engine):
        with counted(monkeypatch, engine) as work:
            for _ in range(3):
                await post(client, token, {"query": "query Who { viewer { role } }"})
                await post(client, token, refused)
    assert (work.views, work.executions) == (6, 6)
