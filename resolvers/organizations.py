"""Organizations: the directory, single lookups, registration and updates."""

import functools
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from sqlalchemy import Select, bindparam, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from club.access import acting_organization
from club.enums import ActivityKind, OrganizationKind, OrganizationStatus, Role
from club.errors import ErrorCode, PayloadRefusal, RequestError
from club.ids import decode_id, id_of
from club.validation import (
    COUNTRY_CODE_LENGTH,
    DESCRIPTION_LENGTH,
    NAME_LENGTH,
    SEARCH_LENGTH,
    SLUG_LENGTH,
    argument,
    country_code_of,
    email,
    exactly_one_key,
    optional_text,
    search_term,
    slug_for,
    text,
    web_address,
)
from db import models
from db.activity import Subject, append_activity
from db.base import is_unique_violation
from db.countries import country_id
from db.notifier import LiveEvent
from resolvers.context import Info
from resolvers.mutations import locked, mutation, transaction
from resolvers.pagination import Page, SortOrder, page_size, paginate
from resolvers.subscriptions import follow

BY_NAME = SortOrder("organizations", (models.Organization.name, models.Organization.id))


async def organizations(
    info: Info,
    *,
    first: int | None = None,
    after: str | None = None,
    status: OrganizationStatus | None = None,
    country_code: str | None = None,
    search: str | None = None,
) -> Page[models.Organization]:
    return await paginate(
        info.context.session_factory,
        directory(status=status, country_code=country_code, search=search),
        BY_NAME,
        first=page_size(first, info.context.settings),
        after=after,
    )


# The escape character of the directory's search (SQLAlchemy's `autoescape` uses it too).
LIKE_ESCAPE = "/"
# The names `directory_values` gives the filter's values (`directory_statement`'s parameters).
DIRECTORY_FILTERS = frozenset({"status", "country_code", "search"})


def directory_values(
    *,
    status: OrganizationStatus | None = None,
    country_code: str | None = None,
    search: str | None = None,
) -> dict[str, Any]:
    """The directory filter's values as `directory_statement` binds them, by name, only those
    given, each checked (BAD_USER_INPUT) and normalised: the country code as codes are
    stored, the search as names are stored and with `%`, `_` and the escape character
    escaped (they are the characters themselves, not wildcards)."""
    values: dict[str, Any] = {}
    if status is not None:
        values["status"] = status
    if country_code is not None:
        values["country_code"] = country_code_of(
            argument(country_code.strip(), "countryCode", max_length=COUNTRY_CODE_LENGTH)
        )
    if search:
        term = search_term(search, "search", max_length=SEARCH_LENGTH)
        values["search"] = (
            term.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
            .replace("%", LIKE_ESCAPE + "%")
            .replace("_", LIKE_ESCAPE + "_")
        )
    return values


@functools.lru_cache(maxsize=8)
def directory_statement(filters: frozenset[str]) -> Select[models.Organization]:
    """The directory's organizations matching a filter (unordered), its values the named
    parameters `filters` (of `directory_values`): built once per combination, so that the
    compiled read path binds a request's values into a statement it has compiled once
    (schema/compiled/nodes.py `Directory`)."""
    statement = select(models.Organization)
    if "status" in filters:
        status = models.Organization.status
        statement = statement.where(status == bindparam("status", type_=status.type))
    if "country_code" in filters:
        code = models.Country.code
        statement = statement.join(models.Country).where(
            code == bindparam("country_code", type_=code.type)
        )
    if "search" in filters:
        name = models.Organization.name
        statement = statement.where(
            name.icontains(bindparam("search", type_=name.type), escape=LIKE_ESCAPE)
        )
    return statement


def directory(
    *,
    status: OrganizationStatus | None = None,
    country_code: str | None = None,
    search: str | None = None,
) -> Select[models.Organization]:
    """The directory's organizations matching a filter (unordered), with its values: the
    statement behind `organizations`."""
    values = directory_values(status=status, country_code=country_code, search=search)
    return directory_statement(frozenset(values)).params(values)


async def organization(
    info: Info, *, id: str | None = None, slug: str | None = None
) -> models.Organization | None:
    key, value = exactly_one_key(id=id, slug=slug)
    loaders = info.context.loaders
    if key == "id":
        return await loaders.organization.load(decode_id("Organization", value))
    return await loaders.organization_by_slug.load(argument(value, "slug", max_length=SLUG_LENGTH))


def _country_code(code: str) -> str:
    """A mutation's `countryCode`, refused before the database when it cannot be one."""
    if len(code.strip()) > COUNTRY_CODE_LENGTH:
        raise PayloadRefusal(
            ErrorCode.INVALID_INPUT,
            f"`countryCode` must be an ISO 3166-1 alpha-2 code of {COUNTRY_CODE_LENGTH} letters.",
            "countryCode",
        )
    return code


async def _country_id(session: AsyncSession, code: str) -> int:
    found_id = await country_id(session, code)
    if found_id is None:
        raise PayloadRefusal(
            ErrorCode.INVALID_INPUT, f"`{code}` is not an ISO 3166-1 alpha-2 code.", "countryCode"
        )
    return found_id


