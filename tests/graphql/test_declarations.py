"""Facts about fields are declared next to them (schema/fields.py), and nothing is missed.

- Every list field has the size the cost limit assumes at most (or is a connection's
  `edges`), and every one that reads the data says how its size is observed.
- Every federation entity resolves its references.
- Every field whose answer moves with the clock alone says so: `clock=True` (the response
  cache never stores those), or `snapshot=True` (part of a snapshot stamped with its time,
  `ClubStatistics.asOf`, which the cache keeps). Found by running one query that selects every
  field of the seeded club at two clocks twenty years apart: the fields whose values differ
  must be exactly the declared ones.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import strawberry
from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    get_nullable_type,
)
from strawberry.federation import Schema
from strawberry.types.base import StrawberryObjectDefinition

from club.access import Principal
from club.enums import Role
from db.engine import SessionFactory
from db.seed import seed
from schema.countries import Country
from schema.fields import facts_of, relation
from schema.strawberry_private import entity_key_fields, graphql_core_schema

ADMIN = Principal(Role.ADMIN)
SEEDED_AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
# The roots that reach every type of the graph from a list, and how deep to follow.
ROOTS = {
    "organizations": "(first: 100)",
    "events": "(first: 100)",
    "workingGroups": "",
    "clubStatistics": "",
}
DEPTH = 4
UNLIMITED = {
    "max_tokens": 100_000,
    "max_document_length": 1_000_000,
    "max_depth": 20,
    "max_fields_per_selection": 1_000,
    "cost_budget_admin": 10**12,
}


def graphql_schema(schema: Schema) -> GraphQLSchema:
    return graphql_core_schema(schema)


def fields_of(graphql_type: GraphQLObjectType) -> dict[str, GraphQLField]:
    return {name: value for name, value in graphql_type.fields.items() if not name.startswith("_")}


def is_list(definition: GraphQLField) -> bool:
    return isinstance(get_nullable_type(definition.type), GraphQLList)


def test_every_list_field_declares_its_size(schema: Schema) -> None:
    undeclared = []
    for type_name, graphql_type in graphql_schema(schema).type_map.items():
        if type_name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        for name, definition in graphql_type.fields.items():
            if not is_list(definition) or (type_name, name) == ("Query", "_entities"):
                continue
            if type_name.endswith("Connection") and name == "edges":
                continue
            facts = facts_of(definition)
            if facts is None or facts.list_size is None:
                undeclared.append(f"{type_name}.{name}")
    assert undeclared == []


def test_every_list_field_that_reads_the_data_is_observed(schema: Schema) -> None:
    """A list field the cost limit sizes from the data (resolvers/list_sizes.py): every one
    with a declared size, but for the payloads' `errors`, which are not in the database."""
    unobserved = []
    for type_name, graphql_type in graphql_schema(schema).type_map.items():
        if type_name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        for name, definition in graphql_type.fields.items():
            facts = facts_of(definition)
            if facts is None or facts.list_size is None or facts.observed is not None:
                continue
            if get_named_type(definition.type).name != "UserError":
                unobserved.append(f"{type_name}.{name}")
    assert unobserved == []


def declared_clock_fields(schema: Schema) -> set[str]:
    declared = set()
    for type_name, graphql_type in graphql_schema(schema).type_map.items():
        if isinstance(graphql_type, GraphQLObjectType) and not type_name.startswith("__"):
            for name, definition in graphql_type.fields.items():
                facts = facts_of(definition)
                if facts is not None and (facts.clock or facts.snapshot):
                    declared.add(f"{type_name}.{name}")
    return declared


@dataclass
class Selection:
    """A field selected under its parent type, and what is selected inside it."""

    parent: str
    name: str
    children: list["Selection"] = field(default_factory=list)
    arguments: str = ""

    def text(self) -> str:
        inner = " ".join(child.text() for child in self.children)
        head = self.name + self.arguments
        return f"{head} {{ {inner} }}" if self.children else head


