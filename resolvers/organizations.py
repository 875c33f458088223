"""Organizations: the directory, single lookups, registration and updates."""

import strawberry
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET

from club.access import acting_organization
from club.enums import ActivityKind, OrganizationStatus, Role
from club.errors import ErrorCode, PayloadRefusal, found
from club.ids import decode_id, id_of
from club.validation import SLUG_LENGTH, email, optional_text, slug_for, text, web_address
from db import models
from db.activity import append_activity
from db.base import is_unique_violation
from resolvers.context import Info
from resolvers.lookup import exactly_one_key
from resolvers.mutations import mutation, transaction
from resolvers.pagination import SortOrder, page_size, paginate
from schema.organizations import (
    Organization,
    OrganizationFilter,
    OrganizationPayload,
    RegisterOrganizationInput,
    UpdateOrganizationInput,
)
from schema.pagination import Connection

BY_NAME = SortOrder("organizations", (models.Organization.name, models.Organization.id))


async def organizations(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    filter: OrganizationFilter | None = None,
) -> Connection[Organization]:
    statement = select(models.Organization)
    if filter is not None:
        if filter.status is not None:
            statement = statement.where(models.Organization.status == filter.status)
        if filter.country_code is not None:
            statement = statement.join(models.Country).where(
                models.Country.code == filter.country_code.strip().upper()
            )
        if filter.search:
            statement = statement.where(
                models.Organization.name.icontains(filter.search.strip(), autoescape=True)
            )
    return await paginate(
        info.context.session_factory,
        statement,
        BY_NAME,
        first=page_size(first, info.context.settings),
        after=after,
        to_node=Organization.from_row,
    )


async def organization(
    info: Info, id: strawberry.ID | None = None, slug: str | None = None
) -> Organization | None:
    key, value = exactly_one_key(id=id, slug=slug)
    loaders = info.context.loaders
    if key == "id":
        row = await loaders.organization.load(decode_id("Organization", value))
    else:
        row = await loaders.organization_by_slug.load(value)
    return Organization.from_row(row) if row else None


async def _country_id(session: AsyncSession, code: str) -> int:
    country_id = await session.scalar(
        select(models.Country.id).where(models.Country.code == code.strip().upper())
    )
    if country_id is None:
        raise PayloadRefusal(
            ErrorCode.INVALID_INPUT, f"`{code}` is not an ISO 3166-1 alpha-2 code.", "countryCode"
        )
    return country_id


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


@mutation(OrganizationPayload, Role.ADMIN, Role.ORGANIZATION)
async def register_organization(info: Info, input: RegisterOrganizationInput) -> Organization:
    """Registers a guest. The secretariat and member organizations may register one."""
    context = info.context
    if context.principal.role is Role.ORGANIZATION and not context.principal.organization_is_member:
        raise PayloadRefusal(
            ErrorCode.MEMBERSHIP_REQUIRED, "Only members register new organizations."
        )
    name = text(input.name, "name", min_length=2, max_length=200)
    website = web_address(input.website, "website")
    description = optional_text(input.description, "description", max_length=5000)
    contact_email = email(input.contact_email, "contactEmail")
    async with transaction(info) as session:
        row = models.Organization(
            slug=await _free_slug(session, name, input.country_code),
            name=name,
            kind=input.kind,
            status=OrganizationStatus.GUEST,
            country_id=await _country_id(session, input.country_code),
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
            organization_id=row.id,
        )
    return Organization.from_row(row)


@mutation(OrganizationPayload, Role.ADMIN, Role.ORGANIZATION)
async def update_organization(
    info: Info, id: strawberry.ID, input: UpdateOrganizationInput
) -> Organization:
    """The secretariat, or the organization itself, changes its details (not its slug)."""
    context = info.context
    pk = id_of("Organization", id, "id")
    if context.principal.role is Role.ORGANIZATION and acting_organization(context.principal) != pk:
        raise PayloadRefusal(
            ErrorCode.FORBIDDEN, "An organization changes only its own details.", "id"
        )
    changes: dict[str, object] = {}
    if input.name is not UNSET:
        changes["name"] = text(input.name or "", "name", min_length=2, max_length=200)
    if input.kind is not UNSET:
        if input.kind is None:
            raise PayloadRefusal(ErrorCode.INVALID_INPUT, "`kind` cannot be cleared.", "kind")
        changes["kind"] = input.kind
    if input.website is not UNSET:
        changes["website"] = web_address(input.website, "website")
    if input.description is not UNSET:
        changes["description"] = optional_text(input.description, "description", max_length=5000)
    if input.contact_email is not UNSET:
        changes["contact_email"] = email(input.contact_email, "contactEmail")
    async with transaction(info) as session:
        row = found(
            await session.scalar(
                select(models.Organization)
                .where(models.Organization.id == pk)
                .with_for_update(key_share=True)
            ),
            "organization",
        )
        if input.country_code is not UNSET:
            changes["country_id"] = await _country_id(session, input.country_code or "")
        for column, value in changes.items():
            setattr(row, column, value)
        await session.flush()
        await append_activity(
            session,
            ActivityKind.ORGANIZATION_UPDATED,
            occurred_at=context.now,
            organization_id=row.id,
            payload={"changed": sorted(changes)},
        )
    return Organization.from_row(row)
