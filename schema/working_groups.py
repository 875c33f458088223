"""WorkingGroup and ActionItem: the club's standing groups and their plans; creating,
joining and leaving one, and changing its plan. (An event's working group: added here.)"""

from datetime import date
from typing import Self

import strawberry

from club.ids import decode_id
from db import models
from resolvers import working_groups
from resolvers.context import Info
from schema.domain import Domain
from schema.enums import ActionItemStatus, FocusArea
from schema.events import Event
from schema.fields import contributes_to, field, relation
from schema.ids import encode_id
from schema.inputs import given
from schema.organizations import Organization
from schema.payloads import Payload, UserError


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

    lead: Organization | None = relation(
        "organization",
        key="lead_id",
        to=Organization.from_row,
        description="The organization that leads it.",
    )
    members: list[Organization] = relation(
        "members_of_working_group",
        key="pk",
        to=Organization.from_row,
        many=True,
        list_size=100,
        description="Organizations taking part, by name.",
    )
    meetings: list[Event] = relation(
        "meetings_of_working_group",
        key="pk",
        to=Event.from_row,
        many=True,
        list_size=20,
        description="Its events, by start time.",
    )
    action_plan: list["ActionItem"] = relation(
        "action_items_of_working_group",
        key="pk",
        to=lambda row: ActionItem.from_row(row),
        many=True,
        list_size=20,
        description="Its action items, by due date.",
    )

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

    owner: Organization | None = relation(
        "organization",
        key="owner_id",
        to=Organization.from_row,
        description="The organization responsible for it.",
    )


@contributes_to(Organization)
class OrganizationWorkingGroups(Organization):
    working_groups: list[WorkingGroup] = relation(
        "working_groups_of_organization",
        key="pk",
        to=WorkingGroup.from_row,
        many=True,
        list_size=10,
    )


@contributes_to(Event)
class EventWorkingGroup(Event):
    working_group: WorkingGroup | None = relation(
        "working_group", key="working_group_id", to=WorkingGroup.from_row
    )


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
    errors: list[UserError] = field(list_size=5)


@strawberry.type
class ActionItemPayload(Payload):
    action_item: ActionItem | None
    errors: list[UserError] = field(list_size=5)


@strawberry.type
class WorkingGroupQueries:
    @field(
        description="Every working group, by name.",
        list_size=50,
        observed_by=working_groups.WORKING_GROUPS,
    )
    async def working_groups(self, info: Info) -> list[WorkingGroup]:
        return [WorkingGroup.from_row(row) for row in await working_groups.working_groups(info)]

    @field(description="A working group by `id` or `slug`.")
    async def working_group(
        self, info: Info, id: strawberry.ID | None = None, slug: str | None = None
    ) -> WorkingGroup | None:
        row = await working_groups.working_group(info, id=id, slug=slug)
        return WorkingGroup.from_row(row) if row else None


@strawberry.type
class WorkingGroupMutations:
    @strawberry.mutation(description="Start a working group, led by a member.")
    async def create_working_group(
        self, info: Info, input: CreateWorkingGroupInput
    ) -> WorkingGroupPayload:
        return await WorkingGroupPayload.of(
            working_groups.create_working_group(info, **given(input)), WorkingGroup.from_row
        )

    @strawberry.mutation(description="The caller's organization (a member) joins a working group.")
    async def join_working_group(self, info: Info, id: strawberry.ID) -> WorkingGroupPayload:
        return await WorkingGroupPayload.of(
            working_groups.join_working_group(info, id=id), WorkingGroup.from_row
        )

    @strawberry.mutation(description="The caller's organization leaves a working group.")
    async def leave_working_group(self, info: Info, id: strawberry.ID) -> WorkingGroupPayload:
        return await WorkingGroupPayload.of(
            working_groups.leave_working_group(info, id=id), WorkingGroup.from_row
        )

    @strawberry.mutation(
        description="Add an item to a working group's action plan (its organizations)."
    )
    async def add_action_item(
        self, info: Info, working_group_id: strawberry.ID, input: ActionItemInput
    ) -> ActionItemPayload:
        return await ActionItemPayload.of(
            working_groups.add_action_item(info, working_group_id=working_group_id, **given(input)),
            ActionItem.from_row,
        )

    @strawberry.mutation(description="Change an action item (its group's organizations).")
    async def update_action_item(
        self, info: Info, id: strawberry.ID, input: ActionItemInput
    ) -> ActionItemPayload:
        return await ActionItemPayload.of(
            working_groups.update_action_item(info, id=id, given=given(input)),
            ActionItem.from_row,
        )


DOMAIN = Domain(query=WorkingGroupQueries, mutation=WorkingGroupMutations)
