"""The glue every mutation shares: who may call it, its one transaction, typed refusals."""

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from club.access import Principal
from club.enums import Role
from club.errors import ErrorCode, PayloadRefusal, RequestError
from club.ids import id_of
from club.rules import OrganizationFacts
from db import models
from resolvers.context import Info
from resolvers.loaders import Loaders

T = TypeVar("T")


def mutation(
    payload: Any, *roles: Role
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Wrap a mutation body: refuse roles outside `roles` with a top-level FORBIDDEN; turn a
    `PayloadRefusal` (raised inside the transaction, so it rolled back) into a payload error; on
    success wrap the returned object in `payload` and start fresh loaders, so that what the
    client selects on it reflects the change."""

    def decorate(body: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(body)
        async def run(info: Info, **arguments: Any) -> Any:
            require_role(info.context.principal, *roles)
            try:
                value = await body(info, **arguments)
            except PayloadRefusal as refusal:
                if info.context.metrics is not None:
                    info.context.metrics.refusals.labels(info.field_name, refusal.code.value).inc()
                return payload.refused(refusal)
            context = info.context
            await context.release_reads()
            context.loaders = Loaders.for_request(context.session_factory)
            if context.feed is not None:
                context.feed.wake()  # committed: this process's subscribers hear it at once
            return payload.done(value)

        return run

    return decorate


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        allowed = ", ".join(role.value for role in roles)
        raise RequestError.forbidden(
            f"The {principal.role.value} role may not do this (it needs {allowed})."
        )


@asynccontextmanager
async def transaction(info: Info) -> AsyncIterator[AsyncSession]:
    """The mutation's one transaction: committed when the block ends, rolled back when it
    raises (a PayloadRefusal included)."""
    await info.context.release_reads()
    async with info.context.write_session_factory() as session, session.begin():
        yield session


def facts(row: models.Organization) -> OrganizationFacts:
    """What the rules need to know of an organization."""
    return OrganizationFacts(row.id, row.name, row.status)


def found(row: T | None, what: str, field: str | None = "id") -> T:
    if row is None:
        raise PayloadRefusal(ErrorCode.NOT_FOUND, f"No such {what}.", field)
    return row


def acting_organization(principal: Principal) -> int:
    """The organization an ORGANIZATION token acts as; admins act for none."""
    if principal.organization_id is None:
        raise PayloadRefusal(
            ErrorCode.FORBIDDEN, "This acts for an organization; use that organization's token."
        )
    return principal.organization_id


def organization_acted_for(principal: Principal, given: str | None, field: str) -> int:
    """The organization a mutation acts for: ADMIN names it in `field`; an ORGANIZATION
    token acts as itself and may name only itself."""
    acted_for = optional_organization_acted_for(principal, given, field)
    if acted_for is None:
        raise PayloadRefusal(ErrorCode.INVALID_INPUT, f"Name the organization in `{field}`.", field)
    return acted_for


def optional_organization_acted_for(
    principal: Principal, given: str | None, field: str
) -> int | None:
    """As `organization_acted_for`, but ADMIN may leave `field` out (None: no organization)."""
    if principal.role is Role.ADMIN:
        return None if given is None else id_of("Organization", given, field)
    own = acting_organization(principal)
    if given is not None and id_of("Organization", given, field) != own:
        raise PayloadRefusal(ErrorCode.FORBIDDEN, "An organization acts only as itself.", field)
    return own


def is_unique_violation(error: IntegrityError, constraint: str, columns: str) -> bool:
    """Whether the database refused a row because of the unique `constraint` (PostgreSQL
    names it; SQLite names the `columns`, as "table.column")."""
    cause = getattr(error.orig, "__cause__", None)
    name = getattr(cause, "constraint_name", None)
    if name is not None:
        return bool(name == constraint)
    return f"UNIQUE constraint failed: {columns}" in str(error.orig)
