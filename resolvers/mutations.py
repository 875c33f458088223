"""The glue every mutation shares: who may call it, its one transaction, typed refusals."""

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import ParamSpec, TypeVar, cast

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from club.access import require_role
from club.enums import Role
from club.errors import PayloadRefusal, found
from db import idempotency
from db.base import Base
from resolvers.context import KEYED, Info, Keyed
from resolvers.loaders import Loaders

T = TypeVar("T")
R = TypeVar("R", bound=Base)
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
            keyed = KEYED.get()
            try:
                if keyed is None:
                    value = await body(*args, **kwargs)
                else:
                    value = await _once(info, keyed, lambda: body(*args, **kwargs))
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


async def _once(info: Info, keyed: Keyed, run: Callable[[], Awaitable[T]]) -> T:
    """The body, under the operation's idempotency key: the key is claimed first in the
    transaction the body then joins, and what the body returned is written down in that same
    transaction, so that the change and the record of it commit together or not at all. A
    retry finds the record (on PostgreSQL a concurrent one waits for this transaction to end)
    and gets the row the first try returned, as it is now, without running the body."""
    context = info.context
    claim = keyed.claim
    response_key = str(info.path.key)
    await context.release_reads()
    async with context.write_session_factory() as session, session.begin():
        results = await idempotency.hold(session, claim, context.now)
        if response_key in results:
            keyed.committed = True  # an earlier try's committed change answers this field
            return cast(T, await idempotency.result_of(session, results[response_key]))
        keyed.transaction = session
        try:
            value = await run()
        finally:
            keyed.transaction = None
        await idempotency.record_result(session, claim, results, response_key, cast(Base, value))
    keyed.committed = True
    return value


@asynccontextmanager
async def transaction(info: Info) -> AsyncIterator[AsyncSession]:
    """The mutation's one transaction: committed when the block ends, rolled back when it
    raises (a PayloadRefusal included). Under an idempotency key the decorator has opened it
    already (`_once`), and the body joins it."""
    keyed = KEYED.get()
    if keyed is not None and keyed.transaction is not None:
        yield keyed.transaction
        return
    await info.context.release_reads()
    async with info.context.write_session_factory() as session, session.begin():
        yield session


async def locked(
    session: AsyncSession, model: type[R], pk: int, what: str, field: str | None = "id"
) -> R:
    """The row of `model` whose primary key is `pk`, locked against concurrent changes until
    the transaction ends (FOR NO KEY UPDATE: inserts that merely reference it do not wait;
    SQLite's BEGIN IMMEDIATE admits one writer anyway), or NOT_FOUND naming `field`."""
    (key,) = inspect(model).primary_key
    statement = select(model).where(key == pk).with_for_update(key_share=True)
    return found(await session.scalar(statement), what, field)
