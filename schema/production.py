"""The cost budget, enforced on what an operation actually produces.

The estimate (schema/cost.py) refuses an operation before it runs when it could return more
objects than the caller's budget; it assumes lists as long as the data had them at the last
observation, so data that grew since, or a parent far above the usual, can still pass it.
While the operation runs, each object it produces (list items included: what the estimate
counts; introspection's objects are not, as the estimate does not cost them) is counted,
and the first one over the budget stops it with RESULT_TOO_LARGE:

- that object, or its nearest nullable ancestor, is null, and nothing more is resolved
  below it; every object completed after it is over the budget too and raises, so every
  field the stop nulls has an error at its path (the spec's rule; graphql-core collects one
  error per nulled field, none for what lies below a field already nulled);
- no root field starts after it: in a mutation, the root fields after the one that was
  stopped do not run, each null with a RESULT_TOO_LARGE error saying so, and every error of
  the stop names the mutations that ran (`ran`: their response names).

A subscription's budget holds for each event.

A code of its own, not COST_LIMIT_EXCEEDED: that one promises nothing ran; here the
operation did run, part of its data may be there, and the mutations named in `ran` have
committed.
"""

from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLObjectType, OperationType

from club.access import callers
from club.enums import Role
from club.errors import RequestError
from resolvers.context import as_context
from schema.strawberry_private import ExecutorHooks

CODE = "RESULT_TOO_LARGE"


def is_introspection(object_type: GraphQLObjectType) -> bool:
    """An object of introspection (`__Schema`, `__Type`, …) or of `_service` (the federation's
    SDL): what the estimate does not cost either (schema/cost.py)."""
    return object_type.name.startswith("__") or object_type.name == "_Service"


@dataclass(slots=True)
class Production:
    """Objects produced so far, shared by the executor and its copies (@defer, @stream)."""

    budget: int
    role: str
    operation: OperationType
    objects: int = 0
    stopped: bool = False
    ran: list[str] = field(default_factory=list)  # a mutation's root fields, as they start

    def over_budget(self) -> str:
        return (
            f"grew past {self.budget} objects, the budget of {callers(Role(self.role))}, and the "
            f"{'event' if self.operation is OperationType.SUBSCRIPTION else 'operation'} was "
            "stopped there"
        )

    def mutations_ran(self) -> str:
        ran = ", ".join(f"`{name}`" for name in self.ran) or "none"
        return f"The mutations that ran, their changes made: {ran}."


ADVICE = "Ask for smaller pages (`first`) or fewer nested lists."


class ResultTooLarge(RequestError):
    """The answer grew past the budget: the object being completed is over it."""

    def __init__(self, production: Production) -> None:
        if production.operation is OperationType.MUTATION:
            message = (
                f"The answer {production.over_budget()} (data is null or partial); the "
                f"mutations after it did not run. {production.mutations_ran()} {ADVICE}"
            )
            super().__init__(CODE, message, limit=production.budget, ran=list(production.ran))
        elif production.operation is OperationType.SUBSCRIPTION:
            message = (
                f"This event's answer {production.over_budget()} (its data is null or "
                f"partial; the subscription goes on). {ADVICE}"
            )
            super().__init__(CODE, message, limit=production.budget)
        else:
            message = f"The answer {production.over_budget()} (data is null or partial). {ADVICE}"
            super().__init__(CODE, message, limit=production.budget)


class NotRun(RequestError):
    """A mutation's root field after the stop: it did not run."""

    def __init__(self, production: Production) -> None:
        super().__init__(
            CODE,
            f"Not run: the answer {production.over_budget()}, before this mutation started; "
            f"it changed nothing. {production.mutations_ran()}",
            limit=production.budget,
            ran=list(production.ran),
        )


class BudgetedExecutor(ExecutorHooks):
    """The schema's executor: counts the objects it completes against the caller's budget."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        context = as_context(self.context_value)
        role = context.principal.role
        self.production = Production(
            context.settings.cost_budget(role), role.value, self.operation.operation
        )

    def completing_object(self, object_type: GraphQLObjectType) -> None:
        if is_introspection(object_type):
            return
        production = self.production
        production.objects += 1
        if production.objects > production.budget:
            production.stopped = True
            raise ResultTooLarge(production)

    def starting_root_field(self, response_name: str) -> None:
        production = self.production
        if production.operation is not OperationType.MUTATION:
            return  # a query's root fields start together; a subscription has one
        if production.stopped:
            raise NotRun(production)
        production.ran.append(response_name)

    def starting_event(self) -> None:
        production = self.production
        self.production = Production(production.budget, production.role, production.operation)
