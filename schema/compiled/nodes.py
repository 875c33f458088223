"""The steps of a compiled plan (schema/compiled/planner.py makes them), each answering its
part of the response directly in the selection's shape.

An object selection (`Selection`) answers a list of rows with one dict per row: its fields in
the selection's order, each value formatted as the reference executor formats it. Its
relations (`Link`, `OrganizationsOfCountry`, `MemberCount`) each read one statement for all
the rows of their level, keyed by the parents' ids, and fill their place in each parent's dict.
The root fields (`Directory`, `Countries`, `Entities`) read the first level; a subscription's
(`EventRoot`) answers one event from the objects it holds (`Held`).

Nothing here raises a GraphQL error: where the reference executor would answer with one (an
argument it refuses, a null in a non-null place), the step raises `Unanswerable` and the
reference executor answers the request. An answer over the cost budget is refused instead
(`OverBudget`, run.py): each level counts its rows before building its objects, and the plan
checks the exact count once every root field is read.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NoReturn, Protocol

from graphql import FieldNode, GraphQLError, GraphQLField
from graphql.execution.values import FragmentVariableValues, VariableValues, get_argument_values
from sqlalchemy.orm import InstrumentedAttribute

from club.access import Audience, Principal, can_see
from club.cursors import encode_cursor
from club.errors import RequestError
from club.ids import encode_id, parse_id
from db import models
from db.prepared import Batched
from resolvers.countries import by_name
from resolvers.organizations import (
    BY_NAME,
    DIRECTORY_FILTERS,
    directory_statement,
    directory_values,
)
from resolvers.pagination import (
    count_of,
    follows_cursor,
    page_size,
    page_statement,
    page_values,
)
from resolvers.row_reads import (
    MEMBERS,
    Joins,
    counts_by,
    organizations_of_countries,
    outer_joined,
)
from schema.compiled.run import Row, Rows, Run, Unanswerable

Object = dict[str, Any]


class Field(Protocol):
    """A field of an object selection: its response key and its value for one row (a
    relation's place holds None until the relation fills it)."""

    @property
    def key(self) -> str: ...

    def value(self, row: Row, principal: Principal) -> Any: ...


class Relation(Field, Protocol):
    async def fill(self, run: Run, rows: Rows, objects: list[Object]) -> list[int]:
        """Read the relation for all `rows` at once and put it in each row's object; return
        how many objects each row's object holds through it (see `Selection.objects`)."""


@dataclass(frozen=True, slots=True)
class Arguments:
    """A field's arguments, coerced from the document and this request's variables."""

    definition: GraphQLField
    node: FieldNode
    fragment_variables: FragmentVariableValues | None

    def values(self, variables: VariableValues) -> dict[str, Any]:
        """Raises `Unanswerable` where graphql-core refuses them (a null variable for a
        non-null argument with a default): the reference executor's error, not a failure."""
        try:
            return get_argument_values(
                self.definition, self.node, variables, self.fragment_variables
            )
        except GraphQLError as error:
            raise Unanswerable(error.message) from error


@dataclass(frozen=True, slots=True)
class Typename:
    key: str
    name: str

    def value(self, row: Row, principal: Principal) -> Any:
        return self.name


@dataclass(frozen=True, slots=True)
class GlobalId:
    key: str
    type_name: str
    index: int

    def value(self, row: Row, principal: Principal) -> Any:
        return encode_id(self.type_name, row[self.index])


@dataclass(frozen=True, slots=True)
class Column:
    """A column's value, formatted by the field's GraphQL type (`serialize`: None for
    strings, integers and booleans, which the driver already returns as they are sent)."""

    key: str
    index: int
    serialize: Callable[[Any], Any] | None
    nullable: bool

    def value(self, row: Row, principal: Principal) -> Any:
        value = row[self.index]
        if value is None:
            return None if self.nullable else _null(self.key)
        return value if self.serialize is None else self.serialize(value)


@dataclass(frozen=True, slots=True)
class Restricted:
    """A members-only column (schema/visibility.py): null for callers outside its audience."""

    column: Column
    audience: Audience
    owner: int

    @property
    def key(self) -> str:
        return self.column.key

    def value(self, row: Row, principal: Principal) -> Any:
        if not can_see(self.audience, principal, frozenset((row[self.owner],))):
            return None
        return self.column.value(row, principal)


def _null(key: str) -> NoReturn:
    raise Unanswerable(f"null in the non-null field {key}")


def _absent(key: str) -> NoReturn:
    raise Unanswerable(f"no row for the non-null relation {key}")


Build = Callable[[Rows, Principal], list[Object]]


def object_builder(fields: tuple[Field, ...], *, inline: bool = True) -> Build:
    """The objects of rows, `{field.key: field.value(row, principal), …}` for each, as one
    generated comprehension: the typenames, ids and columns written into it (a column's
    index, its null check, its `serialize`), a joined to-one relation whose child holds no
    other kind of relation (`inlined`) written as its child's object in place, any other
    field called as its `value` (with `inline=False`, inlined relations too: their `fill`
    builds them). A call per field and row was most of the time spent building a walk's
    objects (S3), and filling a joined child apart from its parent about 5 % of
    `_entities`' (S4). The code holds only response keys (GraphQL names, written with
    `repr`) and indexes; values are passed in its namespace."""
    namespace: dict[str, Any] = {"_null": _null, "_absent": _absent, "encode_id": encode_id}
    entries = _entries(fields, namespace, inline)
    source = f"def build(rows, principal):\n    return [{{{', '.join(entries)}}} for row in rows]\n"
    exec(compile(source, f"<objects of {len(fields)} fields>", "exec"), namespace)
    return namespace["build"]  # type: ignore[no-any-return]


def _entries(fields: tuple[Field, ...], namespace: dict[str, Any], inline: bool) -> list[str]:
    """The `key: expression` of each field, for `object_builder`; the names it passes in
    are numbered across the nested selections of inlined relations."""
    entries = []
    for selected in fields:
        n = len(namespace)
        key = repr(selected.key)
        if isinstance(selected, Typename):
            entries.append(f"{key}: {selected.name!r}")
        elif isinstance(selected, GlobalId):
            namespace[f"type_{n}"] = selected.type_name
            entries.append(f"{key}: encode_id(type_{n}, row[{selected.index}])")
        elif isinstance(selected, Column):
            missing = "None" if selected.nullable else f"_null({key})"
            if selected.serialize is None:
                if selected.nullable:
                    entries.append(f"{key}: row[{selected.index}]")
                else:
                    value = f"row[{selected.index}]"
                    entries.append(f"{key}: ({value} if {value} is not None else {missing})")
            else:
                namespace[f"serialize_{n}"] = selected.serialize
                entries.append(
                    f"{key}: (serialize_{n}(value) if (value := row[{selected.index}]) is not None"
                    f" else {missing})"
                )
        elif inline and isinstance(selected, Joined) and selected.inlined:
            child = ", ".join(_entries(selected.child.fields, namespace, inline))
            missing = "None" if selected.nullable else f"_absent({key})"
            entries.append(
                f"{key}: ({{{child}}} if row[{selected.present}] is not None else {missing})"
            )
        else:
            namespace[f"field_{n}"] = selected
            entries.append(f"{key}: field_{n}.value(row, principal)")
    return entries


@dataclass(frozen=True, slots=True)
class Selection:
    """The fields selected on one object type, and the columns they read (`key_index`: the
    position of the column a relation's rows are matched to their parents by)."""

    type_name: str
    # The columns its statement selects (of its table, and of the tables `joins` adds); a
    # joined selection (`Joined`) selects none of its own: it reads its parent's rows.
    columns: tuple[InstrumentedAttribute[Any], ...]
    fields: tuple[Field, ...]
    relations: tuple[Relation, ...]
    joins: Joins = ()
    # Its generated builders (`object_builder`), each made on first use: `inlined` writes
    # its inlined joined children in place, `apart` leaves their places to their `fill`.
    # A selection a parent inlines needs neither unless that parent falls back to `apart`.
    _inlined: Build | None = field(default=None, init=False, compare=False, repr=False)
    _apart: Build | None = field(default=None, init=False, compare=False, repr=False)

    async def objects(
        self, run: Run, rows: Rows, *, inline: bool = True
    ) -> tuple[list[Object], list[int]]:
        """One object per row, and how many objects each one is with all it holds: the
        reference executor counts every occurrence against the cost budget, and one row's
        object may occur in many places (an event's host, under each attendance).

        The rows of each level are counted before its objects are built, a relation's after
        its parent's and in the order of `relations`. Inlined children are built with their
        parent, before their rows are counted; so when that build finds something the plan
        cannot answer (a null in a non-null field, a missing non-null child), the objects
        are built again apart (`inline=False`), each child counted and built by its
        relation's `fill` in that order: a request whose rows pass the budget first is still
        refused over it, as when no child was inlined."""
        run.read(len(rows))
        principal = run.context.principal
        try:
            objects = self._builder(inline)(rows, principal)
        except Unanswerable:
            if not inline:
                raise
            inline = False
            objects = self._builder(inline)(rows, principal)
        weights = [1] * len(rows)
        for relation in self.relations:
            if inline and isinstance(relation, Joined) and relation.inlined:
                held = relation.weigh(run, rows)
            else:
                held = await relation.fill(run, rows, objects)
            weights = [weight + more for weight, more in zip(weights, held, strict=True)]
        return objects, weights

    def _builder(self, inline: bool) -> Build:
        """The generated builder (`object_builder`) with or without its inlined children in
        place, made on first use."""
        slot = "_inlined" if inline else "_apart"
        build: Build | None = getattr(self, slot)
        if build is None:
            build = object_builder(self.fields, inline=inline)
            object.__setattr__(self, slot, build)
        return build


def _keys(rows: Rows, index: int) -> set[Any]:
    keys = {row[index] for row in rows}
    keys.discard(None)
    return keys


@dataclass(frozen=True, slots=True)
class Children:
    """A relation's rows, their objects and weights, and the position of the column that
    matches each to its parent's key."""

    rows: Rows
    objects: list[Object]
    weights: list[int]
    key: int


def _fill_lists(
    key: str, rows: Rows, objects: list[Object], parent_key: int, children: Children
) -> list[int]:
    """Each parent's list of the children whose key is the parent's."""
    groups: dict[Any, list[Object]] = defaultdict(list)
    weights: dict[Any, int] = defaultdict(int)
    for row, child, weight in zip(children.rows, children.objects, children.weights, strict=True):
        groups[row[children.key]].append(child)
        weights[row[children.key]] += weight
    held = []
    for row, parent in zip(rows, objects, strict=True):
        parent[key] = groups.get(row[parent_key], [])
        held.append(weights.get(row[parent_key], 0))
    return held


def _fill_one(
    key: str,
    nullable: bool,
    objects: list[Object],
    children: Iterable[tuple[Object | None, int]],
) -> list[int]:
    """Each parent's one child (None: no row) under `key`, and its weight; `Unanswerable`
    for a missing child of a non-null relation (the reference executor's error)."""
    held = []
    for parent, (child, weight) in zip(objects, children, strict=True):
        if child is None and not nullable:
            _absent(key)
        parent[key] = child
        held.append(weight)
    return held


@dataclass(frozen=True, slots=True)
class Link:
    """A `relation(...)` field: its loader's statement (`reads`) for all parents at once."""

    key: str
    # Its loader's statement for the child's columns, the parents' keys bound at each run.
    reads: Batched
    parent: int
    child: Selection
    child_key: int
    many: bool
    nullable: bool

    def value(self, row: Row, principal: Principal) -> Any:
        return None

    async def fill(self, run: Run, rows: Rows, objects: list[Object]) -> list[int]:
        keys = _keys(rows, self.parent)
        child_rows = await run.batch(self.reads, keys) if keys else ()
        children = Children(child_rows, *await self.child.objects(run, child_rows), self.child_key)
        if self.many:
            return _fill_lists(self.key, rows, objects, self.parent, children)
        found = {
            row[self.child_key]: (child, weight)
            for row, child, weight in zip(
                child_rows, children.objects, children.weights, strict=True
            )
        }
        none = (None, 0)
        each = (found.get(row[self.parent], none) for row in rows)
        return _fill_one(self.key, self.nullable, objects, each)


@dataclass(frozen=True, slots=True)
class Joined:
    """A to-one `relation(...)` read in its parent's statement, by an outer join on the
    column its loader reads by (`one_by`): its child's columns are in the parent's rows, and
    a parent without one has nulls there (`present`: where the child's primary key is).
    One statement less than `Link`, for each such relation of a plan.

    When its child holds no relation but joined ones like it (`inlined`), the parent's
    builder writes the child's object in place (`object_builder`), and `weigh` only counts
    the child rows and weighs them, in the order and with the counts `fill` keeps
    (`Selection.objects` says which it calls)."""

    key: str
    child: Selection
    present: int
    nullable: bool
    inlined: bool = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "inlined",
            all(isinstance(r, Joined) and r.inlined for r in self.child.relations),
        )

    def value(self, row: Row, principal: Principal) -> Any:
        return None

    async def fill(self, run: Run, rows: Rows, objects: list[Object]) -> list[int]:
        present = self.present
        child_rows = [row for row in rows if row[present] is not None]
        built = iter(zip(*await self.child.objects(run, child_rows), strict=True))
        none = (None, 0)
        each = (none if row[present] is None else next(built) for row in rows)
        return _fill_one(self.key, self.nullable, objects, each)

    def weigh(self, run: Run, rows: Rows) -> list[int]:
        """An inlined child's weight under each row (0: none), its rows counted as
        `Selection.objects` counts them; the parent's builder has made the objects (and
        refused a missing non-null child)."""
        present = self.present
        if not self.child.relations:
            held = [0 if row[present] is None else 1 for row in rows]
            run.read(sum(held))
            return held
        child_rows = [row for row in rows if row[present] is not None]
        run.read(len(child_rows))
        weights = [1] * len(child_rows)
        for relation in self.child.relations:
            assert isinstance(relation, Joined)
            more = relation.weigh(run, child_rows)
            weights = [weight + extra for weight, extra in zip(weights, more, strict=True)]
        child_weights = iter(weights)
        return [0 if row[present] is None else next(child_weights) for row in rows]


