"""The activity log's position, for a client that reads the club and then follows it live."""

import strawberry

from resolvers import subscriptions
from resolvers.context import Info
from schema.domain import Domain
from schema.fields import field


@strawberry.type
class ActivityQueries:
    @field(
        description="Where this request's answer stands in the activity log, as a cursor. "
        "Subscribe with `after` set to it (memberJoined, meetingUpdates, …) to receive every "
        "change this answer does not show yet, none missed and none twice. Read in the same "
        "request as the data it goes with."
    )
    async def activity_cursor(self, info: Info) -> str:
        return await subscriptions.activity_position(info)


DOMAIN = Domain(query=ActivityQueries)
