"""The planner: a validated query compiled into the steps of schema/compiled/nodes.py, or
`NotPlannable` when it selects anything those steps do not answer exactly as the reference
executor.

Fields are collected as graphql-core collects them (fragments, inline fragments, `@skip` and
`@include` with this request's variables, merged aliases), so the plan has the response's
shape. A field is plannable when it is one of:

- `__typename`, or `id` of a type in sources.SOURCES (its global id, from the primary key);
- a plain field of such a type (no resolver, no arguments) read from the model's column of
  the same name, formatted by its GraphQL type; members-only ones (`field(audience=...)`)
  are null outside their audience, as `Restricted` makes them;
- a `relation(...)` whose loader declares what it reads (`one_by`, `many_by`) and whose type
  is in SOURCES;
- a field whose resolver has a step of its own (`ROOT_STEPS`, `OBJECT_STEPS`, keyed by the
  resolver function): the directory, `countries`, `Country.organizations`,
  `Country.memberCount`; and `_entities` of sources.ENTITIES_BY_ID.

A subscription's one root field is answered for each event from the event's object (the
root value): its attributes, the objects of SOURCES types it holds and its relations.
"""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInt,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    GraphQLUnionType,
    OperationDefinitionNode,
    OperationType,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues
from sqlalchemy.orm import InstrumentedAttribute, aliased

from club.access import Audience
from db import models
from resolvers.loaders import ListLoader, Loaders, RowLoader
from resolvers.organizations import BY_NAME
from resolvers.row_reads import RowsBy, RowsGroupedBy
from schema.compiled.nodes import (
    Arguments,
    Column,
    ConnectionField,
    ConstantField,
    Countries,
    Directory,
    Edges,
    Entities,
    EventRoot,
    Field,
    GlobalId,
    Held,
    Joined,
    Link,
    MemberCount,
    OrganizationsOfCountry,
    PageInfo,
    Plan,
    Relation,
    Restricted,
    RootField,
    RootTypename,
    Selection,
    TotalCount,
    Typename,
)
from schema.compiled.sources import ENTITIES_BY_ID, EVENTS, SOURCES, Source
from schema.countries import Country, CountryQueries
from schema.fields import facts_of
from schema.organizations import CountryOrganizations, OrganizationQueries
from schema.strawberry_private import strawberry_class_of, strawberry_field_of

# The outer joins one statement takes (`Joined`); a to-one relation past them is read by a
# statement of its own (`Link`). SQLite joins at most 64 tables in a statement, and the
# operation limits (depth, aliases) allow selections of more to-one relations than that.
MAX_JOINS = 32
# Types whose values the driver returns exactly as graphql-core sends them.
AS_READ = frozenset({GraphQLString.name, GraphQLInt.name, GraphQLBoolean.name})
PAGE_INFO_FIELDS = frozenset({"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"})


class NotPlannable(Exception):
    """The operation selects something the planner does not cover: the reference executor
    runs it."""


class _Columns:
    """The columns one statement reads, each once, its table's primary key first; and the
    outer joins of the to-one relations it reads with them (`Joined`), in order."""

    def __init__(self, primary_key: InstrumentedAttribute[Any]) -> None:
        self.columns: list[InstrumentedAttribute[Any]] = [primary_key]
        self.joins: list[tuple[Any, Any]] = []

    def index(self, column: InstrumentedAttribute[Any]) -> int:
        if column not in self.columns:
            self.columns.append(column)
        return self.columns.index(column)


def _serializer(type_: GraphQLOutputType) -> Callable[[Any], Any] | None:
    named = get_nullable_type(type_)
    if is_list_type(named) or not is_leaf_type(named):
        raise NotPlannable(f"a column of type {type_}")
    if isinstance(named, GraphQLScalarType) and named.name in AS_READ:
        return None
    if isinstance(named, GraphQLEnumType):
        return _enum_names(named)
    return named.serialize


def _enum_names(enum_type: GraphQLEnumType) -> Callable[[Any], Any]:
    """An enum's `serialize` as a lookup: each Python member's name, computed once by the
    type's own `serialize` (strawberry's compares the value with each of the enum's values,
    for every value it formats: 14 % of S3's CPU on the compiled path). A value that is not a
    member goes to `serialize`."""
    wrapped = getattr(enum_type, "wrapped_cls", None)
    serialize = enum_type.serialize
    if wrapped is None:
        return serialize
    names = {member: serialize(member) for member in wrapped}

    def name_of(value: Any) -> Any:
        name = names.get(value)
        return serialize(value) if name is None else name

    return name_of


