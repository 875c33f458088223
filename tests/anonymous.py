"""What the ANONYMOUS role must never get, derived from the schema itself: every field
declared with an audience (schema/fields.py) and every mutation. A field or mutation added
later is in these lists without anyone editing them (a type with a restricted field must
have a way in, `WAYS_IN`, or the lists refuse to build)."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
    get_named_type,
)
from sqlalchemy import func, select

from club.access import Audience
from db.base import Base
from db.engine import SessionFactory
from schema.fields import facts_of
from schema.root import build_schema
from schema.strawberry_private import graphql_core_schema

SCHEMA = graphql_core_schema(build_schema())

# How a query reaches an object of each type that holds a restricted field, on the demo
# data (db/seed.py): `{}` stands for the selection on that object.
WAYS_IN = {
    "Organization": 'organization(slug: "irf") {}',
    "Event": "events(first: 3) { edges { node {} } }",
    "Supporter": "incubatorPrograms(first: 1) { edges { node { supporters {} } } }",
}

# A literal of each scalar that validates (mutations are refused before their arguments
# are looked at; they must only be valid GraphQL).
SCALARS = {
    "ID": '"T3JnYW5pemF0aW9uOjE="',
    "String": '"x"',
    "Int": "1",
    "Float": "1.0",
    "Boolean": "true",
    "DateTime": '"2030-01-01T00:00:00+00:00"',
    "Date": '"2030-01-01"',
}


def literal(type_: GraphQLInputType) -> str:
    """A valid literal of an input type, with its required fields only."""
    if isinstance(type_, GraphQLNonNull):
        return literal(type_.of_type)
    if isinstance(type_, GraphQLList):
        return "[]"
    if isinstance(type_, GraphQLEnumType):
        return str(next(iter(type_.values)))
    if isinstance(type_, GraphQLInputObjectType):
        fields = [
            f"{name}: {literal(field.type)}"
            for name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        ]
        return "{" + ", ".join(fields) + "}"
    assert isinstance(type_, GraphQLScalarType)
    return SCALARS[type_.name]


def arguments(field: GraphQLField) -> str:
    required = [
        f"{name}: {literal(argument.type)}"
        for name, argument in field.args.items()
        if isinstance(argument.type, GraphQLNonNull)
    ]
    return f"({', '.join(required)})" if required else ""


def selection(field: GraphQLField) -> str:
    return " { __typename }" if isinstance(get_named_type(field.type), GraphQLObjectType) else ""


@dataclass(frozen=True)
class Restricted:
    type_name: str
    field_name: str
    query: str  # selects the field as `probe`

    @property
    def id(self) -> str:
        return f"{self.type_name}.{self.field_name}"


def restricted_fields() -> list[Restricted]:
    found = []
    for type_name, type_ in sorted(SCHEMA.type_map.items()):
        if not isinstance(type_, GraphQLObjectType) or type_name.startswith("__"):
            continue
        for field_name, field in type_.fields.items():
            facts = facts_of(field)
            if facts is None or facts.audience is Audience.PUBLIC:
                continue
            if type_name not in WAYS_IN:
                raise AssertionError(f"{type_name}.{field_name} is restricted: add a way in")
            probe = f"probe: {field_name}{arguments(field)}{selection(field)}"
            query = "{ " + WAYS_IN[type_name].replace("{}", "{ " + probe + " }") + " }"
            found.append(Restricted(type_name, field_name, query))
    return found


@dataclass(frozen=True)
class Mutation:
    name: str
    query: str


def mutations() -> list[Mutation]:
    mutation_type = SCHEMA.mutation_type
    assert mutation_type is not None
    return [
        Mutation(name, f"mutation {{ {name}{arguments(field)}{selection(field)} }}")
        for name, field in sorted(mutation_type.fields.items())
    ]


RESTRICTED = restricted_fields()
MUTATIONS = mutations()


def probes(value: Any) -> Iterator[Any]:
    """Every value answered under the alias `probe`, however deep."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "probe":
                yield item
            else:
                yield from probes(item)
    elif isinstance(value, list):
        for item in value:
            yield from probes(item)


async def row_counts(session_factory: SessionFactory) -> dict[str, int]:
    """How many rows each table holds: a refused mutation changes none of them."""
    async with session_factory() as session:
        return {
            table.name: await session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }
