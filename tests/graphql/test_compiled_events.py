"""The compiled read path answers a subscription's events (schema/compiled/, `EventRoot`)
exactly as the reference executor: the same JSON text, data and errors, for every role, on
both databases, for hand-written selections and generated ones; and it plans the event types
it lists (sources.EVENTS), every field of theirs, and no other. (That an event's statements
are read once for all its executions: tests/ws/test_live_feed.py and test_fanout.py.)

Events are replayed from the activity log (`after` a cursor), through strawberry's own
`subscribe`, with a fresh context per subscription, as a client's would be."""

import asyncio
import os
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import orjson
import pytest
from graphql import (
    FieldNode,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    get_named_type,
    parse,
    print_ast,
    validate,
)
from graphql.execution.values import VariableValues
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.federation import Schema

from club.access import Principal
from club.cursors import activity_cursor
from club.enums import ActivityKind
from club.metrics import Metrics
from club.settings import Settings
from db.activity import Subject, append_activity
from db.engine import Database, create_write_session_factory
from db.models import ActivityLogEntry, Event, Organization
from db.notifier import ActivityFeed
from schema.compiled.planner import NotPlannable, Planner
from schema.compiled.run import Run, SharedReads
from schema.compiled.sources import EVENTS
from schema.strawberry_private import graphql_core_schema
from tests.graphql.test_compiled_reads import (
    COVERED,
    Answers,
    club,  # noqa: F401 (a fixture)
    generated_operations,
    principals,
)

MEMBER_JOINED = """
  subscription Joined($after: String) { memberJoined(after: $after) { __typename cursor joinedAt
    organization { __typename id name slug kind status website description contactEmail
      joinedAt country { id code name region memberCount } sponsor { name } }
    sponsor { id name contactEmail country { code } attendances { role event { title } } } } }
"""
MEETING_UPDATES = """
  subscription Meetings($after: String) { meetingUpdates(after: $after) { cursor kind occurredAt
    event { __typename id title description kind status startsAt endsAt meetingUrl
      cancellationReason host { name contactEmail country { code } }
      attendances { id role recordedAt organization { name } } } } }
"""

EDGE_CASES = {
    "every covered field of member joined": MEMBER_JOINED,
    "every covered field of meeting updates": MEETING_UPDATES,
    "aliases, fragments and typenames": """
      subscription($after: String) { j: memberJoined(after: $after) { ...Joined
        o: organization { n: name ... on Organization { slug } } } }
      fragment Joined on MemberJoined { c: cursor t: __typename s: sponsor { t: __typename } }
    """,
    "skip and include": """
      subscription($after: String, $more: Boolean!) { memberJoined(after: $after) {
        cursor @skip(if: $more) organization { name country @include(if: $more) { code } } } }
    """,
    "only the cursor": "subscription($after: String) { memberJoined(after: $after) { cursor } }",
}


async def log(session_factory: Any, kind: ActivityKind, model: Any, pk: int) -> None:
    async with session_factory() as session, session.begin():
        await append_activity(
            session,
            kind,
            occurred_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC) + timedelta(seconds=pk),
            subject=Subject.of(model, pk),
        )


@pytest.fixture
async def events(
    club: dict[str, Any],  # noqa: F811 (the fixture imported above)
    session_factory: Any,
) -> dict[str, Any]:
    """The activity log's last id before the events below, and how many of each there are:
    members joined (one with a sponsor, one without), meetings scheduled (one hosted by a
    member, one by a guest: its meeting URL is visible to the host)."""
    async with session_factory() as session:
        before = await session.scalar(select(func.max(ActivityLogEntry.id))) or 0
    for organization in (club["organizations"][-2], club["sponsor"], club["member"]):
        await log(session_factory, ActivityKind.MEMBER_JOINED, Organization, organization)
    for event in club["events"][-2:]:
        await log(session_factory, ActivityKind.EVENT_SCHEDULED, Event, event)
    return {"after": activity_cursor(before), "memberJoined": 3, "meetingUpdates": 2}


