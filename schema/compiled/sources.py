"""The object types the compiled read path answers from table rows, and what it must know of
each that the strawberry type does not say: its model, and the column naming the owner the
type's `owner_ids()` returns (what members-only fields are judged by, schema/visibility.py).

A type is listed here only when its `from_row` copies each plain field from the model's
column of the same name (its private `pk` from `id`): the planner reads the column directly.
tests/graphql/test_compiled_reads.py compares every listed type's fields with the reference
executor for every role.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import InstrumentedAttribute

from db import models
from db.base import Base


@dataclass(frozen=True, slots=True)
class Source:
    model: type[Base]
    # The column holding the id `owner_ids()` returns (None: the type has no owner).
    owner: InstrumentedAttribute[Any] | None = None

    def column(self, name: str) -> InstrumentedAttribute[Any] | None:
        """The model's column `name`, or None (a relationship, or no such attribute)."""
        attribute = getattr(self.model, name, None)
        if not isinstance(attribute, InstrumentedAttribute):
            return None
        return attribute if name in self.model.__table__.columns else None

    @property
    def primary_key(self) -> InstrumentedAttribute[Any]:
        column = self.column("id")
        assert column is not None, f"{self.model.__name__} has an `id` column"
        return column


SOURCES: dict[str, Source] = {
    "Organization": Source(models.Organization, owner=models.Organization.id),
    "Country": Source(models.Country),
    "Event": Source(models.Event, owner=models.Event.host_id),
    "Attendance": Source(models.Attendance),
}

# Entities `_entities` resolves here, by their `id` key (their `resolve_reference` reads the
# row by primary key, null when there is none).
ENTITIES_BY_ID = frozenset({"Organization", "Country", "Event"})

# Subscription events the planner answers, by their type (schema/compiled/planner.py
# `_event_plan`): their attributes and the objects they hold are compared with the reference
# executor's for every role (tests/graphql/test_compiled_events.py). Others (an invitation's
# or an initiative's changes, whose objects are not of the types above) are the reference
# executor's.
EVENTS = frozenset({"MemberJoined", "MeetingUpdate"})
