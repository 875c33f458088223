"""The size of an operation, measured on its parsed document before anything runs: depth,
aliases, directives, root fields, introspection, and an estimated cost.

The cost estimates how many objects the response could hold, the way GitHub's and
Shopify's APIs count: every object a field returns costs 1, scalars cost nothing, and a
list multiplies everything selected inside it by its expected length. Connections use
their `first` argument; `_entities` uses the number of representations; other lists the
length observed in the data plus a margin (club/list_sizes.py), never more than the size
declared next to the field (`list_size`, schema/fields.py) nor than their `first`; without
observations (none yet, or the last refresh failed), the declared size. A mutation's root
field costs `MUTATION_COST`.
Introspection (`__schema`, `__type`) is not costed and not counted in depth; it is bounded
separately (see schema/limits.py). Fragments are measured once per spread context, so a
document of fragments that spread each other many times is measured in linear time.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
)

from club.list_sizes import ObservedSizes
from resolvers.list_sizes import Observation
from schema.fields import facts_of

MUTATION_COST = 10
# `_service { sdl }` is the federation's way to read the whole schema: introspection too.
INTROSPECTION_FIELDS = frozenset({"__schema", "__type", "_service"})
CONNECTION_SUFFIX = "Connection"


@dataclass(frozen=True, slots=True)
class Tally:
    """What a selection set holds. `depth` and `cost` are relative to where it is selected;
    `fields` counts the fields at its own top level (fragments expanded)."""

    depth: int = 0
    cost: int = 0
    aliases: int = 0
    directives: int = 0
    introspection: int = 0
    fields: int = 0
    # The most fields written directly in one selection set (inline fragments included,
    # named fragments not): graphql-core's overlapping-fields rule compares them pairwise.
    widest: int = 0

    def __add__(self, other: "Tally") -> "Tally":
        return Tally(
            depth=max(self.depth, other.depth),
            cost=self.cost + other.cost,
            aliases=self.aliases + other.aliases,
            directives=self.directives + other.directives,
            introspection=self.introspection + other.introspection,
            fields=self.fields + other.fields,
            widest=max(self.widest, other.widest),
        )


@dataclass(frozen=True, slots=True)
class OperationSize:
    name: str | None
    depth: int
    cost: int
    aliases: int
    directives: int
    introspection: int
    root_fields: int
    widest: int


class _Measurer:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any],
        default_page_size: int,
        max_page_size: int,
        observed: ObservedSizes | None,
    ) -> None:
        self.schema = schema
        self.observed = observed
        self.variables = variables
        self.default_page_size = default_page_size
        self.max_page_size = max_page_size
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self.memo: dict[tuple[str, int | None, bool], Tally] = {}
        self.in_progress: set[str] = set()
        self.spread_names: set[str] = set()
        self.defaults: dict[str, ValueNode] = {}

    def operation(self, operation: OperationDefinitionNode) -> OperationSize:
        root = self.schema.get_root_type(operation.operation)
        # Variables the request leaves out take their defaults, which differ per operation.
        self.defaults = {
            definition.variable.name.value: definition.default_value
            for definition in operation.variable_definitions or ()
            if definition.default_value is not None
        }
        self.memo.clear()
        tally = self.selection_set(operation.selection_set, root, page=None, introspecting=False)
        if operation.operation is OperationType.MUTATION:
            tally = Tally(
                depth=tally.depth,
                cost=tally.cost + MUTATION_COST * tally.fields,
                aliases=tally.aliases,
                directives=tally.directives,
                introspection=tally.introspection,
                fields=tally.fields,
            )
        return OperationSize(
            name=operation.name.value if operation.name else None,
            depth=tally.depth,
            cost=tally.cost,
            aliases=tally.aliases,
            directives=tally.directives
            + len(operation.directives or ())
            + sum(len(v.directives or ()) for v in operation.variable_definitions or ()),
            introspection=tally.introspection,
            root_fields=tally.fields,
            widest=tally.widest,
        )

    def unused_fragment(self, fragment: FragmentDefinitionNode) -> OperationSize:
        """A fragment no operation spreads: never run, but validated all the same."""
        self.defaults = {}
        self.memo.clear()
        tally = self.spread(fragment.name.value, None, False)
        return OperationSize(
            name=f"fragment {fragment.name.value}",
            depth=tally.depth,
            cost=0,
            aliases=tally.aliases,
            directives=tally.directives,
            introspection=tally.introspection,
            root_fields=0,
            widest=tally.widest,
        )

    def selection_set(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        *,
        page: int | None,
        introspecting: bool,
    ) -> Tally:
        total = Tally()
        if selection_set is None:
            return total
        selections = selection_set.selections
        total = Tally(widest=sum(1 for selection in selections if isinstance(selection, FieldNode)))
        for selection in selection_set.selections:
            directives = Tally(directives=len(selection.directives or ()))
            if isinstance(selection, FieldNode):
                total += directives + self.field(selection, parent, page, introspecting)
            elif isinstance(selection, InlineFragmentNode):
                condition = (
                    self.schema.get_type(selection.type_condition.name.value)
                    if selection.type_condition
                    else parent
                )
                total += directives + self.selection_set(
                    selection.selection_set, condition, page=page, introspecting=introspecting
                )
            elif isinstance(selection, FragmentSpreadNode):
                total += directives + self.spread(selection.name.value, page, introspecting)
        return total

    def spread(self, name: str, page: int | None, introspecting: bool) -> Tally:
        key = (name, page, introspecting)
        if key in self.memo:
            return self.memo[key]
        self.spread_names.add(name)
        fragment = self.fragments.get(name)
        if fragment is None or name in self.in_progress:
            # Unknown fragments and cycles are validation errors; they add nothing here.
            return Tally()
        self.in_progress.add(name)
        try:
            condition = self.schema.get_type(fragment.type_condition.name.value)
            tally = self.selection_set(
                fragment.selection_set, condition, page=page, introspecting=introspecting
            ) + Tally(directives=len(fragment.directives or ()))
        finally:
            self.in_progress.discard(name)
        self.memo[key] = tally
        return tally

    def field(
        self,
        node: FieldNode,
        parent: GraphQLNamedType | None,
        page: int | None,
        introspecting: bool,
    ) -> Tally:
        name = node.name.value
        alias = 1 if node.alias is not None else 0
        if name in INTROSPECTION_FIELDS and not introspecting:
            # Its own subtree: aliases and directives count, depth and cost do not.
            inner = self.selection_set(
                node.selection_set, self._field_type(parent, name), page=None, introspecting=True
            )
            return Tally(
                aliases=inner.aliases + alias,
                directives=inner.directives,
                introspection=inner.introspection + 1,
                fields=1,
                widest=inner.widest,
            )
        definition = _field(parent, name)
        named = get_named_type(definition.type) if definition else None
        child_page = (
            self._page_size(node.arguments)
            if named and named.name.endswith(CONNECTION_SUFFIX)
            else None
        )
        inner = self.selection_set(
            node.selection_set, named, page=child_page, introspecting=introspecting
        )
        if introspecting:
            return Tally(
                aliases=inner.aliases + alias,
                directives=inner.directives,
                introspection=inner.introspection,
                fields=1,
                widest=inner.widest,
            )
        weight = 1 if named is not None and is_composite_type(named) else 0
        length = self._length(node, parent, definition, page)
        return Tally(
            depth=inner.depth + 1,
            cost=length * (weight + inner.cost),
            aliases=inner.aliases + alias,
            directives=inner.directives,
            introspection=inner.introspection,
            fields=1,
            widest=inner.widest,
        )

    def _field_type(self, parent: GraphQLNamedType | None, name: str) -> GraphQLNamedType | None:
        definition = _field(parent, name)
        return get_named_type(definition.type) if definition else None

    def _length(
        self,
        node: FieldNode,
        parent: GraphQLNamedType | None,
        definition: GraphQLField | None,
        page: int | None,
    ) -> int:
        """How many times the field's value is repeated: 1 unless it is a list."""
        if definition is None or parent is None:
            return 1
        if not is_list_type(get_nullable_type(definition.type)):
            return 1
        name = node.name.value
        if name == "_entities":
            representations = self._argument(node.arguments, "representations")
            return len(representations) if isinstance(representations, list) else 1
        if page is not None and parent.name.endswith(CONNECTION_SUFFIX):
            return page  # a connection's edges
        facts = facts_of(definition)
        if facts is None or facts.list_size is None:
            return self.default_page_size
        expected = facts.list_size
        if facts.observed is not None and self.observed is not None:
            expected = self.observed.expected(facts.observed.name, facts.list_size)
        if "first" in definition.args:
            first = self._argument(node.arguments, "first")
            if isinstance(first, int):
                return max(0, min(first, expected))
        return expected

    def _page_size(self, arguments: tuple[ArgumentNode, ...] | None) -> int:
        first = self._argument(arguments, "first")
        if isinstance(first, int):
            return max(0, min(first, self.max_page_size))
        return self.default_page_size

    def _argument(self, arguments: tuple[ArgumentNode, ...] | None, name: str) -> Any:
        """An argument's value when it is an integer or a list: written in the document,
        given in the variables, or a variable's default. Integers arrive as JSON numbers,
        which graphql-core accepts as 100.0 too."""
        for argument in arguments or ():
            if argument.name.value != name:
                continue
            value: Any = argument.value
            if isinstance(value, VariableNode):
                variable = value.name.value
                if variable not in self.variables:
                    value = self.defaults.get(variable)
                else:
                    given = self.variables[variable]
                    if isinstance(given, float) and given.is_integer():
                        return int(given)
                    if isinstance(given, bool):
                        return None
                    return given
            if isinstance(value, IntValueNode):
                try:
                    return int(value.value)
                except ValueError:
                    return None
            if isinstance(value, ListValueNode):
                return list(value.values)
        return None


def _field(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
        field: GraphQLField | None = parent.fields.get(name)
        return field
    return None


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None,
    *,
    default_page_size: int,
    max_page_size: int,
    observed: ObservedSizes | None = None,
) -> list[OperationSize]:
    """The size of every operation in the document, and of every fragment none spreads.
    `observed`: the list sizes seen in the data (None: the declared sizes)."""
    measurer = _Measurer(
        schema, document, variables or {}, default_page_size, max_page_size, observed
    )
    sizes = [
        measurer.operation(definition)
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
        and schema.get_root_type(definition.operation) is not None
    ]
    return sizes + [
        measurer.unused_fragment(fragment)
        for name, fragment in measurer.fragments.items()
        if name not in measurer.spread_names
    ]


def observations_of(schema: GraphQLSchema) -> frozenset[Observation]:
    """Every observation the schema's list fields declare: what a refresh reads."""
    return frozenset(
        facts.observed
        for named in schema.type_map.values()
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType)
        for definition in named.fields.values()
        if (facts := facts_of(definition)) is not None and facts.observed is not None
    )
