"""A cache of query results, invalidated by every committed change.

Every change appends to the activity log in its own transaction, and appends are
serialized (db/activity.py), so the log's highest id moves with every commit and in commit
order. Each request reads it (with its token, in the same statement: db/tokens.py) before
looking up its result; an
entry made under another high-water mark is stale. That holds across replicas on one
PostgreSQL database: a change committed through any replica is seen by the very next
query on every replica.

Keyed by the normalized operation (the parsed document printed back), the operation name,
the variables, and everything visibility depends on: the caller's role, organization and
member status. Bypassed for mutations, subscriptions, introspection, and operations that
select a field whose value changes with the clock alone (an invitation's `status` turns
EXPIRED without a write; `invitationQuota` defaults to the current year).
"""

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, cast

import orjson
from graphql import (
    DocumentNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_operation_ast,
    print_ast,
    visit,
)

from club.access import Principal
from schema.cost import measure
from schema.fields import facts_of


@dataclass(frozen=True, slots=True)
class Plan:
    """What the cache makes of one document and operation name."""

    cacheable: bool
    normalized: str = ""
    # The operation's own name, as strawberry names it when the request sends none: a hit's
    # log line then names it as the miss's did.
    operation_name: str | None = None


class ResponseCache:
    def __init__(self, schema: Any, *, max_entries: int, max_plans: int = 1000) -> None:
        self.schema = schema
        self.max_entries = max_entries
        self.max_plans = max_plans
        # key -> [high-water mark, data, the HTTP body `{"data": …}` once it was asked for]
        self.entries: OrderedDict[tuple[Any, ...], list[Any]] = OrderedDict()
        self.plans: OrderedDict[tuple[str, str | None], Plan] = OrderedDict()

    def plan(self, query: str, operation_name: str | None, document: DocumentNode) -> Plan:
        key = (query, operation_name)
        plan = self.plans.get(key)
        if plan is None:
            plan = self._plan(document, operation_name)
            self.plans[key] = plan
            if len(self.plans) > self.max_plans:
                self.plans.popitem(last=False)
        return plan

    def _plan(self, document: DocumentNode, operation_name: str | None) -> Plan:
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return Plan(False)
        sizes = measure(self.schema, document, None, default_page_size=1, max_page_size=1)
        if any(size.introspection for size in sizes):
            return Plan(False)
        if _selects_clock_fields(self.schema, document):
            return Plan(False)
        return Plan(True, print_ast(document), operation.name.value if operation.name else None)

    def key(
        self, plan: Plan, operation_name: str | None, variables: bytes, principal: Principal
    ) -> tuple[Any, ...]:
        """`variables`: their `variables_key`."""
        return (
            plan.normalized,
            operation_name,
            variables,
            principal.role,
            principal.organization_id,
            principal.organization_is_member,
        )

    def get(self, key: tuple[Any, ...], high_water: int) -> Any | None:
        entry = self._entry(key, high_water)
        return None if entry is None else entry[1]

    def body(self, key: tuple[Any, ...], high_water: int) -> bytes | None:
        """The entry as an HTTP response body, `{"data": …}` in JSON, encoded once and
        kept with it (a 209 KB answer costs a fraction of a millisecond to encode again)."""
        entry = self._entry(key, high_water)
        if entry is None:
            return None
        if entry[2] is None:
            entry[2] = orjson.dumps({"data": entry[1]})
        return cast(bytes, entry[2])

    def _entry(self, key: tuple[Any, ...], high_water: int) -> list[Any] | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        if entry[0] != high_water:
            del self.entries[key]
            return None
        self.entries.move_to_end(key)
        return entry

    def put(self, key: tuple[Any, ...], high_water: int, data: Any) -> None:
        self.entries[key] = [high_water, data, None]
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)


def variables_key(variables: dict[str, Any] | None) -> bytes:
    """A request's variables as the cache keys them: their JSON text, keys sorted."""
    return orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)


def _selects_clock_fields(schema: Any, document: DocumentNode) -> bool:
    found = False
    type_info = TypeInfo(schema)

    class Finder(Visitor):
        def enter_field(self, node: Any, *_: Any) -> None:
            nonlocal found
            parent = type_info.get_parent_type()
            if parent is None or not hasattr(parent, "fields"):
                return
            definition = parent.fields.get(node.name.value)
            facts = None if definition is None else facts_of(definition)
            # Its value can change with no write (so no new activity-log entry).
            if facts is not None and facts.clock:
                found = True

    visit(document, TypeInfoVisitor(type_info, Finder()))
    return found
