"""Every fact about a field, declared once, next to the field.

- `field(...)`: a field with its facts: the audience that may see it (club/access.py), the
  length the cost limit assumes at most when it is a list (`list_size`) and how that length
  is observed in the data (`observed_by`, resolvers/list_sizes.py), and whether its value
  moves with the clock alone (`clock`; the response cache never stores such an answer), or
  does but is part of a snapshot stamped with the time it was computed (`snapshot`; cached).
- `relation(...)`: a field that is one loader call: which loader, keyed by which attribute
  of the parent, wrapped in which type. No hand-written resolver. A list relation is
  observed through its loader (a `ListLoader`), with no more said.
- `contributes_to(Type)`: a domain adds its relation fields to a type of a domain below it
  (`Organization.hostedEvents` is declared in schema/events.py), so modules import one way.

The cost limit (schema/cost.py) and the response cache (server/response_cache.py) read these
declarations from the built schema through `facts_of`; tests/graphql/test_declarations.py
fails when a list field has no size or a field whose resolver reads the clock says nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLField
from strawberry.extensions.field_extension import FieldExtension

from club.access import Audience
from resolvers.context import Info
from resolvers.list_sizes import Observation
from resolvers.loaders import ListLoader, Loaders
from schema.strawberry_private import add_fields, returns_nullable, strawberry_field_of
from schema.visibility import restricted

T = TypeVar("T")
FACTS = "clubjustice"


@dataclass(frozen=True, slots=True)
class FieldFacts:
    audience: Audience = Audience.PUBLIC
    # The longest the cost limit assumes a list is (None: not a list, or a connection).
    list_size: int | None = None
    # How its length is observed in the data; the estimate assumes the observed length plus
    # a margin, up to `list_size` (None: it assumes `list_size`).
    observed: Observation | None = None
    # Whether the value changes with time alone (an invitation's status once it expires).
    clock: bool = False
    # Whether it changes with time alone but belongs to a snapshot that states when it was
    # computed (`ClubStatistics.asOf`): a stored answer stays true of that moment, so unlike
    # a `clock` field the response cache keeps it until the next change.
    snapshot: bool = False
    # The loader (an attribute of resolvers.loaders.Loaders) behind a relation, and the
    # parent's attribute it is keyed by (its private `pk`, `country_id`, ...).
    loader: str | None = None
    key: str | None = None


def _metadata(facts: FieldFacts) -> dict[str, Any]:
    return {FACTS: facts}


def _extensions(audience: Audience) -> list[FieldExtension]:
    return restricted(audience) if audience is not Audience.PUBLIC else []


def field(
    resolver: Callable[..., Any] | None = None,
    *,
    description: str | None = None,
    audience: Audience = Audience.PUBLIC,
    list_size: int | None = None,
    observed_by: Observation | None = None,
    clock: bool = False,
    snapshot: bool = False,
) -> Any:
    """`strawberry.field` with the field's facts. Use it as a decorator or with `resolver=`.
    A list field reading the data names its observation: `observed_by=` a loader's
    (`Loaders.organizations_of_country.observed()`) or its own (`row_count(...)`)."""
    if observed_by is not None and list_size is None:
        raise TypeError(f"{observed_by.name}: only a list field (with a list_size) is observed")
    facts = FieldFacts(
        audience=audience,
        list_size=list_size,
        observed=observed_by,
        clock=clock,
        snapshot=snapshot,
    )
    options: dict[str, Any] = {
        "description": description,
        "extensions": _extensions(audience),
        "metadata": _metadata(facts),
    }
    if resolver is not None:
        return strawberry.field(resolver=resolver, **options)
    return strawberry.field(**options)


def relation(
    loader: str,
    *,
    key: str,
    to: Callable[[Any], Any],
    many: bool = False,
    list_size: int | None = None,
    audience: Audience = Audience.PUBLIC,
    description: str | None = None,
) -> Any:
    """A field answered by `Loaders.<loader>` for the parent's attribute `key`, each row made
    into the field's type by `to` (its `from_row`). A parent whose key is None has none; a
    key whose row is missing is null, or an error naming it when the field is non-null."""
    declared = getattr(Loaders, loader, None)
    if not isinstance(declared, property | cached_property):
        raise TypeError(f"Loaders has no loader {loader!r}")
    observed = None
    if many:
        if list_size is None:
            raise TypeError(f"the list relation {loader!r} needs a list_size for the cost limit")
        if not isinstance(declared, ListLoader):
            raise TypeError(
                f"the list relation {loader!r} needs a ListLoader (many_by, many_through), "
                "whose size the cost limit observes in the data"
            )
        observed = declared.observed()

    async def resolve(root: Any, info: Info) -> Any:
        value = getattr(root, key)
        if value is None:
            return None
        loaded = await getattr(info.context.loaders, loader).load(value)
        if many:
            return [to(row) for row in loaded]
        if loaded is None:
            if not returns_nullable(info):
                # A foreign key without its row: a bug (masked for the client), named here.
                raise LookupError(f"{loader}: no row for {key} = {value!r}")
            return None
        return to(loaded)

    # Without a return annotation strawberry takes the type from the class attribute.
    del resolve.__annotations__["return"]
    facts = FieldFacts(
        audience=audience, list_size=list_size, observed=observed, loader=loader, key=key
    )
    return strawberry.field(
        resolver=resolve,
        description=description,
        extensions=_extensions(audience),
        metadata=_metadata(facts),
    )


def contributes_to(target: type) -> Callable[[type[T]], type[T]]:
    """Add the fields of the decorated class, a subclass of `target` (a strawberry type of a
    lower domain), to `target`. Subclassing types `self` as the target."""

    def contribute(fields: type[T]) -> type[T]:
        add_fields(target, strawberry.type(fields))
        return fields

    return contribute


def facts_of(field_definition: GraphQLField) -> FieldFacts | None:
    """The facts declared on a field of the built schema (None: none were declared)."""
    strawberry_field = strawberry_field_of(field_definition)
    if strawberry_field is None:
        return None
    facts = strawberry_field.metadata.get(FACTS)
    return facts if isinstance(facts, FieldFacts) else None
