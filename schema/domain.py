"""A domain's contribution to the root: its Query, Mutation and Subscription fields.

Each domain module ends with one `DOMAIN = Domain(...)`; schema/root.py lists the domains
and merges their parts into the root types (strawberry's `merge_types`), so a new domain is
one line there.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from strawberry.tools import merge_types


@dataclass(frozen=True, slots=True)
class Domain:
    query: type | None = None
    mutation: type | None = None
    subscription: type | None = None


def merge(name: str, parts: Sequence[type | None]) -> type | None:
    """One root type with every part's fields, in the parts' order (None: no part has any)."""
    present = [part for part in parts if part is not None]
    if not present:
        return None
    return merge_types(name, tuple(present))
