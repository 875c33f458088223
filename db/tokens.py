"""API tokens: random, shown once, stored only as a SHA-256 hash."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Dialect, Result, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from club.enums import TOKEN_ROLES, ActivityKind, OrganizationStatus, Role
from db.activity import append_activity
from db.engine import RequestReads
from db.models import ActivityLogEntry, ApiToken, Organization

TOKEN_PREFIX = "cj_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class TokenOwner:
    """Who a valid token acts as, read when the request arrives."""

    token_id: int
    role: Role
    organization_id: int | None
    organization_is_member: bool
    # The activity log's highest id, read in the same statement: the response cache's
    # high-water mark for this request (server/response_cache.py), at no extra round trip.
    activity_high_water: int = 0


async def create_token(
    session: AsyncSession,
    role: Role,
    *,
    organization_id: int | None = None,
    label: str | None = None,
) -> tuple[ApiToken, str]:
    """A new token; the plain text is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = await store_token(session, token, role, organization_id=organization_id, label=label)
    return row, token


async def store_token(
    session: AsyncSession,
    token: str,
    role: Role,
    *,
    organization_id: int | None = None,
    label: str | None = None,
) -> ApiToken:
    """Store the hash of a token made elsewhere (random, or a demo token: db/demo.py)."""
    if role not in TOKEN_ROLES:
        raise ValueError(f"no token has the {role.value} role")
    if (role is Role.ORGANIZATION) != (organization_id is not None):
        raise ValueError(
            "an ORGANIZATION token acts as exactly one organization; other roles as none"
        )
    row = ApiToken(
        token_hash=token_hash(token),
        role=role,
        organization_id=organization_id,
        label=label,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    await session.flush()
    return row


async def find_token(session: AsyncSession, token: str) -> ApiToken | None:
    """The stored row of a token, revoked or not."""
    return await session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))


class Reader(Protocol):
    """Anything that runs a statement: a session, a connection, a request's reads."""

    async def execute(self, statement: Any, /) -> Result[Any]: ...


# The token's owner and the activity log's high-water mark, in one statement of plain
# columns (no ORM object to build for it).
OWNER = (
    select(
        ApiToken.id,
        ApiToken.role,
        ApiToken.organization_id,
        Organization.status,
        select(func.max(ActivityLogEntry.id)).scalar_subquery(),
    )
    .outerjoin(Organization, Organization.id == ApiToken.organization_id)
    .where(ApiToken.token_hash == bindparam("digest"), ApiToken.revoked_at.is_(None))
)
# OWNER compiled once per dialect: every request runs it, and building, caching and
# compiling a statement costs more than the round trip; the request's reads send it through
# the driver itself (RequestReads.first_row; docs/request-path.md).
_OWNER_SQL: dict[str, str] = {}


def owner_sql(dialect: Dialect) -> str:
    sql = _OWNER_SQL.get(dialect.name)
    if sql is None:
        sql = _OWNER_SQL[dialect.name] = str(OWNER.compile(dialect=dialect))
    return sql


async def authenticate(reader: "Reader | RequestReads", token: str) -> TokenOwner | None:
    """The owner of an unrevoked token, or None: one statement, one round trip."""
    digest = token_hash(token)
    row: Any
    if isinstance(reader, RequestReads):
        row = await reader.first_row(owner_sql(reader.dialect), (digest,))
    else:
        row = (await reader.execute(OWNER.params(digest=digest))).first()
    # Looking up a SHA-256 digest reveals nothing through timing about the token itself:
    # a caller cannot steer the digest toward a stored one byte by byte.
    if row is None:
        return None
    token_id, role, organization_id, status, high_water = tuple[Any, ...](row)
    return TokenOwner(
        token_id=token_id,
        role=Role(role),
        organization_id=organization_id,
        organization_is_member=status == OrganizationStatus.MEMBER,
        activity_high_water=high_water or 0,
    )


# The high-water mark alone, for a request without a token (ANONYMOUS): what OWNER reads
# besides the token, in one statement too.
HIGH_WATER = select(func.max(ActivityLogEntry.id))
_HIGH_WATER_SQL: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class AnonymousOwner:
    """Who a request without a token acts as, where the server allows that: ANONYMOUS, with
    no token and no organization; the high-water mark as TokenOwner has it."""

    activity_high_water: int = 0
    token_id: None = None
    role: Role = Role.ANONYMOUS
    organization_id: None = None
    organization_is_member: bool = False


async def anonymous_owner(reader: "Reader | RequestReads") -> AnonymousOwner:
    """The owner of a request without a token (ANONYMOUS: no token, no organization), with
    the activity log's high-water mark for the response cache: one statement."""
    if isinstance(reader, RequestReads):
        sql = _HIGH_WATER_SQL.get(reader.dialect.name)
        if sql is None:
            sql = _HIGH_WATER_SQL[reader.dialect.name] = str(
                HIGH_WATER.compile(dialect=reader.dialect)
            )
        row = await reader.first_row(sql, ())
        high_water = None if row is None else row[0]
    else:
        high_water = (await reader.execute(HIGH_WATER)).scalar()
    return AnonymousOwner(activity_high_water=high_water or 0)


async def list_tokens(session: AsyncSession) -> list[tuple[ApiToken, str | None]]:
    rows = await session.execute(
        select(ApiToken, Organization.slug)
        .outerjoin(Organization, Organization.id == ApiToken.organization_id)
        .order_by(ApiToken.id)
    )
    return [(token, slug) for token, slug in rows]


async def revoke_token(session: AsyncSession, token_id: int) -> bool:
    """Revoke; False when there is no such unrevoked token. The revocation is logged, so
    that every server process ends the token's live subscriptions."""
    now = datetime.now(UTC)
    result = await session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await append_activity(
        session, ActivityKind.TOKEN_REVOKED, occurred_at=now, payload={"token_id": token_id}
    )
    return True
