"""The demo database: tokens that stay the same across restarts, and a reset.

Demo tokens are derived, not drawn: HMAC-SHA256 of the identity (role and organization)
under a random 32-byte secret that `clubjustice demo` creates when it first seeds a
database, and keeps in that database (`demo_secret`). Every start of the same database
derives the same tokens; they are stored hashed like any token, so revoking one works as
usual (and it stays revoked). Nothing in the code or the repository determines them: a
new demo database, or a reset, gets a new secret and new tokens. Whoever can read the
demo database can compute its tokens, as whoever can write it could add tokens: the
secret guards demo data only.
"""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from club.enums import Role
from db.base import Base
from db.engine import SessionFactory
from db.models import ApiToken, DemoSecret, Organization
from db.tokens import TOKEN_PREFIX, find_token, store_token

DEMO_LABEL = "demo: "


@dataclass(frozen=True)
class DemoIdentity:
    who: str
    role: Role
    organization: str | None = None  # the slug, for the ORGANIZATION role


DEMO_IDENTITIES = [
    DemoIdentity("ADMIN (the secretariat)", Role.ADMIN),
    DemoIdentity(
        "member: Moldova Legal Empowerment Network",
        Role.ORGANIZATION,
        "moldova-legal-empowerment",
    ),
    DemoIdentity(
        "guest: Chisinau Law School Legal Clinic", Role.ORGANIZATION, "chisinau-law-clinic"
    ),
    DemoIdentity("PARTNER (read-only, public fields)", Role.PARTNER),
]


@dataclass(frozen=True)
class DemoToken:
    identity: DemoIdentity
    token: str
    revoked: bool


def derive_token(secret: bytes, identity: DemoIdentity) -> str:
    """The identity's token under this secret: the shape of a random token (cj_ + 43)."""
    message = f"clubjustice demo token\0{identity.role.value}\0{identity.organization or ''}"
    digest = hmac.new(secret, message.encode(), hashlib.sha256).digest()
    return TOKEN_PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def _secret(session: AsyncSession) -> bytes:
    row = await session.get(DemoSecret, 1)
    if row is None:
        row = DemoSecret(id=1, secret=secrets.token_hex(32), created_at=datetime.now(UTC))
        session.add(row)
        await session.flush()
    return bytes.fromhex(row.secret)


async def demo_tokens(session_factory: SessionFactory) -> list[DemoToken]:
    """The demo's tokens, derived from the database's secret (created on the first call);
    stored when missing. A token its operator revoked is reported, not issued again."""
    tokens = []
    async with session_factory() as session, session.begin():
        secret = await _secret(session)
        for identity in DEMO_IDENTITIES:
            token = derive_token(secret, identity)
            row = await find_token(session, token)
            if row is None:
                organization_id = None
                if identity.organization is not None:
                    organization_id = await session.scalar(
                        select(Organization.id).where(Organization.slug == identity.organization)
                    )
                    if organization_id is None:
                        raise LookupError(f"the demo organization {identity.organization} is gone")
                row = await store_token(
                    session,
                    token,
                    identity.role,
                    organization_id=organization_id,
                    label=DEMO_LABEL + identity.who,
                )
            tokens.append(DemoToken(identity, token, revoked=row.revoked_at is not None))
    return tokens


def _is_demo_database(connection: Connection) -> bool:
    tables = set(inspect(connection).get_table_names())
    if DemoSecret.__tablename__ in tables and connection.scalar(
        select(func.count()).select_from(DemoSecret)
    ):
        return True
    # Nothing to lose: no tables, or migrated and never used (no organization, no token).
    # Never a database that only looks like the demo's (a token labelled "demo: …" can be
    # made by hand anywhere).
    return not any(
        table.__tablename__ in tables and connection.scalar(select(func.count()).select_from(table))
        for table in (Organization, ApiToken)
    )


async def is_demo_database(engine: AsyncEngine) -> bool:
    """Whether `clubjustice demo` made this database (or it holds nothing yet): only such a
    database may be seeded by the demo (its secret makes the ADMIN token computable from the
    database) or reset."""
    async with engine.connect() as connection:
        return await connection.run_sync(_is_demo_database)


async def wipe(engine: AsyncEngine) -> None:
    """Drop every table of the service, so that migrations start over."""
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
