"""The glue every mutation shares: who may call it, its one transaction, typed refusals."""

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.enums import Role
from resolvers.context import Info
from resolvers.loaders import Loaders
from resolvers.rules import ErrorCode, OrganizationFacts, Refusal
from resolvers.visibility import Principal
from schema.errors import Forbidden
from schema.ids import parse_id

T = TypeVar("T")


def mutation(
    payload: Any, *roles: Role
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Wrap a mutation body: refuse roles outside `roles` with a top-level FORBIDDEN; turn a
    `Refusal` (raised inside the transaction, so it rolled back) into a payload error; on
    success wrap the returned object in `payload` and start fresh loaders, so that what the
    client selects on it reflects the change."""

    def decorate(body: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(body)
        async def run(info: Info, **arguments: Any) -> Any:
            require_role(info.context.principal, *roles)
            try:
                value = await body(info, **arguments)
            except Refusal as refusal:
                return payload.refused(refusal)
            info.context.loaders = Loaders.for_request(info.context.session_factory)
            return payload.done(value)

        return run

    return decorate


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        allowed = ", ".join(role.value for role in roles)
        raise Forbidden(f"The {principal.role.value} role may not do this (it needs {allowed}).")


@asynccontextmanager
async def transaction(info: Info) -> AsyncIterator[AsyncSession]:
    """The mutation's one transaction: committed when the block ends, rolled back when it
    raises (a Refusal included)."""
    async with info.context.write_session_factory() as session, session.begin():
        yield session


def id_of(type_name: str, value: str, field: str) -> int:
    """The primary key inside a global ID given as mutation input, or INVALID_INPUT."""
    pk = parse_id(type_name, value)
    if pk is None:
        raise Refusal(ErrorCode.INVALID_INPUT, f"`{value}` is not a valid {type_name} ID.", field)
    return pk


def facts(row: models.Organization) -> OrganizationFacts:
    """What the rules need to know of an organization."""
    return OrganizationFacts(row.id, row.name, row.status)


def found(row: T | None, what: str, field: str | None = "id") -> T:
    if row is None:
        raise Refusal(ErrorCode.NOT_FOUND, f"No such {what}.", field)
    return row


def acting_organization(principal: Principal) -> int:
    """The organization an ORGANIZATION token acts as; admins act for none."""
    if principal.organization_id is None:
        raise Refusal(
            ErrorCode.FORBIDDEN, "This acts for an organization; use that organization's token."
        )
    return principal.organization_id
