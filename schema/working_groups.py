"""WorkingGroup and ActionItem: the club's standing groups and their plans."""

from datetime import date
from typing import Self

import strawberry

import schema.events as event_types
import schema.organizations as organization_types
from club.ids import decode_id
from db import models
from resolvers.context import Info
from schema.enums import ActionItemStatus, FocusArea
from schema.fields import contributes_to, relation
from schema.ids import encode_id
from schema.payloads import Payload, UserError
from schema.refs import EventRef, OrganizationRef


@strawberry.federation.type(keys=["id"], description="A standing group of the club.")
class WorkingGroup:
    id: strawberry.ID
    slug: str
    name: str
    focus_area: FocusArea
    description: str | None
    pk: strawberry.Private[int]
    lead_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.WorkingGroup) -> Self:
        return cls(
            id=encode_id("WorkingGroup", row.id),
            slug=row.slug,
            name=row.name,
            focus_area=row.focus_area,
            description=row.description,
            pk=row.id,
            lead_id=row.lead_id,
        )

    @strawberry.field(description="The organization that leads it.")
    async def lead(self, info: Info) -> OrganizationRef | None:
        if self.lead_id is None:
            return None
        row = await info.context.loaders.organization.load(self.lead_id)
        return organization_types.Organization.from_row(row) if row else None

    @strawberry.field(description="Organizations taking part, by name.")
    async def members(self, info: Info) -> list[OrganizationRef]:
        rows = await info.context.loaders.members_of_working_group.load(self.pk)
        return [organization_types.Organization.from_row(row) for row in rows]

    @strawberry.field(description="Its events, by start time.")
    async def meetings(self, info: Info) -> list[EventRef]:
        rows = await info.context.loaders.meetings_of_working_group.load(self.pk)
        return [event_types.Event.from_row(row) for row in rows]

    @strawberry.field(description="Its action items, by due date.")
    async def action_plan(self, info: Info) -> list["ActionItem"]:
        rows = await info.context.loaders.action_items_of_working_group.load(self.pk)
        return [ActionItem.from_row(row) for row in rows]

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Self | None:
        row = await info.context.loaders.working_group.load(decode_id("WorkingGroup", id))
        return cls.from_row(row) if row else None


@strawberry.type(description="One step of a working group's action plan.")
class ActionItem:
    id: strawberry.ID
    title: str
    status: ActionItemStatus
    due_date: date | None
    owner_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.ActionItem) -> Self:
        return cls(
            id=encode_id("ActionItem", row.id),
            title=row.title,
            status=row.status,
            due_date=row.due_date,
            owner_id=row.owner_id,
        )

    @strawberry.field(description="The organization responsible for it.")
    async def owner(self, info: Info) -> OrganizationRef | None:
        if self.owner_id is None:
            return None
        row = await info.context.loaders.organization.load(self.owner_id)
        return organization_types.Organization.from_row(row) if row else None


@strawberry.input(description="A new working group.")
class CreateWorkingGroupInput:
    name: str
    focus_area: FocusArea
    description: str | None = None
    lead_id: strawberry.ID | None = strawberry.field(
        default=None, description="ADMIN: the leading member. An organization leads its own."
    )


@strawberry.input(
    description="An action item's fields. Adding needs `title`; when changing, omitted "
    "fields stay and null clears `ownerId` or `dueDate`."
)
class ActionItemInput:
    title: str | None = strawberry.UNSET
    status: ActionItemStatus | None = strawberry.UNSET
    owner_id: strawberry.ID | None = strawberry.UNSET
    due_date: date | None = strawberry.UNSET


@strawberry.type
class WorkingGroupPayload(Payload):
    working_group: WorkingGroup | None
    errors: list[UserError]


@strawberry.type
class ActionItemPayload(Payload):
    action_item: ActionItem | None
    errors: list[UserError]


@contributes_to(organization_types.Organization)
class OrganizationWorkingGroups(organization_types.Organization):
    working_groups: list[WorkingGroup] = relation(
        "working_groups_of_organization",
        key="pk",
        to=WorkingGroup.from_row,
        many=True,
        list_size=10,
    )