class Planner:
    """Plans one operation, with the request's fragments and variables (only `@skip` and
    `@include` read them here: the plan cache keys plans by those values)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDetails],
        variables: VariableValues,
        operation: OperationDefinitionNode,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.operation = operation

    def plan(self) -> Plan:
        if self.operation.operation is OperationType.SUBSCRIPTION:
            return self._event_plan()
        if self.operation.operation is not OperationType.QUERY:
            raise NotPlannable(f"a {self.operation.operation.value}")
        root = self.schema.query_type
        assert root is not None, "the schema has a query type"
        return Plan(
            tuple(
                self._root_field(root, key, details)
                for key, details in self._root_fields(root).items()
            )
        )

    def _root_fields(self, root: GraphQLObjectType) -> dict[str, FieldDetailsList]:
        """The operation's root fields, collected as graphql-core collects them."""
        collected = collect_fields(
            self.schema, self.fragments, self.variables, root, self.operation
        )
        if collected.new_defer_usages:
            raise NotPlannable("@defer")
        return collected.grouped_field_set

    def _subfields(
        self, type_: GraphQLObjectType, details: FieldDetailsList
    ) -> dict[str, FieldDetailsList]:
        collected = collect_subfields(
            self.schema, self.fragments, self.variables, self.operation, type_, details
        )
        if collected.new_defer_usages:
            raise NotPlannable("@defer")
        return collected.grouped_field_set

    def _root_field(
        self, root: GraphQLObjectType, key: str, details: FieldDetailsList
    ) -> RootField:
        name = details[0].node.name.value
        if name == "__typename":
            return RootTypename(key, root.name)
        if name not in root.fields:
            raise NotPlannable(f"introspection: {name}")
        definition = root.fields[name]
        if name == "_entities":
            return self._entities(key, definition, details)
        declared = strawberry_field_of(definition)
        step = None
        if declared is not None and declared.base_resolver is not None:
            step = ROOT_STEPS.get(declared.base_resolver.wrapped_func)
        if step is None:
            raise NotPlannable(f"Query.{name}")
        return step(self, key, definition, details)

    def _object_type(self, type_: GraphQLOutputType) -> GraphQLObjectType:
        named = get_named_type(type_)
        if not isinstance(named, GraphQLObjectType):
            raise NotPlannable(f"a field of type {type_}")
        return named

    def selection(
        self,
        type_: GraphQLObjectType,
        details: FieldDetailsList,
        *needed: InstrumentedAttribute[Any],
        joins: bool = True,
    ) -> Selection:
        """The selection on `type_`, the first of its statement, reading also the `needed`
        columns; its to-one relations joined into that statement (`joins`), or each read
        by a statement of its own."""
        source = SOURCES.get(type_.name)
        if source is None:
            raise NotPlannable(f"the type {type_.name}")
        table = _Table(source, source.model)
        columns = _Columns(table.primary_key)
        for column in needed:
            columns.index(column)
        fields, relations = self._fields(type_, details, table, columns, joins)
        return Selection(
            type_.name, tuple(columns.columns), fields, relations, tuple(columns.joins)
        )

    def _fields(
        self,
        type_: GraphQLObjectType,
        details: FieldDetailsList,
        table: "_Table",
        columns: _Columns,
        joins: bool,
    ) -> tuple[tuple[Field, ...], tuple[Relation, ...]]:
        fields: list[Field] = []
        relations: list[Relation] = []
        for key, group in self._subfields(type_, details).items():
            field = self._object_field(table, type_, key, group, columns, joins)
            fields.append(field)
            if hasattr(field, "fill"):
                relations.append(field)  # type: ignore[arg-type]
        return tuple(fields), tuple(relations)

    def _object_field(
        self,
        table: "_Table",
        type_: GraphQLObjectType,
        key: str,
        details: FieldDetailsList,
        columns: _Columns,
        joins: bool,
    ) -> Field:
        name = details[0].node.name.value
        if name == "__typename":
            return Typename(key, type_.name)
        if name == "id":
            return GlobalId(key, type_.name, columns.index(table.primary_key))
        definition = type_.fields[name]
        declared = strawberry_field_of(definition)
        if declared is None:
            raise NotPlannable(f"{type_.name}.{name}")
        if declared.base_resolver is not None:
            step = OBJECT_STEPS.get(declared.base_resolver.wrapped_func)
            if step is not None:
                return step(self, key, definition, details, table, columns)
        facts = facts_of(definition)
        audience = Audience.PUBLIC if facts is None else facts.audience
        if facts is not None and facts.loader is not None and audience is Audience.PUBLIC:
            return self._link(table, key, definition, details, columns, joins)
        column = table.column(declared.python_name)
        if declared.base_resolver is not None or definition.args or column is None:
            raise NotPlannable(f"{type_.name}.{name}")
        value = Column(
            key,
            columns.index(column),
            _serializer(definition.type),
            nullable=not is_non_null_type(definition.type),
        )
        if audience is Audience.PUBLIC:
            return value
        owner = table.owner
        if owner is None or not value.nullable:
            raise NotPlannable(f"the members-only {type_.name}.{name}")
        return Restricted(value, audience, columns.index(owner))

    def _link(
        self,
        table: "_Table",
        key: str,
        definition: GraphQLField,
        details: FieldDetailsList,
        columns: _Columns,
        joins: bool,
    ) -> Link | Joined:
        by, reads = self._reads(definition)
        parent = table.primary_key if by == "pk" else table.column(by)
        if parent is None:
            raise NotPlannable(f"a relation by {by}")
        child_type = self._object_type(definition.type)
        nullable = not is_non_null_type(definition.type)
        if joins and isinstance(reads, RowsBy) and len(columns.joins) < MAX_JOINS:
            return self._joined(key, child_type, details, reads, parent, columns, nullable)
        return self._linked(key, definition, details, reads, columns.index(parent))

    def _reads(self, definition: GraphQLField) -> tuple[str, RowsBy | RowsGroupedBy]:
        """A public `relation(...)`'s key (the parent's attribute it is read by) and the
        statement its loader declares."""
        facts = facts_of(definition)
        assert facts is not None and facts.loader is not None and facts.key is not None
        loader = Loaders.__dict__[facts.loader]
        reads: RowsBy | RowsGroupedBy | None = None
        if isinstance(loader, RowLoader | ListLoader):
            reads = loader.reads
        if reads is None or facts.audience is not Audience.PUBLIC:
            raise NotPlannable(f"the relation {facts.loader}")
        return facts.key, reads

    def _linked(
        self,
        key: str,
        definition: GraphQLField,
        details: FieldDetailsList,
        reads: RowsBy | RowsGroupedBy,
        parent: int,
    ) -> Link:
        """A relation read by a statement of its own, keyed by the parent rows' `parent`th
        value."""
        child = self.selection(self._object_type(definition.type), details, reads.column)
        return Link(
            key,
            reads.batched(child.columns, child.joins),
            parent,
            child,
            child.columns.index(reads.column),
            many=isinstance(reads, RowsGroupedBy),
            nullable=not is_non_null_type(definition.type),
        )

    def _joined(
        self,
        key: str,
        type_: GraphQLObjectType,
        details: FieldDetailsList,
        reads: RowsBy,
        parent: InstrumentedAttribute[Any],
        columns: _Columns,
        nullable: bool,
    ) -> Joined:
        """A to-one relation read in its parent's statement: an outer join of an alias of the
        child's table on the column its loader reads by, its columns in the parent's rows."""
        source = SOURCES.get(type_.name)
        if source is None or reads.column.class_ is not source.model:
            raise NotPlannable(f"the type {type_.name}")
        table = _Table(source, aliased(source.model))
        by = table.column(reads.column.key)
        assert by is not None, f"{reads.column} is a column of {source.model.__name__}"
        columns.joins.append((table.entity, by == parent))
        present = columns.index(table.primary_key)
        fields, relations = self._fields(type_, details, table, columns, joins=True)
        child = Selection(type_.name, (), fields, relations)
        return Joined(key, child, present, nullable)

    def _event_plan(self) -> Plan:
        """A subscription's one root field, answered for each event from the object the
        event holds (strawberry resolves the field to it, whatever its arguments)."""
        root = self.schema.subscription_type
        assert root is not None, "a subscription was validated against a subscription type"
        # Validation lets a subscription select one root field, with no `@skip`/`@include`
        # and no introspection there.
        [(key, details)] = self._root_fields(root).items()
        definition = root.fields[details[0].node.name.value]
        event = get_nullable_type(definition.type)
        if not isinstance(event, GraphQLObjectType) or event.name not in EVENTS:
            raise NotPlannable(f"the events of {definition.type}")
        return Plan((self._event(key, event, details),))

    def _event(self, key: str, type_: GraphQLObjectType, details: FieldDetailsList) -> EventRoot:
        """The selection on an event's type: its attributes, the objects it holds (`Held`)
        and its relations (`Link`s keyed by an attribute)."""
        attributes: list[str] = []

        def index(name: str) -> int:
            if name not in attributes:
                attributes.append(name)
            return attributes.index(name)

        fields: list[Field] = []
        relations: list[Relation] = []
        for field_key, group in self._subfields(type_, details).items():
            field = self._event_field(type_, field_key, group, index)
            fields.append(field)
            if isinstance(field, Held | Link):
                relations.append(field)
        _has_attributes(type_, attributes)
        selection = Selection(type_.name, (), tuple(fields), tuple(relations))
        return EventRoot(key, tuple(attributes), selection)

    def _event_field(
        self,
        type_: GraphQLObjectType,
        key: str,
        details: FieldDetailsList,
        index: Callable[[str], int],
    ) -> Field:
        name = details[0].node.name.value
        if name == "__typename":
            return Typename(key, type_.name)
        definition = type_.fields[name]
        declared = strawberry_field_of(definition)
        facts = facts_of(definition)
        if declared is None or (facts is not None and facts.audience is not Audience.PUBLIC):
            raise NotPlannable(f"{type_.name}.{name}")
        if facts is not None and facts.loader is not None:
            by, reads = self._reads(definition)
            if by == "pk":
                raise NotPlannable(f"{type_.name}.{name}: an event has no primary key")
            return self._linked(key, definition, details, reads, index(by))
        if declared.base_resolver is not None or definition.args:
            raise NotPlannable(f"{type_.name}.{name}")
        nullable = not is_non_null_type(definition.type)
        leaf = get_nullable_type(definition.type)
        if isinstance(leaf, GraphQLScalarType | GraphQLEnumType):
            # Formatted by its type as the reference executor formats it, strings too: an
            # attribute is a Python value, not a column the driver read as its type says.
            serialize = _serializer(leaf) or leaf.serialize
            return Column(key, index(declared.python_name), serialize, nullable=nullable)
        if is_list_type(leaf):
            raise NotPlannable(f"{type_.name}.{name}")
        return self._held(key, definition, details, index(declared.python_name), nullable)

    def _held(
        self,
        key: str,
        definition: GraphQLField,
        details: FieldDetailsList,
        index: int,
        nullable: bool,
    ) -> Held:
        """An object an event holds, made by its type's `from_row` (which copies each column
        to the attribute of its name, the primary key to `pk`: sources.SOURCES). Its
        relations are read by statements of their own: the object is not read again."""
        type_ = self._object_type(definition.type)
        source = SOURCES.get(type_.name)
        if source is None:
            raise NotPlannable(f"the type {type_.name}")
        child = self.selection(type_, details, joins=False)
        if child.joins or any(column.class_ is not source.model for column in child.columns):
            # Each of its columns is read from an attribute of the object.
            raise NotPlannable(f"a held {type_.name} reading another table")
        primary_key = source.primary_key.key
        attributes = tuple(
            "pk" if column.key == primary_key else column.key for column in child.columns
        )
        _has_attributes(type_, attributes)
        return Held(key, index, attributes, child, nullable)

    def _entities(self, key: str, definition: GraphQLField, details: FieldDetailsList) -> Entities:
        union = get_named_type(definition.type)
        assert isinstance(union, GraphQLUnionType)
        selections = {
            member.name: self.selection(member, details)
            for member in union.types
            if member.name in ENTITIES_BY_ID
        }
        # A selection's first column is its primary key (`selection`).
        reads = {
            name: RowsBy(selection.columns[0]).batched(selection.columns, selection.joins)
            for name, selection in selections.items()
        }
        return Entities(key, self._arguments(definition, details), selections, reads)

    def _arguments(self, definition: GraphQLField, details: FieldDetailsList) -> Arguments:
        return Arguments(definition, details[0].node, details[0].fragment_variable_values)

    def directory(self, key: str, definition: GraphQLField, details: FieldDetailsList) -> Directory:
        connection = self._object_type(definition.type)
        fields: list[ConnectionField] = []
        nodes: list[Selection] = []
        counts_total = False
        for field_key, group in self._subfields(connection, details).items():
            name = group[0].node.name.value
            if name == "__typename":
                fields.append(ConstantField(field_key, connection.name))
            elif name == "totalCount":
                fields.append(TotalCount(field_key))
                counts_total = True
            elif name == "pageInfo":
                fields.append(self._page_info(field_key, connection.fields[name], group))
            elif name == "edges":
                fields.append(self._edges(field_key, connection.fields[name], group, nodes))
            else:
                raise NotPlannable(f"{connection.name}.{name}")
        if len(nodes) > 1:
            raise NotPlannable("two selections of the directory's nodes")
        if not nodes:
            # No node is selected: the page's rows still give the cursors.
            organization = self.schema.get_type("Organization")
            assert isinstance(organization, GraphQLObjectType)
            nodes.append(Selection(organization.name, (models.Organization.id,), (), ()))
        node = nodes[0]
        columns = _Columns(models.Organization.id)
        for column in (*node.columns, models.Organization.name):
            columns.index(column)
        node = Selection(
            node.type_name, tuple(columns.columns), node.fields, node.relations, node.joins
        )
        cursor = tuple(columns.index(column) for column in BY_NAME.columns)
        return Directory(
            key, self._arguments(definition, details), node, tuple(fields), counts_total, cursor
        )

    def _page_info(self, key: str, definition: GraphQLField, details: FieldDetailsList) -> PageInfo:
        type_ = self._object_type(definition.type)
        fields = []
        for field_key, group in self._subfields(type_, details).items():
            name = group[0].node.name.value
            if name != "__typename" and name not in PAGE_INFO_FIELDS:
                raise NotPlannable(f"{type_.name}.{name}")
            fields.append((field_key, name))
        return PageInfo(key, type_.name, tuple(fields))

    def _edges(
        self,
        key: str,
        definition: GraphQLField,
        details: FieldDetailsList,
        nodes: list[Selection],
    ) -> Edges:
        type_ = self._object_type(definition.type)
        fields = []
        for field_key, group in self._subfields(type_, details).items():
            name = group[0].node.name.value
            if name == "node":
                nodes.append(self.selection(self._object_type(type_.fields[name].type), group))
            elif name not in ("__typename", "cursor"):
                raise NotPlannable(f"{type_.name}.{name}")
            fields.append((field_key, name))
        return Edges(key, type_.name, tuple(fields))

    def countries(self, key: str, definition: GraphQLField, details: FieldDetailsList) -> Countries:
        return Countries(key, self.selection(self._object_type(definition.type), details))

    def organizations_of_country(
        self,
        key: str,
        definition: GraphQLField,
        details: FieldDetailsList,
        table: "_Table",
        columns: _Columns,
    ) -> OrganizationsOfCountry:
        # Its statement selects from a windowed subquery by the columns' names: no joins.
        child = self.selection(
            self._object_type(definition.type),
            details,
            models.Organization.country_id,
            joins=False,
        )
        return OrganizationsOfCountry(
            key,
            self._arguments(definition, details),
            columns.index(table.primary_key),
            child,
            child.columns.index(models.Organization.country_id),
        )

    def member_count(
        self,
        key: str,
        definition: GraphQLField,
        details: FieldDetailsList,
        table: "_Table",
        columns: _Columns,
    ) -> MemberCount:
        return MemberCount(key, columns.index(table.primary_key))


