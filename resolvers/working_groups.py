"""Working groups: lookups, creating, joining and leaving, and the action plan."""

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from club import rules
from club.access import acting_organization, optional_organization_acted_for
from club.enums import ActionItemStatus, ActivityKind, FocusArea, OrganizationStatus, Role
from club.errors import ErrorCode, PayloadRefusal, found
from club.ids import decode_id, id_of
from club.rules import OrganizationFacts
from club.validation import (
    DESCRIPTION_LENGTH,
    NAME_LENGTH,
    SLUG_LENGTH,
    TITLE_LENGTH,
    argument,
    exactly_one_key,
    optional_text,
    slug_for,
    text,
)
from db import models
from db.activity import Subject, append_activity
from db.base import is_unique_violation
from resolvers.context import Info
from resolvers.list_sizes import row_count
from resolvers.mutations import locked, mutation, transaction

# `workingGroups` returns every row: as long as the table.
WORKING_GROUPS = row_count("working_groups", models.WorkingGroup)


async def working_groups(info: Info) -> Sequence[models.WorkingGroup]:
    async with info.context.session_factory() as session:
        statement = select(models.WorkingGroup).order_by(models.WorkingGroup.name)
        return (await session.scalars(statement)).all()


async def working_group(
    info: Info, *, id: str | None = None, slug: str | None = None
) -> models.WorkingGroup | None:
    key, value = exactly_one_key(id=id, slug=slug)
    loaders = info.context.loaders
    if key == "id":
        return await loaders.working_group.load(decode_id("WorkingGroup", value))
    return await loaders.working_group_by_slug.load(argument(value, "slug", max_length=SLUG_LENGTH))


async def _membership(session: AsyncSession, group_id: int, organization_id: int) -> bool:
    return bool(
        await session.scalar(
            select(
                exists().where(
                    models.WorkingGroupMember.working_group_id == group_id,
                    models.WorkingGroupMember.organization_id == organization_id,
                )
            )
        )
    )


async def _locked_group(session: AsyncSession, id: str, field: str) -> models.WorkingGroup:
    return await locked(
        session, models.WorkingGroup, id_of("WorkingGroup", id, field), "working group", field
    )


async def _log(
    session: AsyncSession,
    kind: ActivityKind,
    group_id: int,
    organization_id: int | None,
    now: datetime,
    **payload: Any,
) -> None:
    await append_activity(
        session,
        kind,
        occurred_at=now,
        subject=Subject.of(models.WorkingGroup, group_id),
        related={"organization_id": organization_id},
        payload=payload,
    )


@mutation(Role.ADMIN, Role.ORGANIZATION)
async def create_working_group(
    info: Info,
    *,
    name: str,
    focus_area: FocusArea,
    description: str | None = None,
    lead_id: str | None = None,
) -> models.WorkingGroup:
    """A member (or the secretariat for one) starts a group it leads and belongs to."""
    context = info.context
    principal = context.principal
    name = text(name, "name", min_length=3, max_length=NAME_LENGTH)
    slug = slug_for(name)
    description = optional_text(
        description, "description", max_length=DESCRIPTION_LENGTH, multiline=True
    )
    lead_pk = optional_organization_acted_for(principal, lead_id, "leadId")
    async with transaction(info) as session:
        if lead_pk is not None:
            lead = found(await session.get(models.Organization, lead_pk), "organization", "leadId")
            if lead.status is not OrganizationStatus.MEMBER:
                raise PayloadRefusal(
                    ErrorCode.MEMBERSHIP_REQUIRED, f"{lead.name} is not a member.", "leadId"
                )
        if await session.scalar(select(exists().where(models.WorkingGroup.slug == slug))):
            raise PayloadRefusal(
                ErrorCode.NAME_TAKEN, f"A working group named {name!r} exists.", "name"
            )
        row = models.WorkingGroup(
            slug=slug,
            name=name,
            focus_area=focus_area,
            description=description,
            lead_id=lead_pk,
            created_at=context.now,
        )
        session.add(row)
        try:
            await session.flush()
        except IntegrityError as error:
            # The same slug, created a moment ago by someone else; anything else is a bug.
            if not is_unique_violation(error, "uq_working_groups_slug", "working_groups.slug"):
                raise
            raise PayloadRefusal(
                ErrorCode.NAME_TAKEN, f"A working group named {name!r} exists.", "name"
            ) from None
        if lead_pk is not None:
            session.add(
                models.WorkingGroupMember(
                    working_group_id=row.id, organization_id=lead_pk, joined_at=context.now
                )
            )
            await session.flush()
        await _log(session, ActivityKind.WORKING_GROUP_CREATED, row.id, lead_pk, context.now)
    return row


@asynccontextmanager
async def _membership_change(
    info: Info, id: str
) -> AsyncIterator[tuple[AsyncSession, models.WorkingGroup, OrganizationFacts, bool]]:
    """The transaction of joining or leaving: the group (locked), the caller's organization,
    and whether it is in the group now."""
    organization_id = acting_organization(info.context.principal)
    async with transaction(info) as session:
        group = await _locked_group(session, id, "id")
        organization = found(
            await session.get(models.Organization, organization_id), "organization"
        )
        yield (
            session,
            group,
            organization.facts(),
            await _membership(session, group.id, organization_id),
        )


