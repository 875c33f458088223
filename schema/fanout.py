"""Fan-out that executes once: one answer per event for all its subscribers that would get
the same one.

graphql-core runs a subscription's selection once per subscriber and event. Subscribers of
one event whose answers cannot differ share one execution, and the JSON of its `data` is
encoded once (`encode_message`). Two answers cannot differ when they have

- the same root object: every subscriber of one event gets the same one (schema/domain.py's
  `updates_as`; an event replayed from the log is made anew for its one subscriber);
- the same document text and operation name;
- the same values of the variables the selection under the root field reads (a variable
  read only by the root field's arguments picks which events arrive, `after` and the
  filters, and cannot change an event's answer: strawberry resolves a subscription field's
  event to itself, whatever its arguments; tests/graphql/test_strawberry_private.py checks
  that);
- the same visibility class: role, organization and whether it was a member, what every
  visibility rule reads (club/access.py) and what the response cache is keyed by; the role
  also sets the cost budget that each event's answer is counted against;
- the same clock: every subscriber of one event reads the same `now`
  (resolvers/subscriptions.py).

The first subscriber of a key runs the selection in its own task; the others wait for it.
Only an answer without errors is shared: when the first one's has errors (or it raised, or
its subscriber left midway), each other subscriber runs its own, so an error (a masked one
names the connection's request id) is never another's, and the cost budget of each is
enforced as if alone.

The answers are kept by the root object's id while that object lives (a finalizer drops
them as it goes, before its id can be reused); they hold nothing that refers back to it
(no error, no exception), so they do not keep it alive.
"""

import asyncio
import weakref
from collections.abc import Callable
from typing import Any

import orjson
from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    Node,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
)

from db.notifier import Route
from resolvers.context import as_context
from resolvers.subscriptions import SUBSCRIPTION_ROUTE
from schema.production import BudgetedExecutor

SharingKey = tuple[Any, ...]

# Per event, by the id of its root object, while that object lives: each sharing key's
# answer, once its first subscriber has run it (None: its answer had errors, not shared).
_ANSWERS: dict[int, dict[SharingKey, "asyncio.Future[ExecutionResult | None]"]] = {}


class SharedData(dict[str, Any]):
    """An answer's `data` that several subscribers send: its JSON is encoded once."""

    __slots__ = ("_fragment",)
    _fragment: orjson.Fragment

    def fragment(self) -> orjson.Fragment:
        try:
            return self._fragment
        except AttributeError:
            self._fragment = orjson.Fragment(orjson.dumps(self))
            return self._fragment


def encode_message(message: object) -> str:
    """A message to a client as JSON text; a shared answer's data is copied in as encoded
    (a `next` message of graphql-transport-ws, a `data` one of graphql-ws)."""
    if isinstance(message, dict):
        payload = message.get("payload")
        if isinstance(payload, dict) and isinstance(payload.get("data"), SharedData):
            message = {**message, "payload": {**payload, "data": payload["data"].fragment()}}
    return orjson.dumps(message).decode()


