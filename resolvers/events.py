"""Query resolvers for events: the calendar and single lookups."""

from datetime import datetime

import strawberry
from sqlalchemy import select

from db import models
from resolvers.context import Info
from resolvers.pagination import SortOrder, page_size, paginate
from schema.errors import BadUserInput
from schema.events import Event, EventFilter
from schema.ids import decode_id
from schema.pagination import Connection

BY_START = SortOrder("events", (models.Event.starts_at, models.Event.id))


async def events(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    filter: EventFilter | None = None,
) -> Connection[Event]:
    statement = select(models.Event)
    if filter is not None:
        if filter.starts_after is not None:
            statement = statement.where(models.Event.starts_at >= _aware(filter.starts_after))
        if filter.starts_before is not None:
            statement = statement.where(models.Event.starts_at < _aware(filter.starts_before))
        if filter.status is not None:
            statement = statement.where(models.Event.status == filter.status)
        if filter.working_group_id is not None:
            working_group = decode_id(
                "WorkingGroup", filter.working_group_id, field="workingGroupId"
            )
            statement = statement.where(models.Event.working_group_id == working_group)
    return await paginate(
        info.context.session_factory,
        statement,
        BY_START,
        first=page_size(first, info.context.settings),
        after=after,
        to_node=Event.from_row,
    )


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise BadUserInput("Times need a UTC offset, e.g. 2021-10-28T12:00:00Z.")
    return moment


async def event(info: Info, id: strawberry.ID) -> Event | None:
    row = await info.context.loaders.event.load(decode_id("Event", id))
    return Event.from_row(row) if row else None
