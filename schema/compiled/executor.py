"""The compiled read path's place in execution: the schema's executor answers a query from its
plan when the planner covers it, and otherwise — or when the plan finds the request is one it
cannot answer exactly (`Unanswerable`), or fails (any other exception: logged with its
traceback, never shown) — runs graphql-core's executor as before (the "reference executor").

A query whose answer would pass the caller's cost budget, counted on the rows the plan read,
is refused (COST_LIMIT_EXCEEDED, as the estimate refuses one, with no data) before it is
answered; the reference executor would instead stop it mid-answer (RESULT_TOO_LARGE, with
partial data).

A subscription's events are answered the same way, each inside the fan-out's sharing
(schema/fanout.py): `execute_event` hands it the plan's answer, or the reference executor's.

It runs where graphql-core's executor would, after parsing, validation, the operation limits
and the cost estimate (schema/limits.py) and inside the server's timeout, response cache and
metrics extension, so those behave the same on both paths. Plans are cached per operation
(the parse cache hands the same document to every request with the same text), per value of
the variables its `@skip`/`@include` read, and are the same for every role: members-only
fields are judged per object while answering.
"""

import functools
import logging
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any, ClassVar

from graphql import (
    DirectiveNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    Visitor,
    visit,
)
from graphql import VariableNode as GraphQLVariableNode

from club.access import callers
from resolvers.context import Context, as_context
from schema.compiled.nodes import Object, Plan
from schema.compiled.planner import NotPlannable, Planner
from schema.compiled.run import OverBudget, PlanOutcome, Run, Unanswerable
from schema.limits import limit_error
from schema.production import BudgetedExecutor

logger = logging.getLogger("clubjustice.compiled_reads")

# Which executor answered the query running in this task: "compiled" or "reference" (None
# before it ran, and for anything but a query). A context variable, not the Context: the
# operations of a batch share one Context and run concurrently, each in its own task.
READ_PATH: ContextVar[str | None] = ContextVar("read_path", default=None)

PLANS_KEPT = 256


