"""The cost budget, enforced on what an operation actually produces.

The estimate (schema/cost.py) refuses an operation before it runs when it could return more
objects than the caller's budget; it assumes lists as long as the data had them at the last
observation, so data that grew since, or a parent far above the usual, can still pass it.
While the operation runs, each object it produces (list items included: what the estimate
counts) is counted, and the first one over the budget stops it with RESULT_TOO_LARGE: that
object, or its nearest nullable ancestor, is null, nothing more is resolved under it, and
the error is reported once. A subscription's budget holds for each event.

A code of its own, not COST_LIMIT_EXCEEDED: that one promises nothing ran; here the
operation did run, part of its data may be there, and a mutation's change has committed.
"""

from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError

from club.errors import RequestError
from resolvers.context import as_context
from schema.strawberry_private import ExecutorHooks

CODE = "RESULT_TOO_LARGE"


class ResultTooLarge(RequestError):
    def __init__(self, budget: int, role: str) -> None:
        super().__init__(
            CODE,
            f"The answer grew past {budget} objects, the budget of {role} tokens, and the "
            "operation was stopped there (data is null or partial; a mutation's change was "
            "made). Ask for smaller pages (`first`) or fewer nested lists.",
            limit=budget,
        )


@dataclass(slots=True)
class Production:
    """Objects produced so far, shared by the executor and its copies (@defer, @stream)."""

    budget: int
    role: str
    objects: int = 0


class BudgetedExecutor(ExecutorHooks):
    """The schema's executor: counts the objects it completes against the caller's budget."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        context = as_context(self.context_value)
        role = context.principal.role
        self.production = Production(context.settings.cost_budget(role), role.value)

    def completing_object(self) -> None:
        production = self.production
        production.objects += 1
        if production.objects > production.budget:
            raise ResultTooLarge(production.budget, production.role)

    def reported_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        # Every object over the budget raised (siblings resolving at once, under other
        # nullable parents): one report says it.
        stopped = [error for error in errors if isinstance(error.original_error, ResultTooLarge)]
        repeated = {id(error) for error in stopped[1:]}
        return [error for error in errors if id(error) not in repeated]

    def starting_event(self) -> None:
        self.production = Production(self.production.budget, self.production.role)
