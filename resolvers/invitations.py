"""Query resolvers for invitations: visible to admins, the inviter and the invitee only."""

import strawberry

import schema.invitations as invitation_types
from resolvers.context import Info
from resolvers.visibility import Audience, can_see
from schema.ids import decode_id


async def visible_invitation(info: Info, pk: int) -> "invitation_types.Invitation | None":
    """The invitation, or None when it does not exist or the caller may not see it."""
    row = await info.context.loaders.invitation.load(pk)
    if row is None:
        return None
    invitation = invitation_types.Invitation.from_row(row)
    if not can_see(Audience.OWNERS, info.context.principal, invitation.owner_ids()):
        return None
    return invitation


async def invitation(info: Info, id: strawberry.ID) -> "invitation_types.Invitation | None":
    return await visible_invitation(info, decode_id("Invitation", id))