class _DirectiveVariables(Visitor):
    """The variables an operation's `@skip` and `@include` read."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        if node.name.value in ("skip", "include"):
            for argument in node.arguments or ():
                if isinstance(argument.value, GraphQLVariableNode):
                    self.names.add(argument.value.name.value)


@dataclass(slots=True)
class _Planned:
    """What the cache keeps for one operation of one schema (both held, so that their ids,
    the cache's key, cannot be reused while the entry lives)."""

    schema: Any
    operation: OperationDefinitionNode
    directive_variables: tuple[str, ...]
    plans: dict[tuple[Any, ...], Plan | None]


class PlanCache:
    """The plans of the most recently run operations (None: not plannable)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[int, int], _Planned] = OrderedDict()

    def plan_for(self, executor: "CompiledReads") -> Plan | None:
        entry = self._entry(executor)
        coerced = executor.variable_values.coerced
        key = tuple(coerced.get(name) for name in entry.directive_variables)
        if key not in entry.plans:
            planner = Planner(
                executor.schema, executor.fragments, executor.variable_values, executor.operation
            )
            try:
                entry.plans[key] = planner.plan()
            except NotPlannable:
                entry.plans[key] = None
            except Exception:
                # A bug in the planner: this operation is the reference executor's from now
                # on (logged once per operation, not on every request).
                logger.warning(
                    "planning an operation failed; the reference executor answers it",
                    exc_info=True,
                )
                entry.plans[key] = None
        return entry.plans[key]

    def _entry(self, executor: "CompiledReads") -> _Planned:
        key = (id(executor.schema), id(executor.operation))
        entry = self.entries.get(key)
        if (
            entry is None
            or entry.schema is not executor.schema
            or (entry.operation is not executor.operation)
        ):
            found = _DirectiveVariables()
            visit(executor.operation, found)
            for fragment in executor.fragment_definitions.values():
                visit(fragment, found)
            entry = _Planned(executor.schema, executor.operation, tuple(sorted(found.names)), {})
            self.entries[key] = entry
            if len(self.entries) > self.size:
                self.entries.popitem(last=False)
        else:
            self.entries.move_to_end(key)
        return entry


def over_budget(over: OverBudget, context: Context, budget: int) -> GraphQLError:
    """The refusal of a query whose answer would pass the caller's cost budget, counted on the
    rows read: the estimate's code (schema/limits.py), since nothing was answered, and
    `measured` the objects counted (a lower bound unless `exact`)."""
    role = context.principal.role
    counted = f"{over.objects}" if over.exact else f"at least {over.objects}"
    return limit_error(
        "COST_LIMIT_EXCEEDED",
        f"The answer would hold {counted} objects, counted on the rows it read before "
        f"answering; the budget of {callers(role)} is {budget}. Ask for smaller pages "
        "(`first`) or fewer nested lists.",
        limit=budget,
        measured=over.objects,
    )


class CompiledReads(BudgetedExecutor):
    """A base of the schema's executor (schema/root.py): a query from its compiled plan where
    one covers it, anything else (and any query the plan cannot answer exactly) by
    graphql-core's executor."""

    plans: ClassVar[PlanCache] = PlanCache(PLANS_KEPT)

    def execute_operation(self, serially: bool | None = None) -> Any:
        if self.operation.operation is OperationType.SUBSCRIPTION:
            # An event's answer: `execute_event`, inside the fan-out's sharing.
            return super().execute_operation(serially)
        earlier = as_context(self.context_value).plan_outcome
        if earlier is not None and self.operation.operation is OperationType.QUERY:
            # The short path ran this request's plan already: its statements are not sent again.
            return self._respond(earlier.refusal, serially)
        plan = self._plan()
        if plan is None:
            self._answered_by("reference")
            return super().execute_operation(serially)
        return self._answer(plan, serially)

    def _plan(self) -> Plan | None:
        context = as_context(self.context_value)
        operation = self.operation.operation
        if (
            not context.settings.compiled_reads
            or not (
                operation is OperationType.QUERY
                or (operation is OperationType.SUBSCRIPTION and self.runs_event)
            )
            or (self.middleware_manager is not None and self.middleware_manager.middlewares)
            or self.abort_signal is not None
        ):
            # A field middleware (an ftv1 or OpenTelemetry trace) must see every field.
            return None
        return self.plans.plan_for(self)

    async def _answer(self, plan: Plan, serially: bool | None) -> Any:
        return await self._respond(await self._run_plan(plan), serially)

    async def _run_plan(self, plan: Plan) -> Object | OverBudget | None:
        """The plan's data; or its refusal over the budget; or None, when the reference
        executor answers: a request the plan cannot answer exactly, or a failure."""
        context = as_context(self.context_value)
        run = Run(context, self.variable_values, self.production.budget)
        if self.runs_event:
            run.root = self.root_value
            run.shared = context.loaders.statement_reads
            run.database = None if context.feed is None else context.feed.database
        try:
            return await plan.answer(run)
        except OverBudget as over:
            return over
        except Unanswerable:
            return None
        except Exception:
            # A failed statement or a bug in a step: never shown (its message may hold SQL),
            # logged, and answered by the reference executor, which masks what fails again
            # there (schema/errors.py). Reads change nothing, so running them again is safe.
            # (Not BaseException: a cancellation goes on.)
            logger.warning(
                "the compiled read path failed; the reference executor answers",
                exc_info=True,
                extra={"request_id": context.request_id} if context.request_id else None,
            )
            return None

    async def _respond(self, outcome: Object | OverBudget | None, serially: bool | None) -> Any:
        if outcome is None:
            return await self._by_reference(serially)
        self._answered_by("compiled")
        if isinstance(outcome, OverBudget):
            context = as_context(self.context_value)
            refusal = over_budget(outcome, context, self.production.budget)
            self.collected_errors.add(refusal, None)
            return self.build_response(None)
        return self.build_response(outcome)

    async def answer_plainly(self) -> Object | PlanOutcome | None:
        """For the server's short path (direct.py): the data of this query from its plan; or
        what its plan found instead (`PlanOutcome`: a refusal over the budget, or that the
        reference executor answers), for the long path to answer it without reading again;
        or None when there is no plan."""
        plan = self._plan()
        if plan is None:
            return None
        outcome = await self._run_plan(plan)
        if outcome is None or isinstance(outcome, OverBudget):
            return PlanOutcome(outcome)
        self._answered_by("compiled")
        return outcome

    def execute_event(self, execute: Callable[[], Any]) -> Any:
        return super().execute_event(functools.partial(self._answer_event, self._plan(), execute))

    def _answer_event(self, plan: Plan | None, execute: Callable[[], Any]) -> Any:
        """One event's answer (run once per sharing key: schema/fanout.py): from the plan of
        the subscription's selection, or by the reference executor (`execute`)."""
        if plan is None:
            return self._event_by_reference(execute)
        return self._answer_event_from(plan, execute)

    async def _answer_event_from(self, plan: Plan, execute: Callable[[], Any]) -> Any:
        outcome = await self._run_plan(plan)
        if outcome is None or isinstance(outcome, OverBudget):
            # Over the budget, the reference executor stops the answer as it always has
            # (RESULT_TOO_LARGE): a subscriber learns of it with that event's partial data.
            result = self._event_by_reference(execute)
            return await result if isawaitable(result) else result
        self._event_answered_by("compiled")
        return self.build_response(outcome)

    def _event_by_reference(self, execute: Callable[[], Any]) -> Any:
        self._event_answered_by("reference")
        return execute()

    def _event_answered_by(self, path: str) -> None:
        metrics = as_context(self.context_value).metrics
        if metrics is not None:
            metrics.event_paths.labels(path).inc()

    async def _by_reference(self, serially: bool | None) -> Any:
        self._answered_by("reference")
        result = super().execute_operation(serially)
        return await result if isawaitable(result) else result

    def _answered_by(self, path: str) -> None:
        if self.operation.operation is not OperationType.QUERY:
            return
        READ_PATH.set(path)
        metrics = as_context(self.context_value).metrics
        if metrics is not None:
            metrics.read_paths.labels(path).inc()