@mutation(Role.ORGANIZATION)
async def join_working_group(info: Info, *, id: str) -> models.WorkingGroup:
    now = info.context.now
    async with _membership_change(info, id) as (session, group, organization, is_in):
        if refusal := rules.check_joining(organization, already_in=is_in):
            raise refusal
        session.add(
            models.WorkingGroupMember(
                working_group_id=group.id, organization_id=organization.id, joined_at=now
            )
        )
        await session.flush()
        await _log(session, ActivityKind.WORKING_GROUP_JOINED, group.id, organization.id, now)
    return group


@mutation(Role.ORGANIZATION)
async def leave_working_group(info: Info, *, id: str) -> models.WorkingGroup:
    """Leaving; a lead that leaves leaves the group without a lead, and an owner of action
    items leaves them without an owner."""
    now = info.context.now
    async with _membership_change(info, id) as (session, group, organization, is_in):
        if refusal := rules.check_leaving(organization, is_in=is_in):
            raise refusal
        await session.execute(
            delete(models.WorkingGroupMember).where(
                models.WorkingGroupMember.working_group_id == group.id,
                models.WorkingGroupMember.organization_id == organization.id,
            )
        )
        if group.lead_id == organization.id:
            group.lead_id = None
        # An item's owner belongs to the group: the leaver's items are nobody's now.
        await session.execute(
            update(models.ActionItem)
            .where(
                models.ActionItem.working_group_id == group.id,
                models.ActionItem.owner_id == organization.id,
            )
            .values(owner_id=None)
        )
        await session.flush()
        await _log(session, ActivityKind.WORKING_GROUP_LEFT, group.id, organization.id, now)
    return group


async def _require_participant(info: Info, session: AsyncSession, group_id: int) -> None:
    principal = info.context.principal
    if principal.role is Role.ADMIN:
        return
    if not await _membership(session, group_id, acting_organization(principal)):
        raise PayloadRefusal(
            ErrorCode.NOT_IN_WORKING_GROUP, "Only the group's organizations change its plan."
        )


async def _owner_id(session: AsyncSession, group_id: int, given: str | None) -> int | None:
    if given is None:
        return None
    owner_id = id_of("Organization", given, "ownerId")
    if not await _membership(session, group_id, owner_id):
        raise PayloadRefusal(
            ErrorCode.NOT_IN_WORKING_GROUP, "An item's owner must belong to the group.", "ownerId"
        )
    return owner_id


@mutation(Role.ADMIN, Role.ORGANIZATION)
async def add_action_item(
    info: Info,
    *,
    working_group_id: str,
    title: str | None = None,
    status: ActionItemStatus | None = None,
    owner_id: str | None = None,
    due_date: date | None = None,
) -> models.ActionItem:
    """One of the group's organizations (or the secretariat) adds an item to its plan; it
    starts PLANNED unless `status` says otherwise."""
    now = info.context.now
    if title is None:
        raise PayloadRefusal(ErrorCode.INVALID_INPUT, "An action item needs a title.", "title")
    title = text(title, "title", min_length=3, max_length=TITLE_LENGTH)
    async with transaction(info) as session:
        group = await _locked_group(session, working_group_id, "workingGroupId")
        await _require_participant(info, session, group.id)
        row = models.ActionItem(
            working_group_id=group.id,
            title=title,
            status=ActionItemStatus.PLANNED if status is None else status,
            owner_id=await _owner_id(session, group.id, owner_id),
            due_date=due_date,
            created_at=now,
        )
        session.add(row)
        await session.flush()
        await _log(
            session,
            ActivityKind.ACTION_ITEM_ADDED,
            group.id,
            row.owner_id,
            now,
            action_item_id=row.id,
        )
    return row


@mutation(Role.ADMIN, Role.ORGANIZATION)
async def update_action_item(info: Info, *, id: str, given: Mapping[str, Any]) -> models.ActionItem:
    """One of the group's organizations (or the secretariat) changes an item. `given` holds
    the fields to change (python names); None clears one."""
    now = info.context.now
    pk = id_of("ActionItem", id, "id")
    changes: dict[str, Any] = {}
    if "title" in given:
        changes["title"] = text(
            given["title"] or "", "title", min_length=3, max_length=TITLE_LENGTH
        )
    if "status" in given:
        if given["status"] is None:
            raise PayloadRefusal(ErrorCode.INVALID_INPUT, "`status` cannot be cleared.", "status")
        changes["status"] = given["status"]
    if "due_date" in given:
        changes["due_date"] = given["due_date"]
    async with transaction(info) as session:
        row = await locked(session, models.ActionItem, pk, "action item")
        await _require_participant(info, session, row.working_group_id)
        if "owner_id" in given:
            changes["owner_id"] = await _owner_id(session, row.working_group_id, given["owner_id"])
        for column, value in changes.items():
            setattr(row, column, value)
        await session.flush()
        await _log(
            session,
            ActivityKind.ACTION_ITEM_UPDATED,
            row.working_group_id,
            row.owner_id,
            now,
            action_item_id=row.id,
            changed=sorted(changes),
        )
    return row