@dataclass(frozen=True, slots=True)
class Held:
    """An object a subscription event holds (`MemberJoined.organization`, a strawberry object
    its type's `from_row` made from the row the event read): its row is made from the
    object's attributes (`attributes`: the one copied from each of the child's columns, the
    primary key's being `pk`), and its relations read as any row's."""

    key: str
    # Where the parent's row holds the object.
    index: int
    attributes: tuple[str, ...]
    child: Selection
    nullable: bool

    def value(self, row: Row, principal: Principal) -> Any:
        return None

    async def fill(self, run: Run, rows: Rows, objects: list[Object]) -> list[int]:
        held = [row[self.index] for row in rows]
        attributes = self.attributes
        child_rows = [
            tuple(getattr(one, name) for name in attributes) for one in held if one is not None
        ]
        built = iter(zip(*await self.child.objects(run, child_rows), strict=True))
        none = (None, 0)
        each = (none if one is None else next(built) for one in held)
        return _fill_one(self.key, self.nullable, objects, each)


@dataclass(frozen=True, slots=True)
class OrganizationsOfCountry:
    """`Country.organizations(first, status)`: the windowed statement of its loader."""

    key: str
    arguments: Arguments
    parent: int
    child: Selection
    child_key: int

    def value(self, row: Row, principal: Principal) -> Any:
        return None

    async def fill(self, run: Run, rows: Rows, objects: list[Object]) -> list[int]:
        given = self.arguments.values(run.variables)
        settings = run.context.settings
        first = given.get("first")
        try:
            limit = page_size(settings.max_page_size if first is None else first, settings)
        except RequestError as error:
            raise Unanswerable(error.message) from error
        keys = _keys(rows, self.parent)
        status = given.get("status")
        statement = organizations_of_countries(self.child.columns, keys, limit, status)
        shared_as = (self, frozenset(keys), limit, status)
        child_rows = await run.rows(statement, shared_as) if keys else ()
        children = Children(child_rows, *await self.child.objects(run, child_rows), self.child_key)
        return _fill_lists(self.key, rows, objects, self.parent, children)