class EventAnswers(Answers):
    """Subscribes with a fresh context on one path, replays the log's events after a cursor
    and says which path answered each."""

    def __init__(
        self, schema: Schema, make_context: Any, settings: Settings, engine: AsyncEngine
    ) -> None:
        super().__init__(schema, make_context, settings, engine)
        database = Database(
            engine, make_context().session_factory, create_write_session_factory(engine)
        )
        self.feed = ActivityFeed(database)

    async def replayed(
        self,
        document: str,
        variables: dict[str, Any],
        principal: Principal,
        count: int,
        *,
        compiled: bool,
    ) -> tuple[list[dict[str, Any]], dict[str, float]]:
        """The responses to the first `count` events (fewer when the subscription ends with
        an error), and how many events each path answered."""
        async with self.feed.database.session_factory() as session:
            last = await session.scalar(select(func.max(ActivityLogEntry.id)))
        self.feed.high_water = last or 0
        context = self.make_context(principal)
        context.settings = self.settings.model_copy(update={"compiled_reads": compiled})
        context.metrics = Metrics()
        context.feed = self.feed
        stream = await self.schema.subscribe(
            document, variable_values=variables, context_value=context
        )
        responses: list[dict[str, Any]] = []
        if not hasattr(stream, "__anext__"):
            responses.append(_response(stream))
        else:
            try:
                while len(responses) < count:
                    result = await asyncio.wait_for(anext(stream), 10)
                    responses.append(_response(result))
                    if result.data is None:
                        break
            except StopAsyncIteration:
                pass
            finally:
                await stream.aclose()
        registry = context.metrics.registry
        paths = {
            path: registry.get_sample_value(
                "clubjustice_subscription_event_answers_total", {"path": path}
            )
            or 0
            for path in ("compiled", "reference")
        }
        return responses, paths

    async def replayed_on_both(
        self, document: str, variables: dict[str, Any], principal: Principal, count: int
    ) -> tuple[list[dict[str, Any]], dict[str, float]]:
        """The compiled path's responses and paths, after checking that the reference
        executor's responses are the same JSON text."""
        compiled, paths = await self.replayed(document, variables, principal, count, compiled=True)
        reference, reference_paths = await self.replayed(
            document, variables, principal, count, compiled=False
        )
        assert reference_paths["compiled"] == 0
        assert orjson.dumps(compiled) == orjson.dumps(reference), (compiled, reference)
        return compiled, paths


def _response(result: Any) -> dict[str, Any]:
    response: dict[str, Any] = {"data": result.data}
    if result.errors:
        response["errors"] = [error.formatted for error in result.errors]
    return response


@pytest.fixture
def event_answers(
    schema: Schema, make_context: Any, settings: Settings, engine: AsyncEngine
) -> EventAnswers:
    return EventAnswers(schema, make_context, settings, engine)


def _root_field(document: str) -> str:
    operation = parse(document).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    [root] = operation.selection_set.selections
    assert isinstance(root, FieldNode)
    return root.name.value


@pytest.mark.parametrize("case", EDGE_CASES)
async def test_an_events_compiled_answer_is_the_reference_executors(
    case: str,
    club: dict[str, Any],  # noqa: F811 (the fixture imported above)
    events: dict[str, Any],
    event_answers: EventAnswers,
) -> None:
    document = EDGE_CASES[case]
    count = events[_root_field(document)]
    for more in (True, False):  # read by "skip and include" (a plan for each value)
        variables = {"after": events["after"], "more": more}
        for principal in principals(club).values():
            responses, paths = await event_answers.replayed_on_both(
                document, variables, principal, count
            )
            # Every event arrived, with data and no error, and the plan answered each.
            assert len(responses) == count
            assert all("errors" not in response for response in responses), responses
            assert paths == {"compiled": count, "reference": 0}


def test_the_planner_answers_every_field_of_the_events_it_lists_and_no_other(
    schema: Schema,
) -> None:
    """COVERED_EVENTS (the generated selections' schema) is written by hand: the planner
    answers exactly its fields of each event type in sources.EVENTS, and nothing of the other
    subscriptions (an invitation's `cursor` alone included)."""
    core = graphql_core_schema(schema)
    covered = build_schema(COVERED_EVENTS)
    assert core.subscription_type is not None
    seen = set()
    for root, definition in core.subscription_type.fields.items():
        event = get_named_type(definition.type)
        assert isinstance(event, GraphQLObjectType)
        planned = set()
        for name, field in event.fields.items():
            inner = isinstance(get_named_type(field.type), GraphQLObjectType)
            selection = f"{name} {{ __typename }}" if inner else name
            operation = parse(f"subscription {{ {root} {{ {selection} }} }}").definitions[0]
            assert isinstance(operation, OperationDefinitionNode)
            try:
                Planner(core, {}, VariableValues({}, {}), operation).plan()
            except NotPlannable:
                continue
            planned.add(name)
        listed = covered.get_type(event.name) if event.name in EVENTS else None
        assert planned == (set(listed.fields) if isinstance(listed, GraphQLObjectType) else set())
        seen.add(event.name)
    assert seen >= EVENTS


