"""The glue every mutation shares: who may call it, its one transaction, typed refusals."""

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import ParamSpec, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession

from club.access import require_role
from club.enums import Role
from club.errors import PayloadRefusal
from resolvers.context import Info
from resolvers.loaders import Loaders

T = TypeVar("T")
P = ParamSpec("P")


def mutation(
    *roles: Role,
) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """Wrap a mutation body: refuse roles outside `roles` with a top-level FORBIDDEN; count a
    `PayloadRefusal` (raised inside the transaction, so it rolled back) and let it go on to
    the payload (schema/payloads.py); after a commit start fresh loaders, so that what the
    client selects on the result reflects the change, and wake this process's subscribers."""

    def decorate(body: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(body)
        async def run(*args: P.args, **kwargs: P.kwargs) -> T:
            info = cast(Info, args[0])
            context = info.context
            require_role(context.principal, *roles)
            try:
                value = await body(*args, **kwargs)
            except PayloadRefusal as refusal:
                if context.metrics is not None:
                    context.metrics.refusals.labels(info.field_name, refusal.code.value).inc()
                raise
            await context.release_reads()
            context.loaders = Loaders.for_request(context.session_factory)
            if context.feed is not None:
                context.feed.wake()  # committed: this process's subscribers hear it at once
            return value

        return run

    return decorate


@asynccontextmanager
async def transaction(info: Info) -> AsyncIterator[AsyncSession]:
    """The mutation's one transaction: committed when the block ends, rolled back when it
    raises (a PayloadRefusal included)."""
    await info.context.release_reads()
    async with info.context.write_session_factory() as session, session.begin():
        yield session
