"""The cost budget counted on what each event of a subscription produces: an event over it
is stopped with RESULT_TOO_LARGE, and the next event starts from zero."""

from datetime import UTC, datetime
from typing import Any

from club.enums import ActivityKind, Role
from club.settings import Settings
from db.activity import Subject, append_activity
from db.engine import SessionFactory
from db.models import Organization
from tests.factories import add, country_ids, organization
from tests.ws.conftest import Subscriber, run_server, until_subscribed

JOINED = (
    "subscription { memberJoined { organization { name country { organizations { name } } } } }"
)


async def joined(session_factory: SessionFactory, member: Organization) -> None:
    async with session_factory() as session, session.begin():
        await append_activity(
            session,
            ActivityKind.MEMBER_JOINED,
            occurred_at=datetime.now(UTC),
            subject=Subject.of(Organization, member.id),
        )


async def test_each_event_is_counted_against_the_budget_on_its_own(
    live_settings: Settings, session_factory: SessionFactory, make_token: Any
) -> None:
    countries = await country_ids(session_factory, "KE", "MD")
    kenyan = organization(countries["KE"], member=True, name="Kenyan member")
    moldovan = organization(countries["MD"], member=True, name="Moldovan member")
    await add(session_factory, kenyan, moldovan)
    token = await make_token(Role.PARTNER)
    # Observed at start-up: one organization per country; an event is estimated at
    # memberJoined, organization, country and 1 + 1 + 5 organizations: 10, under 30.
    async for server in run_server(live_settings.model_copy(update={"cost_budget_partner": 30})):
        subscriber = await Subscriber.open(server.ws, token)
        operation = await subscriber.subscribe(JOINED)
        await until_subscribed(server.feed, 1)
        await add(session_factory, *(organization(countries["KE"]) for _ in range(40)))
        await joined(session_factory, kenyan)  # 3 + 41 objects
        await joined(session_factory, moldovan)  # 3 + 1 objects
        stopped, answered = await subscriber.receive(), await subscriber.receive()
        await subscriber.close()
    assert (stopped["type"], stopped["id"]) == ("next", operation)
    assert stopped["payload"]["data"] is None
    assert [(error["message"], error["extensions"]) for error in stopped["payload"]["errors"]] == [
        (
            "This event's answer grew past 30 objects, the budget of PARTNER tokens, and the "
            "event was stopped there (its data is null or partial; the subscription goes on). "
            "Ask for smaller pages (`first`) or fewer nested lists.",
            {"code": "RESULT_TOO_LARGE", "limit": 30},
        )
    ]
    assert answered == {
        "id": operation,
        "type": "next",
        "payload": {
            "data": {
                "memberJoined": {
                    "organization": {
                        "name": "Moldovan member",
                        "country": {"organizations": [{"name": "Moldovan member"}]},
                    }
                }
            }
        },
    }
