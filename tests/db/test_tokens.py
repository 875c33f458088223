"""API tokens: random, stored as a hash only, revocable."""

from typing import Any

import pytest
from sqlalchemy import select

from club.enums import Role
from db.models import ApiToken
from db.tokens import TokenOwner, authenticate, create_token, revoke_token, token_hash
from tests.factories import add, country_ids, organization


async def test_only_the_hash_is_stored_and_the_token_authenticates(session_factory: Any) -> None:
    md = (await country_ids(session_factory, "MD"))["MD"]
    member = organization(md, member=True)
    await add(session_factory, member)
    async with session_factory() as session, session.begin():
        row, token = await create_token(
            session, Role.ORGANIZATION, organization_id=member.id, label="x"
        )
    assert token.startswith("cj_") and len(token) == 3 + 43
    async with session_factory() as session:
        stored = (await session.scalars(select(ApiToken))).one()
        assert stored.token_hash == token_hash(token) != token
        assert token not in repr([getattr(stored, c.key) for c in ApiToken.__table__.columns])
        assert await authenticate(session, token) == TokenOwner(
            token_id=row.id,
            role=Role.ORGANIZATION,
            organization_id=member.id,
            organization_is_member=True,
        )
        assert await authenticate(session, token + "x") is None
        assert await authenticate(session, "") is None


async def test_two_tokens_differ_and_a_revoked_one_fails(session_factory: Any) -> None:
    async with session_factory() as session, session.begin():
        first, token = await create_token(session, Role.PARTNER)
        _, other = await create_token(session, Role.PARTNER)
    assert token != other
    async with session_factory() as session, session.begin():
        assert await revoke_token(session, first.id)
        assert not await revoke_token(session, first.id)  # already revoked
        assert not await revoke_token(session, 999)
    async with session_factory() as session:
        assert await authenticate(session, token) is None
        assert (await authenticate(session, other)) is not None


async def test_organization_tokens_name_one_organization_and_others_none(
    session_factory: Any,
) -> None:
    async with session_factory() as session:
        with pytest.raises(ValueError, match="exactly one organization"):
            await create_token(session, Role.ORGANIZATION)
        with pytest.raises(ValueError, match="exactly one organization"):
            await create_token(session, Role.ADMIN, organization_id=1)
