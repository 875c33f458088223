"""The idempotency_keys table: claim a key inside a mutation's transaction, answer retries."""

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from club.idempotency import KEY_LIFETIME, Claim, reused
from db.activity import subject_models
from db.base import Base
from db.engine import ReadSessions, SessionFactory
from db.models import IdempotencyKey


def _this(claim: Claim) -> Any:
    return (IdempotencyKey.scope == claim.scope) & (IdempotencyKey.key == claim.key)


async def earlier(
    session_factory: ReadSessions, claim: Claim, now: datetime
) -> IdempotencyKey | None:
    """The key's row from an earlier try, if it has not expired; IDEMPOTENCY_KEY_REUSED when
    that try was another operation."""
    async with session_factory() as session:
        row = await session.scalar(
            select(IdempotencyKey).where(_this(claim), IdempotencyKey.expires_at > now)
        )
    if row is not None and row.fingerprint != claim.fingerprint:
        raise reused()
    return row


async def hold(session: AsyncSession, claim: Claim, now: datetime) -> dict[str, Any]:
    """Claim the key in the mutation's transaction, before anything else it does, and return
    what earlier tries' mutations returned (response key → [model, id]).

    The row is inserted if missing and locked: a concurrent retry on PostgreSQL waits on the
    uncommitted row (the unique index) until this transaction ends, then finds it; SQLite's
    BEGIN IMMEDIATE has already made it wait. An expired row is dropped first."""
    await session.execute(
        delete(IdempotencyKey).where(_this(claim), IdempotencyKey.expires_at <= now)
    )
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(
        dialect.insert(IdempotencyKey)
        .values(
            scope=claim.scope,
            key=claim.key,
            fingerprint=claim.fingerprint,
            results={},
            created_at=now,
            expires_at=now + KEY_LIFETIME,
        )
        .on_conflict_do_nothing(index_elements=["scope", "key"])
    )
    row = (
        await session.execute(
            select(IdempotencyKey.fingerprint, IdempotencyKey.results)
            .where(_this(claim))
            .with_for_update()
        )
    ).one()
    if row.fingerprint != claim.fingerprint:
        raise reused()
    return dict(row.results or {})


async def record_result(
    session: AsyncSession, claim: Claim, results: dict[str, Any], response_key: str, value: Base
) -> None:
    """Write down, in the mutation's transaction, what the field at `response_key` returned."""
    pk: object = value.__mapper__.primary_key_from_instance(value)[0]
    identity = [type(value).__name__, pk]
    await session.execute(
        update(IdempotencyKey)
        .where(_this(claim))
        .values(results={**results, response_key: identity})
    )


async def result_of(session: AsyncSession, identity: list[Any]) -> Base:
    """The row an earlier try's mutation returned, as it is now."""
    model_name, pk = identity
    row = await session.get(subject_models()[model_name], pk, populate_existing=True)
    if row is None:
        raise LookupError(f"{model_name} {pk}, returned by an earlier try, is gone")
    return row


async def store_response(
    session_factory: SessionFactory,
    claim: Claim,
    now: datetime,
    response: dict[str, Any],
    *,
    committed: bool,
) -> None:
    """Keep the operation's answer for its retries: on the row its first committed mutation
    wrote, or on a new row when none committed (every field refused: that refusal is the
    answer too). A try that committed nothing never writes over a row another try's change
    committed; a concurrent try's row wins. Expired rows of this caller are dropped."""
    async with session_factory() as session, session.begin():
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        await session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.scope == claim.scope, IdempotencyKey.expires_at <= now
            )
        )
        if committed:
            await session.execute(
                update(IdempotencyKey)
                .where(
                    _this(claim),
                    IdempotencyKey.fingerprint == claim.fingerprint,
                    IdempotencyKey.response.is_(None),
                )
                .values(response=response)
            )
        else:
            dialect_insert: Any = dialect.insert(IdempotencyKey)
            await session.execute(
                dialect_insert.values(
                    scope=claim.scope,
                    key=claim.key,
                    fingerprint=claim.fingerprint,
                    results={},
                    response=response,
                    created_at=now,
                    expires_at=now + KEY_LIFETIME,
                ).on_conflict_do_nothing(index_elements=["scope", "key"])
            )
