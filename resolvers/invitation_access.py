"""Looking up an invitation for the caller: only admins, the inviter and the invitee see it.
(Apart from the invitation mutations so that the schema's types can use it too.)"""

from club.access import Audience, can_see
from db import models
from resolvers.context import Info


def owners(row: models.Invitation) -> frozenset[int]:
    return frozenset((row.inviter_id, row.invitee_id))


async def visible_invitation(info: Info, pk: int) -> models.Invitation | None:
    """The invitation's row, or None when it does not exist or the caller may not see it."""
    row = await info.context.loaders.invitation.load(pk)
    if row is None or not can_see(Audience.OWNERS, info.context.principal, owners(row)):
        return None
    return row