async def _free_slug(session: AsyncSession, name: str, country_code: str) -> str:
    """The name's slug, or the slug with the country code when the plain one is taken."""
    suffix = "-" + country_code.strip().lower()
    for candidate in (
        slug_for(name),
        slug_for(name, max_length=SLUG_LENGTH - len(suffix)) + suffix,
    ):
        taken = await session.scalar(select(exists().where(models.Organization.slug == candidate)))
        if not taken:
            return candidate
    raise PayloadRefusal(
        ErrorCode.NAME_TAKEN, f"An organization named {name!r} is registered.", "name"
    )


@mutation(Role.ADMIN, Role.ORGANIZATION)
async def register_organization(
    info: Info,
    *,
    name: str,
    country_code: str,
    kind: OrganizationKind,
    website: str | None = None,
    description: str | None = None,
    contact_email: str | None = None,
) -> models.Organization:
    """Registers a guest. The secretariat and member organizations may register one."""
    context = info.context
    if context.principal.role is Role.ORGANIZATION and not context.principal.organization_is_member:
        raise PayloadRefusal(
            ErrorCode.MEMBERSHIP_REQUIRED, "Only members register new organizations."
        )
    name = text(name, "name", min_length=2, max_length=NAME_LENGTH)
    country_code = _country_code(country_code)
    website = web_address(website, "website")
    description = optional_text(
        description, "description", max_length=DESCRIPTION_LENGTH, multiline=True
    )
    contact_email = email(contact_email, "contactEmail")
    async with transaction(info) as session:
        row = models.Organization(
            slug=await _free_slug(session, name, country_code),
            name=name,
            kind=kind,
            status=OrganizationStatus.GUEST,
            country_id=await _country_id(session, country_code),
            website=website,
            description=description,
            contact_email=contact_email,
            created_at=context.now,
        )
        session.add(row)
        try:
            await session.flush()
        except IntegrityError as error:
            # The same slug, registered a moment ago by someone else; anything else is a bug.
            if not is_unique_violation(error, "uq_organizations_slug", "organizations.slug"):
                raise
            raise PayloadRefusal(
                ErrorCode.NAME_TAKEN, f"An organization named {name!r} is registered.", "name"
            ) from None
        await append_activity(
            session,
            ActivityKind.ORGANIZATION_REGISTERED,
            occurred_at=context.now,
            subject=Subject.of(models.Organization, row.id),
        )
    return row


@mutation(Role.ADMIN, Role.ORGANIZATION)
async def update_organization(
    info: Info, *, id: str, given: Mapping[str, Any]
) -> models.Organization:
    """The secretariat, or the organization itself, changes its details (not its slug).
    `given` holds the fields to change (python names); None clears one."""
    context = info.context
    pk = id_of("Organization", id, "id")
    if context.principal.role is Role.ORGANIZATION and acting_organization(context.principal) != pk:
        raise PayloadRefusal(
            ErrorCode.FORBIDDEN, "An organization changes only its own details.", "id"
        )
    changes: dict[str, object] = {}
    if "name" in given:
        changes["name"] = text(given["name"] or "", "name", min_length=2, max_length=NAME_LENGTH)
    if "kind" in given:
        if given["kind"] is None:
            raise PayloadRefusal(ErrorCode.INVALID_INPUT, "`kind` cannot be cleared.", "kind")
        changes["kind"] = given["kind"]
    if "website" in given:
        changes["website"] = web_address(given["website"], "website")
    if "description" in given:
        changes["description"] = optional_text(
            given["description"], "description", max_length=DESCRIPTION_LENGTH, multiline=True
        )
    if "contact_email" in given:
        changes["contact_email"] = email(given["contact_email"], "contactEmail")
    async with transaction(info) as session:
        row = await locked(session, models.Organization, pk, "organization")
        if "country_code" in given:
            changes["country_id"] = await _country_id(
                session, _country_code(given["country_code"] or "")
            )
        for column, value in changes.items():
            setattr(row, column, value)
        await session.flush()
        await append_activity(
            session,
            ActivityKind.ORGANIZATION_UPDATED,
            occurred_at=context.now,
            subject=Subject.of(models.Organization, row.id),
            payload={"changed": sorted(changes)},
        )
    return row


async def member_joined(
    info: Info, *, country_code: str | None = None, after: str | None = None
) -> AsyncGenerator[LiveEvent, None]:
    """Organizations becoming members (of one country, if given), from the activity log:
    await it, then iterate (closing the generator unsubscribes)."""
    country = None
    if country_code is not None:
        country_code = argument(country_code.strip(), "countryCode", max_length=COUNTRY_CODE_LENGTH)
        async with info.context.session_factory() as session:
            country = await country_id(session, country_code)
        if country is None:
            raise RequestError.bad_input(
                f"`{country_code}` is not an ISO 3166-1 alpha-2 code.", field="countryCode"
            )

    def wants(live: LiveEvent) -> bool:
        if live.kind is not ActivityKind.MEMBER_JOINED:
            return False
        joined = live.subject_as(models.Organization)
        return country is None or (joined is not None and joined.country_id == country)

    return follow(info, wants, after)