def _has_attributes(type_: GraphQLObjectType, attributes: list[str] | tuple[str, ...]) -> None:
    """`NotPlannable` unless the objects strawberry resolves `type_` from (its dataclass) have
    each of `attributes`."""
    held = strawberry_class_of(type_)
    names = set() if held is None else {field.name for field in dataclasses.fields(held)}
    missing = set(attributes) - names
    if missing:
        raise NotPlannable(f"{type_.name} objects without {sorted(missing)}")


@dataclass(frozen=True, slots=True)
class _Table:
    """Where a selection's columns come from: its type's table, or an alias of it (a
    joined relation's)."""

    source: Source
    entity: Any  # the model, or an alias of it

    def column(self, name: str) -> InstrumentedAttribute[Any] | None:
        """The column `name` of the model (as `Source.column`), on this table."""
        column = self.source.column(name)
        return None if column is None else getattr(self.entity, column.key)

    @property
    def primary_key(self) -> InstrumentedAttribute[Any]:
        return getattr(self.entity, self.source.primary_key.key)  # type: ignore[no-any-return]

    @property
    def owner(self) -> InstrumentedAttribute[Any] | None:
        owner = self.source.owner
        return None if owner is None else getattr(self.entity, owner.key)


RootStep = Callable[[Planner, str, GraphQLField, FieldDetailsList], RootField]
ObjectStep = Callable[[Planner, str, GraphQLField, FieldDetailsList, _Table, _Columns], Field]

# The fields with a resolver of their own that the planner answers, by that resolver (a
# strawberry type's class attribute is the function its field wraps).
ROOT_STEPS: dict[Any, RootStep] = {
    OrganizationQueries.organizations: Planner.directory,
    CountryQueries.countries: Planner.countries,
}
OBJECT_STEPS: dict[Any, ObjectStep] = {
    CountryOrganizations.organizations: Planner.organizations_of_country,
    Country.member_count: Planner.member_count,
}
