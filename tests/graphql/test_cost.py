"""The measure of an operation: depth, aliases, directives, root fields, introspection and
estimated cost, on parsed documents (no database)."""

import gc
import tracemalloc

import pytest
from graphql import parse

from schema.cost import MUTATION_COST, OperationSize, measure
from schema.limits import _MEASURED, _measure
from schema.root import build_schema
from schema.strawberry_private import graphql_core_schema

SCHEMA = graphql_core_schema(build_schema())


def size_of(query: str, variables: dict[str, object] | None = None) -> OperationSize:
    (size,) = measure(SCHEMA, parse(query), variables, default_page_size=20, max_page_size=100)
    return size


@pytest.mark.parametrize(
    ("query", "variables", "cost"),
    [
        ("{ viewer { role } }", None, 1),
        ("{ country(code: \"KE\") { name code } }", None, 1),
        # A connection: 1 for itself, then per edge: the edge, the node, the country.
        ("{ organizations(first: 50) { edges { node { name country { code } } } } }", None, 151),
        ("query($n: Int) { organizations(first: $n) { edges { node { name } } } }", {"n": 7}, 15),
        # Without `first`, the default page; above the largest page, the largest page.
        ("{ organizations { edges { node { name } } } }", None, 41),
        ("{ organizations(first: 5000) { edges { node { name } } } }", None, 201),
        # Plain lists use their declared sizes, and nested lists multiply.
        ("{ countries { code } }", None, 250),
        ("{ countries { organizations(first: 3) { name } } }", None, 250 * (1 + 3)),
        ("{ countries { organizations { attendances { event { title } } } } }", None,
         250 * (1 + 100 * (1 + 20 * 2))),
        # A variable's default counts when the variable is not given; JSON numbers such as
        # 100.0 are integers to graphql-core.
        ("query($n: Int = 100) { organizations(first: $n) { edges { node { name } } } }",
         None, 201),
        ("query($n: Int) { organizations(first: $n) { edges { node { name } } } }",
         {"n": 100.0}, 201),
        ('query($r: [_Any!]! = [{__typename: "Country", code: "KE"}, {__typename: "Country",'
         ' code: "MD"}]) { _entities(representations: $r) { __typename } }', None, 2),
        # _entities: one per representation.
        (
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Country { name } } }",
            {"r": [{"__typename": "Country", "code": "KE"}] * 30},
            30,
        ),
        # Scalars and __typename are free; introspection is not costed.
        ("{ __typename viewer { __typename role } }", None, 1),
        ("{ __schema { types { name fields { name } } } }", None, 0),
        ("mutation { cancelEvent(id: \"x\") { errors { code } } }", None, MUTATION_COST + 1 + 5),
        # Sizes declared next to the field (schema/fields.py): invitations 10, errors 5.
        ("{ organizations { edges { node { invitationsSent { id } invitationsReceived { id } }"
         " } } }",
         None, 1 + 20 * (2 + 10 + 10)),
        ("mutation { acceptInvitation(id: \"x\") { errors { code } } }", None,
         MUTATION_COST + 1 + 5),
    ],
)  # fmt: skip
def test_cost(query: str, variables: dict[str, object] | None, cost: int) -> None:
    assert size_of(query, variables).cost == cost


def test_fragments_are_expanded_wherever_they_are_spread() -> None:
    query = """
      fragment Org on Organization { a: name b: name country { code @include(if: true) } }
      fragment Page on OrganizationConnection { edges { node { ...Org } } }
      query Directory {
        one: organizations(first: 2) { ...Page }
        two: organizations(first: 3) { ...Page }
      }
    """
    assert size_of(query) == OperationSize(
        name="Directory",
        depth=5,
        # each edge: edge, node, country
        cost=(1 + 2 * 3) + (1 + 3 * 3),
        # Aliases and directives are counted in the document, once per spread: one, two,
        # and a, b in each of the two spreads of Org.
        aliases=2 + 2 * 2,
        directives=2,
        introspection=0,
        root_fields=2,
        widest=3,  # a, b and country
    )


def test_a_fragment_cycle_ends_the_walk_and_validation_reports_it() -> None:
    size = size_of(
        "fragment A on Query { viewer { role } ...B } fragment B on Query { ...A } { ...A }"
    )
    assert (size.depth, size.root_fields) == (2, 1)


def test_exponentially_spread_fragments_are_measured_in_linear_time() -> None:
    # F0 has one alias; each Fk spreads F(k-1) twice: 2^40 aliases once expanded.
    fragments = ["fragment F0 on Query { a: __typename }"] + [
        f"fragment F{k} on Query {{ ...F{k - 1} ...F{k - 1} }}" for k in range(1, 41)
    ]
    size = size_of(" ".join(fragments) + " { ...F40 }")
    assert (size.aliases, size.root_fields) == (2**40, 2**40)


def test_unused_fragments_and_every_directive_are_measured() -> None:
    document = parse(
        "query($a: Int @x) @y { viewer { role } }"
        " fragment Spare on Query { viewer { role } }"
        " fragment Unused on Viewer @z { a: role b: role organization { name } }"
    )
    operation, also_unused, unused = measure(
        SCHEMA, document, None, default_page_size=20, max_page_size=100
    )
    assert operation.directives == 2
    assert [also_unused.name, unused.name] == ["fragment Spare", "fragment Unused"]
    assert (unused.aliases, unused.directives, unused.depth, unused.widest) == (2, 1, 2, 3)


def test_introspection_is_counted_apart_from_depth_and_cost() -> None:
    size = size_of(
        "{ a: __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } }"
        ' __type(name: "Query") { name } viewer { role } }'
    )
    assert (size.introspection, size.depth, size.cost, size.aliases, size.root_fields) == (
        2, 2, 1, 1, 3,
    )  # fmt: skip
    # The federation's `_service { sdl }` is the whole schema too.
    assert size_of("{ _service { sdl } }").introspection == 1


def test_remembered_measurements_keep_no_variables() -> None:
    """The measurement of a (query, variables) pair is remembered, but not the variables:
    a caller sending large distinct variables must not fill the process's memory."""
    query = (
        "query Directory($search: String) "
        "{ organizations(filter: {search: $search}) { totalCount } }"
    )
    document = parse(query)
    _MEASURED.clear()
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for number in range(20):
            (size,) = _measure(
                SCHEMA, query, document, {"search": f"{number}" * 100_000}, (20, 100)
            )
            assert size == size_of(query)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(_MEASURED) == 20  # each pair measured once and remembered
    # 20 variables of 100 kB each: 2 MB if they were kept; the measurements alone are small.
    assert after - before < 200_000