@dataclass(frozen=True, slots=True)
class MemberCount:
    """`Country.memberCount`: its loader's one counting statement for all countries."""

    key: str
    parent: int

    def value(self, row: Row, principal: Principal) -> Any:
        return None

    async def fill(self, run: Run, rows: Rows, objects: list[Object]) -> list[int]:
        keys = _keys(rows, self.parent)
        statement = counts_by(models.Organization.country_id, keys, MEMBERS)
        read = await run.rows(statement, (self, frozenset(keys))) if keys else ()
        counts = {row[0]: row[1] for row in read}
        for row, parent in zip(rows, objects, strict=True):
            parent[self.key] = counts.get(row[self.parent], 0)
        return [0] * len(rows)


class RootField(Protocol):
    @property
    def key(self) -> str: ...

    async def answer(self, run: Run) -> Any: ...


@dataclass(frozen=True, slots=True)
class RootTypename:
    key: str
    name: str

    async def answer(self, run: Run) -> Any:
        return self.name


@dataclass(frozen=True, slots=True)
class EventRoot:
    """A subscription's root field, answered for one event: the event's object (the run's
    root value, as strawberry resolves the field) as a row of its `attributes`."""

    key: str
    attributes: tuple[str, ...]
    selection: Selection

    async def answer(self, run: Run) -> Any:
        row = tuple(getattr(run.root, name) for name in self.attributes)
        objects, weights = await self.selection.objects(run, [row])
        run.produced(sum(weights))
        return objects[0]


