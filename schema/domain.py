"""A domain's contribution to the root: its Query, Mutation and Subscription fields.

Each domain module ends with one `DOMAIN = Domain(...)`; schema/root.py lists the domains
and merges their parts into the root types (strawberry's `merge_types`), so a new domain is
one line there.
"""

from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import TypeVar

from strawberry.tools import merge_types

from db.notifier import LiveEvent

T = TypeVar("T")


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


async def updates_as(
    events: AsyncGenerator[LiveEvent, None], to: Callable[[LiveEvent], T]
) -> AsyncGenerator[T, None]:
    """A subscription field's answer: each event its resolver follows, made the domain's type
    by `to`. Closing it (the client unsubscribes) closes the resolver's generator at once, so
    the feed forgets the subscriber.

    Every subscriber of one event gets the same object (kept with the event): the answer
    of one selection is then computed once for all of them (schema/fanout.py)."""
    async with aclosing(events):
        async for live in events:
            made = live.shared.get(to)
            if made is None:
                made = live.shared[to] = to(live)
            yield made
