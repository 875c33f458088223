"""Every use of strawberry's private or undocumented API, in one place.

Written against strawberry-graphql 0.341.2 (`WRITTEN_FOR`). Each hook below says what it
touches; tests/graphql/test_strawberry_private.py checks each one's shape on the installed
version and fails loudly when strawberry has changed it.

Hooks:
- `add_fields`: appends fields to an already-decorated type's definition
  (`__strawberry_definition__.fields`), for fields a higher domain contributes, telling
  them by the `origin` strawberry records on each field.
- `strawberry_field_of`: the StrawberryField behind a graphql-core field (the
  `"strawberry-definition"` back-reference strawberry's converter puts in `extensions`).
"""

import copy
from typing import Any

from graphql import GraphQLField
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import get_object_definition
from strawberry.types.field import StrawberryField

WRITTEN_FOR = "0.341.2"


def add_fields(target: type, source: type) -> None:
    """Give `target` (a strawberry type) copies of the fields `source` (a strawberry type
    that subclasses it) declares itself. (strawberry records on each field the class that
    declared it, as `origin`.)"""
    target_definition = get_object_definition(target, strict=True)
    source_definition = get_object_definition(source, strict=True)
    taken = {field.python_name for field in target_definition.fields}
    for field in source_definition.fields:
        if field.origin is not source:
            continue  # inherited from target
        if field.python_name in taken:
            raise TypeError(f"{target.__name__} already has a field {field.python_name!r}")
        added = copy.copy(field)
        target_definition.fields.append(added)


def strawberry_field_of(field: GraphQLField) -> StrawberryField | None:
    """The StrawberryField a graphql-core field was built from, if strawberry built it."""
    definition: Any = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    return definition if isinstance(definition, StrawberryField) else None
