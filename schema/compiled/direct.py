"""A query answered from its compiled plan without strawberry's `Schema.execute`: the server's
short path (server/app.py) calls `answer_directly` for a document the long path has already
answered from a plan. What runs is what the long path would run for it, in its order: the
refusals before execution (schema/limits.py: the same function the limits' extension calls,
with its caches), the NUL check, graphql-core's variable coercion in the schema's own
executor class, and that executor's plan and run (executor.py). strawberry's extensions add
nothing to such an answer that the short path does not do itself: the parse cache (the
document is the one the long path parsed), error codes (there are no errors), the
operation's metrics and log line (the short path counts them as `Observe` does).

Anything else goes to the long path, which answers, refuses or logs as it always does.
Before the plan runs — a refusal, a variable that does not coerce, any failure — nothing was
read and the long path runs the request from the start (`None`). Once the plan has run and
found no plain answer — a request it cannot answer exactly, an answer over the cost budget,
a failure (logged here) — the long path gets what it found (`PlanOutcome`) and answers with
it, the refusal or the reference executor, without sending the plan's statements again."""

from typing import Any

from graphql import DocumentNode, OperationType
from strawberry.schema.base import BaseSchema

from resolvers.context import Context
from schema.compiled.executor import CompiledReads
from schema.compiled.nodes import Object
from schema.compiled.run import PlanOutcome
from schema.limits import has_nul_character, operation_refusals
from schema.strawberry_private import graphql_core_schema


async def answer_directly(
    schema: BaseSchema,
    context: Context,
    query: str,
    document: DocumentNode,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> Object | PlanOutcome | None:
    """The query's `data`, exactly as the long path would answer it; or, once its plan has
    run, what the plan found instead (`PlanOutcome`, for the long path to answer with, its
    statements not sent again); or None, before anything was read."""
    try:
        executor = _executor(schema, context, query, document, variables, operation_name)
    except Exception:
        # Whatever fails before the plan fails again on the long path, which answers it as
        # it answers any failure (inside strawberry's execution: a masked error).
        return None
    if executor is None:
        return None
    return await executor.answer_plainly()


def _executor(
    schema: BaseSchema,
    context: Context,
    query: str,
    document: DocumentNode,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> CompiledReads | None:
    """The schema's executor for this query, after everything the long path refuses before
    execution; None if anything is refused."""
    core_schema = graphql_core_schema(schema)
    if operation_refusals(core_schema, context, query, document, variables, operation_name):
        return None
    if has_nul_character(query, document, variables):
        return None
    executor_class = getattr(schema, "execution_context_class", None)
    if executor_class is None or not issubclass(executor_class, CompiledReads):
        return None
    executor = executor_class.build(
        core_schema,
        document,
        context_value=context,
        raw_variable_values=variables,
        operation_name=operation_name,
        hide_suggestions=context.principal.role not in context.settings.introspection_roles,
        operation_extensions=None,
    )
    if not isinstance(executor, CompiledReads):
        return None  # variables that do not coerce (a list of errors): the long path reports them
    if executor.operation.operation is not OperationType.QUERY:
        return None
    return executor