@dataclass(frozen=True, slots=True)
class Countries:
    """`Query.countries`: every country, by name."""

    key: str
    child: Selection

    async def answer(self, run: Run) -> Any:
        rows = await run.rows(outer_joined(by_name(*self.child.columns), self.child.joins))
        objects, weights = await self.child.objects(run, rows)
        run.produced(sum(weights))
        return objects


@dataclass(frozen=True, slots=True)
class Page:
    """One page of the directory, as the connection's fields read it."""

    cursors: list[str]
    nodes: list[Object]
    # How many objects the nodes are, with all they hold.
    node_weight: int
    has_next_page: bool
    has_previous_page: bool
    total: int | None


class ConnectionField(Protocol):
    @property
    def key(self) -> str: ...

    def value(self, run: Run, page: Page) -> Any: ...


@dataclass(frozen=True, slots=True)
class ConstantField:
    """`__typename` of a connection, an edge or a page info."""

    key: str
    name: str

    def value(self, run: Run, page: Page) -> Any:
        return self.name


@dataclass(frozen=True, slots=True)
class TotalCount:
    key: str

    def value(self, run: Run, page: Page) -> Any:
        return page.total


@dataclass(frozen=True, slots=True)
class PageInfo:
    """`pageInfo`: `fields` are (response key, what it says) pairs, what being one of
    `__typename` (with `name`), `hasNextPage`, `hasPreviousPage`, `startCursor`,
    `endCursor`."""

    key: str
    name: str
    fields: tuple[tuple[str, str], ...]

    def value(self, run: Run, page: Page) -> Any:
        run.produced(1)
        facts = {
            "__typename": self.name,
            "hasNextPage": page.has_next_page,
            "hasPreviousPage": page.has_previous_page,
            "startCursor": page.cursors[0] if page.cursors else None,
            "endCursor": page.cursors[-1] if page.cursors else None,
        }
        return {key: facts[what] for key, what in self.fields}