def select_all(graphql_type: GraphQLObjectType, depth: int) -> list[Selection]:
    """Every field without required arguments, objects followed `depth` levels down."""
    selections = []
    for name, definition in fields_of(graphql_type).items():
        if any(isinstance(arg.type, GraphQLNonNull) for arg in definition.args.values()):
            continue
        named = get_named_type(definition.type)
        if isinstance(named, GraphQLObjectType):
            if depth == 0:
                continue
            children = select_all(named, depth - 1)
            if not children:
                continue
            selections.append(Selection(graphql_type.name, name, children))
        else:
            selections.append(Selection(graphql_type.name, name))
    return selections


def differences(
    selections: list[Selection], first: Any, second: Any, declared: set[str], found: set[str]
) -> None:
    """Add `Type.field` for every selected field whose value differs between two answers: a
    leaf, or a declared field anywhere inside which something differs (the cache skips the
    whole operation when it selects one, so what lies inside is covered)."""
    if isinstance(first, list) and isinstance(second, list):
        if len(first) != len(second):
            raise AssertionError("lists differ in length: compare them by their field")
        for one, other in zip(first, second, strict=True):
            differences(selections, one, other, declared, found)
        return
    if first is None or second is None:
        return
    for selection in selections:
        name = f"{selection.parent}.{selection.name}"
        one, other = first[selection.name], second[selection.name]
        if one == other:
            continue
        inside = selection.children and one is not None and other is not None
        if name in declared or not inside or len(one) != len(other):
            found.add(name)
        else:
            differences(selection.children, one, other, declared, found)


async def test_the_fields_that_move_with_the_clock_are_the_declared_ones(
    schema: Schema, make_context: Any, session_factory: SessionFactory
) -> None:
    await seed(session_factory, now=SEEDED_AT)
    query_type = graphql_schema(schema).query_type
    assert query_type is not None
    roots = []
    for name, arguments in ROOTS.items():
        named = get_named_type(query_type.fields[name].type)
        assert isinstance(named, GraphQLObjectType)
        roots.append(Selection("Query", name, select_all(named, DEPTH), arguments))
    query = "{ " + " ".join(root.text() for root in roots) + " }"

    async def answer(now: datetime) -> Any:
        context = make_context(ADMIN, now)
        # One operation over the whole graph: far past the limits a client gets.
        context.settings = context.settings.model_copy(update=UNLIMITED)
        result = await schema.execute(query, context_value=context)
        assert result.errors is None, result.errors[:3]
        return result.data

    soon = await answer(SEEDED_AT + timedelta(days=1))
    later = await answer(SEEDED_AT + timedelta(days=20 * 365))
    declared = declared_clock_fields(schema)
    moved: set[str] = set()
    differences(roots, soon, later, declared, moved)
    assert moved == declared


@strawberry.type
class Probe:
    country_id: strawberry.Private[int]
    country: Country = relation("country", key="country_id", to=Country.from_row)
    maybe_country: Country | None = relation("country", key="country_id", to=Country.from_row)


@strawberry.type
class ProbeQuery:
    @strawberry.field
    def probe(self) -> Probe:
        return Probe(country_id=2**31 - 1)  # no such country


async def test_a_relation_without_its_row_is_null_or_an_error_naming_the_key(
    make_context: Any,
) -> None:
    probe = Schema(query=ProbeQuery)
    result = await probe.execute(
        "{ probe { maybeCountry { code } } }", context_value=make_context(ADMIN, None)
    )
    assert (result.data, result.errors) == ({"probe": {"maybeCountry": None}}, None)

    result = await probe.execute(
        "{ probe { country { code } } }", context_value=make_context(ADMIN, None)
    )
    assert result.data is None
    assert [error.message for error in result.errors or []] == [
        "country: no row for country_id = 2147483647"
    ]


def test_every_entity_resolves_its_references(schema: Schema) -> None:
    """A federation entity without its own `resolve_reference` would answer `_entities` with
    an internal error: each one goes through the request's loaders."""
    missing = []
    for name in entity_key_fields(schema):
        definition = schema.get_type_by_name(name)
        assert isinstance(definition, StrawberryObjectDefinition)
        if "resolve_reference" not in vars(definition.origin):
            missing.append(name)
    assert missing == []