class FanOutExecutor(BudgetedExecutor):
    """A base of the schema's executor (schema/root.py): an event's answer is run once per
    sharing key."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Once per subscription; each event's executor is a copy and takes it along.
        self.sharing_key = (
            self._sharing_key() if self.operation.operation is OperationType.SUBSCRIPTION else None
        )
        route = SUBSCRIPTION_ROUTE.get()
        if route is not None and self.sharing_key is not None:
            # Subscribers with equal keys are sent one answer (db/notifier.py's Round).
            route.key = self.sharing_key

    def execute_event(self, execute: Callable[[], Any]) -> Any:
        result = self._execute_event(execute)
        route = SUBSCRIPTION_ROUTE.get()
        if route is None or route.leading is None:
            return result
        if not route.leading.live.shares(self.root_value):
            # Not the event of the round it leads (which it never answered): its followers
            # are woken with theirs.
            route.answered(None)
            return result
        return self._answering(route, result)

    async def _answering(self, route: Route, result: Any) -> ExecutionResult:
        """The answer of a subscriber that leads a round (db/notifier.py's Round), handed
        to the round: shared data to send to its followers, or None (not shared)."""
        try:
            if self.is_awaitable(result):
                result = await result
        except BaseException:
            route.answered(None)
            raise
        data = result.data
        route.answered(data if isinstance(data, SharedData) and not result.errors else None)
        return result  # type: ignore[no-any-return]

    def _execute_event(self, execute: Callable[[], Any]) -> Any:
        key = self.sharing_key
        answers = None if key is None else _answers_of(self.root_value)
        if key is None or answers is None:
            return self._run(execute)
        answer = answers.get(key)
        if answer is None:
            answer = answers[key] = asyncio.get_running_loop().create_future()
            return self._run_and_share(execute, answer)
        if answer.done():
            shared = answer.result()
            return shared if shared is not None else self._run(execute)
        return self._wait_for(answer, execute)

    def _run(self, execute: Callable[[], Any]) -> Any:
        metrics = as_context(self.context_value).metrics
        if metrics is not None:
            metrics.event_executions.inc()
        return execute()

    async def _run_and_share(
        self, execute: Callable[[], Any], answer: "asyncio.Future[ExecutionResult | None]"
    ) -> ExecutionResult:
        shared = None
        try:
            result = self._run(execute)
            if self.is_awaitable(result):
                result = await result
            if not result.errors and isinstance(result.data, dict):
                shared = ExecutionResult(SharedData(result.data))
                return shared
            return result  # type: ignore[no-any-return]
        finally:
            answer.set_result(shared)

    async def _wait_for(
        self, answer: "asyncio.Future[ExecutionResult | None]", execute: Callable[[], Any]
    ) -> ExecutionResult:
        # Shielded: a waiter that leaves does not cancel the answer the others wait for.
        shared = await asyncio.shield(answer)
        if shared is not None:
            return shared
        result = self._run(execute)
        return await result if self.is_awaitable(result) else result  # type: ignore[no-any-return]

    def _sharing_key(self) -> SharingKey | None:
        """What an event's answer depends on besides the event (None: do not share)."""
        operation = self.operation
        if operation.loc is None:
            return None
        read = variables_read_below_root(operation, list(self.fragment_definitions.values()))
        try:
            values = variables_key(read, self.variable_values.coerced)
        except TypeError:
            return None  # a value with no JSON form: this subscription's answers are its own
        principal = as_context(self.context_value).principal
        return (
            operation.loc.source.body,
            operation.name.value if operation.name else None,
            values,
            principal.role,
            principal.organization_id,
            principal.organization_is_member,
        )


def variables_key(read: set[str], coerced: dict[str, Any]) -> str:
    """The values of the variables `read`, as JSON text (orjson's TypeError: a value with no
    JSON form). Only those present: a variable omitted (with no default) and one sent as
    null are not the same (an argument set to it is absent in one, null in the other). As
    text: orjson's bytes keep a buffer of at least 4 KiB, for each subscription."""
    return orjson.dumps({name: coerced[name] for name in sorted(read) if name in coerced}).decode()


def _answers_of(root: object) -> dict[SharingKey, "asyncio.Future[ExecutionResult | None]"] | None:
    """The answers of the event whose root object is `root` (None: an object no weak
    reference can follow, whose answers are not shared)."""
    answers = _ANSWERS.get(id(root))
    if answers is None:
        try:
            # Runs as `root` is freed, before its id can be another object's.
            weakref.finalize(root, _ANSWERS.pop, id(root), None)
        except TypeError:
            return None
        answers = _ANSWERS[id(root)] = {}
    return answers


def events_with_answers() -> int:
    """How many events' answers are kept now (the events still alive)."""
    return len(_ANSWERS)


def _variable_names(node: Node) -> list[str]:
    """The variables `node` and the nodes below it name, one entry per occurrence. (A walk
    of our own: graphql-core's `visit` leaves cyclic garbage behind, a cost for each
    subscription until the collector runs, which the server's thresholds make rare.)"""
    names: list[str] = []
    pending: list[Any] = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, VariableNode):
            names.append(current.name.value)
        elif isinstance(current, Node):
            pending.extend(getattr(current, key) for key in current.keys if key != "loc")
        elif isinstance(current, tuple | list):
            pending.extend(current)
    return names


def variables_read_below_root(
    operation: OperationDefinitionNode, fragments: list[FragmentDefinitionNode]
) -> set[str]:
    """The variables an operation's selection reads anywhere but in its root fields'
    arguments (an occurrence in both counts as read; one in a fragment, however used, too)."""
    everywhere = _variable_names(operation.selection_set) + [
        name for fragment in fragments for name in _variable_names(fragment.selection_set)
    ]
    for directive in operation.directives or ():
        everywhere += _variable_names(directive)
    remaining = list(everywhere)
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode):
            for argument in selection.arguments or ():
                for name in _variable_names(argument):
                    remaining.remove(name)
    return set(remaining)