@dataclass(frozen=True, slots=True)
class Edges:
    """`edges`: `fields` are (response key, what) pairs, what being `__typename` (with
    `name`), `cursor` or `node` (at most one node per edge: the page reads one selection)."""

    key: str
    name: str
    fields: tuple[tuple[str, str], ...]

    def value(self, run: Run, page: Page) -> Any:
        nodes = sum(1 for _, what in self.fields if what == "node")
        run.produced(len(page.nodes) + nodes * page.node_weight)
        edges = []
        for cursor, node in zip(page.cursors, page.nodes, strict=True):
            facts = {"__typename": self.name, "cursor": cursor, "node": node}
            edges.append({key: facts[what] for key, what in self.fields})
        return edges


def _filter(given: Any) -> dict[str, Any]:
    """The directory's filter as `directory`'s keyword arguments (only what was given)."""
    if given is None:
        return {}
    return {
        name: given[field]
        for field, name in (
            ("status", "status"),
            ("countryCode", "country_code"),
            ("search", "search"),
        )
        if given.get(field) is not None
    }


@dataclass(frozen=True, slots=True)
class Directory:
    """`Query.organizations(first, after, filter)`: one page of the directory by name (its
    statement, `resolvers/organizations.py` `directory`), and `totalCount` when selected."""

    key: str
    arguments: Arguments
    node: Selection
    fields: tuple[ConnectionField, ...]
    counts_total: bool
    # Where the node's row holds the cursor's columns (BY_NAME's).
    cursor: tuple[int, ...]
    # The page's and the count's statements by their parameters' names (`_statements`).
    shapes: dict[frozenset[str], tuple[Batched, Batched]] = field(
        default_factory=dict, compare=False
    )

    def _values(self, run: Run) -> tuple[dict[str, Any], int]:
        """The values of this request's page and count statements, and its page size."""
        given = self.arguments.values(run.variables)
        try:
            values = directory_values(**_filter(given.get("filter")))
            first = page_size(given.get("first"), run.context.settings)
            values |= page_values(BY_NAME, first=first, after=given.get("after"))
        except RequestError as error:
            raise Unanswerable(error.message) from error
        return values, first

    def _statements(self, names: frozenset[str]) -> tuple[Batched, Batched]:
        """The page's statement and the count's for the parameters `names`: built once per
        combination of the filters and the cursor (a few), each compiled once per dialect."""
        statements = self.shapes.get(names)
        if statements is None:
            matching = directory_statement(names & DIRECTORY_FILTERS)
            selected = outer_joined(
                matching.with_only_columns(*self.node.columns),
                self.node.joins,
            )
            page = page_statement(selected, BY_NAME, after=follows_cursor(names))
            statements = self.shapes[names] = (Batched(page), Batched(count_of(matching)))
        return statements

    async def answer(self, run: Run) -> Any:
        values, first = self._values(run)
        page_read, count_read = self._statements(frozenset(values))
        rows = await run.bound(page_read, values)
        shown = rows[:first]
        run.produced(1)
        nodes: list[Object] = []
        weights: list[int] = []
        if any(isinstance(field, Edges) for field in self.fields):
            # Only edges hold the rows' objects (each row is an edge, and maybe its node):
            # a page of `totalCount` or `pageInfo` alone holds none of them.
            nodes, weights = await self.node.objects(run, shown)
        order, at = BY_NAME, self.cursor
        page = Page(
            cursors=[encode_cursor(order.name, order.key_at(row, at)) for row in shown],
            nodes=nodes,
            node_weight=sum(weights),
            has_next_page=len(rows) > first,
            has_previous_page=follows_cursor(values),
            total=(await run.bound(count_read, values))[0][0] if self.counts_total else None,
        )
        return {field.key: field.value(run, page) for field in self.fields}