# The events' part of the schema the planner covers, for generated selections: the root
# fields as the query type's (hypothesis-graphql generates no subscriptions), made into
# subscriptions below.
COVERED_EVENTS = (
    COVERED.replace(
        "type Query {",
        "type Query {\n  memberJoined: MemberJoined!\n  meetingUpdates: MeetingUpdate!",
    )
    + """
type MemberJoined {
  cursor: String! organization: Organization! joinedAt: DateTime! sponsor: Organization
}
type MeetingUpdate { cursor: String! kind: MeetingUpdateKind! event: Event! occurredAt: DateTime! }
enum MeetingUpdateKind { SCHEDULED UPDATED CANCELLED COMPLETED ATTENDANCE_RECORDED }
"""
)
# Subscriptions generated (each for every role, on both paths, on both databases); a longer
# run: CLUBJUSTICE_DIFFERENTIAL_EXAMPLES=2000, as for queries (docs/architecture.md).
GENERATED_EVENTS = int(os.environ.get("CLUBJUSTICE_DIFFERENTIAL_EXAMPLES", "30"))


def generated_subscriptions(count: int) -> list[str]:
    """The generated operations' `memberJoined` and `meetingUpdates` selections, each made a
    subscription that replays the events after `$after`."""
    subscriptions = []
    for operation in generated_operations(
        count, COVERED_EVENTS, ["memberJoined", "meetingUpdates"]
    ):
        definition = parse(operation).definitions[0]
        assert isinstance(definition, OperationDefinitionNode)
        for root in definition.selection_set.selections:
            assert isinstance(root, FieldNode)
            if root.selection_set:
                subscriptions.append(
                    f"subscription($after: String) {{ {root.name.value}(after: $after) "
                    f"{print_ast(root.selection_set)} }}"
                )
    return subscriptions


async def test_generated_subscriptions_answer_alike_on_both_paths(
    club: dict[str, Any],  # noqa: F811 (the fixture imported above)
    events: dict[str, Any],
    event_answers: EventAnswers,
    schema: Schema,
) -> None:
    real: GraphQLSchema = graphql_core_schema(schema)
    subscriptions = generated_subscriptions(GENERATED_EVENTS)
    compiled = 0
    for document in subscriptions:
        assert not validate(real, parse(document)), document
        count = events[_root_field(document)]
        for principal in principals(club).values():
            responses, paths = await event_answers.replayed_on_both(
                document, {"after": events["after"]}, principal, count
            )
            # Every event, or the estimate's refusal over the role's budget before any.
            assert len(responses) == count or responses[0]["data"] is None, responses
            # Every answer without an error is the plan's (none has one here but a refusal
            # over a budget, before execution or, by the reference executor, during it).
            answered = sum("errors" not in response for response in responses)
            assert paths["compiled"] == answered, (document, responses)
            compiled += answered
    # Not a vacuous comparison: with the fixed seed, most events are the plan's.
    assert len(subscriptions) >= GENERATED_EVENTS
    assert compiled >= len(subscriptions) * len(principals(club)), compiled


async def test_an_events_read_that_fails_is_read_again_by_the_next_execution() -> None:
    """An event's shared read (schema/compiled/run.py `SharedReads`) that failed is forgotten:
    the executions awaiting it fall back to the reference executor, the next one reads again;
    one that succeeded is read once for all."""
    calls: list[object] = []

    async def read(sessions: object) -> list[tuple[int]]:
        calls.append(sessions)
        if len(calls) == 1:
            raise OSError("the connection dropped")
        return [(1,)]

    shared: SharedReads = {}
    run = Run(cast(Any, SimpleNamespace(session_factory="sessions")), VariableValues({}, {}), 10)
    run.shared = shared
    step = object()
    with pytest.raises(OSError):
        await run._shared(step, (id(step), 1), read)
    await asyncio.sleep(0)  # its done callback
    assert shared == {}
    assert await run._shared(step, (id(step), 1), read) == [(1,)]
    assert await run._shared(step, (id(step), 1), read) == [(1,)]
    assert calls == ["sessions", "sessions"]
