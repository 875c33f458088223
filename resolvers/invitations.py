"""Query resolvers for invitations."""

import strawberry

from resolvers.context import Info
from schema.ids import decode_id
from schema.invitations import Invitation, load_visible_invitation


async def invitation(info: Info, id: strawberry.ID) -> Invitation | None:
    return await load_visible_invitation(info, decode_id("Invitation", id))