@dataclass(frozen=True, slots=True)
class Entities:
    """`_entities(representations)` of the types read by `id` (sources.ENTITIES_BY_ID): one
    statement per type, each entity null when its row is missing, as `resolve_reference`."""

    key: str
    arguments: Arguments
    selections: dict[str, Selection]
    # Each type's rows by primary key (a selection's first column), for the ids at each run.
    reads: dict[str, Batched]

    def _wanted(self, run: Run) -> list[tuple[str, int]]:
        wanted = []
        for representation in self.arguments.values(run.variables)["representations"]:
            if not isinstance(representation, dict):
                raise Unanswerable("a representation that is not an object")
            type_name = representation.get("__typename")
            if type_name not in self.selections:
                raise Unanswerable(f"a representation of {type_name!r}")
            pk = parse_id(type_name, representation.get("id"))
            if pk is None:
                raise Unanswerable("a representation without a valid id")
            wanted.append((type_name, pk))
        return wanted

    async def answer(self, run: Run) -> Any:
        wanted = self._wanted(run)
        found: dict[tuple[str, int], tuple[Object, int]] = {}
        for type_name, selection in self.selections.items():
            keys = {pk for name, pk in wanted if name == type_name}
            if not keys:
                continue
            rows = await run.batch(self.reads[type_name], keys)
            objects, weights = await selection.objects(run, rows)
            for row, entity, weight in zip(rows, objects, weights, strict=True):
                found[(type_name, row[0])] = (entity, weight)
        entities = [found.get(entity, (None, 0)) for entity in wanted]
        run.produced(sum(weight for _, weight in entities))
        return [entity for entity, _ in entities]


@dataclass(frozen=True, slots=True)
class Plan:
    """A query's root fields, answered one after the other (each level one statement)."""

    fields: tuple[RootField, ...]

    async def answer(self, run: Run) -> Object:
        """The data, once every root field is read and the whole answer is within the budget
        (`OverBudget` otherwise)."""
        data = {field.key: await field.answer(run) for field in self.fields}
        run.check_budget()
        return data
