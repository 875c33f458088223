"""Two real server processes on one PostgreSQL database: the invitation quota holds when 40
invitations race over HTTP through both, and a change made through one reaches subscribers
of the other; one idempotency key sent through both makes one change; with one Redis, a
token's rate limit is one budget across both, for requests in turn or all at once (without
it, one per replica)."""

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from club.cursors import activity_cursor
from club.enums import Role
from db.models import Event, Invitation
from db.tokens import create_token
from schema.ids import encode_id
from tests.e2e.servers import servers
from tests.factories import guests_of_a_member
from tests.ws.conftest import Subscriber

pytestmark = pytest.mark.e2e

INVITE = """
mutation($guest: ID!) {
  inviteOrganization(input: {inviteeId: $guest}) { invitation { id } errors { code } }
}
"""
ACCEPT = "mutation($id: ID!) { acceptInvitation(id: $id) { errors { code } } }"
RACERS = 40


async def test_two_replicas_issue_exactly_five_of_forty_racing_invitations(
    engine: AsyncEngine, session_factory: Any, tmp_path: Path
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("replicas share a PostgreSQL database; SQLite is one process's own")
    inviter, guests = await guests_of_a_member(session_factory, RACERS)
    async with session_factory() as session, session.begin():
        _, token = await create_token(session, Role.ORGANIZATION, organization_id=inviter.id)

    with servers(2, engine.url.render_as_string(hide_password=False), tmp_path) as bases:
        async with httpx.AsyncClient(
            headers={"authorization": f"Bearer {token}"}, timeout=30
        ) as client:

            async def invite(n: int) -> dict[str, Any]:
                response = await client.post(
                    f"{bases[n % 2]}/graphql",
                    json={
                        "query": INVITE,
                        "variables": {"guest": encode_id("Organization", guests[n].id)},
                    },
                )
                assert response.status_code == 200
                body = response.json()
                assert "errors" not in body, body  # nothing lost to a database error
                payload: dict[str, Any] = body["data"]["inviteOrganization"]
                return payload

            payloads = await asyncio.gather(*(invite(n) for n in range(RACERS)))

    outcomes = Counter("sent" if p["invitation"] else p["errors"][0]["code"] for p in payloads)
    assert outcomes == {"sent": 5, "INVITATION_QUOTA_EXCEEDED": 35}
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Invitation)) == 5


async def test_a_change_on_one_replica_reaches_subscribers_of_the_other(
    engine: AsyncEngine, session_factory: Any, tmp_path: Path
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("replicas share a PostgreSQL database; SQLite is one process's own")
    inviter, guests = await guests_of_a_member(session_factory, 2)
    async with session_factory() as session, session.begin():
        _, member_token = await create_token(session, Role.ORGANIZATION, organization_id=inviter.id)
        guest_tokens = [
            (await create_token(session, Role.ORGANIZATION, organization_id=g.id))[1]
            for g in guests
        ]
        _, admin_token = await create_token(session, Role.ADMIN)

    async def join(base: str, n: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            sent = await client.post(
                "/graphql",
                json={
                    "query": INVITE,
                    "variables": {"guest": encode_id("Organization", guests[n].id)},
                },
                headers={"authorization": f"Bearer {member_token}"},
            )
            invitation_id = sent.json()["data"]["inviteOrganization"]["invitation"]["id"]
            accepted = await client.post(
                "/graphql",
                json={"query": ACCEPT, "variables": {"id": invitation_id}},
                headers={"authorization": f"Bearer {guest_tokens[n]}"},
            )
            assert accepted.json() == {"data": {"acceptInvitation": {"errors": []}}}

    # Polling off: only PostgreSQL's NOTIFY can carry the change from one process to the other.
    url = engine.url.render_as_string(hide_password=False)
    with servers(2, url, tmp_path, live_poll_interval="3600") as (first, second):
        subscriber = await Subscriber.open(first.replace("http", "ws") + "/graphql", admin_token)
        # From the log's beginning: whether the subscription is registered before or after
        # the first change, it gets it (by replay or live).
        await subscriber.subscribe(
            "subscription($after: String) { memberJoined(after: $after) { organization { id } } }",
            {"after": activity_cursor(0)},
        )
        await join(first, 0)  # through the subscriber's own server
        assert await subscriber.next_data() == {
            "memberJoined": {"organization": {"id": encode_id("Organization", guests[0].id)}}
        }
        await join(second, 1)  # through the other server
        assert await subscriber.next_data() == {
            "memberJoined": {"organization": {"id": encode_id("Organization", guests[1].id)}}
        }
        await subscriber.close()


NAME = "query Name($id: ID!) { organization(id: $id) { name } }"
RENAME = """
mutation($id: ID!, $name: String!) {
  updateOrganization(id: $id, input: {name: $name}) { errors { code } }
}
"""


async def test_a_change_through_one_replica_is_seen_at_once_by_the_other_s_cache(
    engine: AsyncEngine, session_factory: Any, tmp_path: Path
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("replicas share a PostgreSQL database; SQLite is one process's own")
    member, _ = await guests_of_a_member(session_factory, 1)
    async with session_factory() as session, session.begin():
        _, token = await create_token(session, Role.ADMIN)
    member_id = encode_id("Organization", member.id)

    with servers(2, engine.url.render_as_string(hide_password=False), tmp_path) as (a, b):
        async with httpx.AsyncClient(headers={"authorization": f"Bearer {token}"}) as client:

            async def name_on(base: str) -> str:
                response = await client.post(
                    f"{base}/graphql", json={"query": NAME, "variables": {"id": member_id}}
                )
                return response.json()["data"]["organization"]["name"]  # type: ignore[no-any-return]

            before = await name_on(b)
            assert await name_on(b) == before  # now from b's cache
            renamed = await client.post(
                f"{a}/graphql",
                json={"query": RENAME, "variables": {"id": member_id, "name": "Renamed on A"}},
            )
            assert renamed.json() == {"data": {"updateOrganization": {"errors": []}}}
            assert await name_on(b) == "Renamed on A"
            metrics = (await client.get(f"{b}/metrics")).text
    assert 'clubjustice_response_cache_total{result="hit"} 1.0' in metrics
    assert 'clubjustice_response_cache_total{result="miss"} 2.0' in metrics


SCHEDULE = """
mutation {
  scheduleEvent(input: {title: "Paralegals", kind: ONLINE_MEETING,
                        startsAt: "2031-03-01T10:00:00Z", endsAt: "2031-03-01T11:00:00Z"}) {
    event { id title } errors { code }
  }
}
"""


async def test_one_idempotency_key_sent_eight_times_through_two_replicas_makes_one_event(
    engine: AsyncEngine, session_factory: Any, tmp_path: Path
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("replicas share a PostgreSQL database; SQLite is one process's own")
    host, _ = await guests_of_a_member(session_factory, 1)
    async with session_factory() as session, session.begin():
        _, token = await create_token(session, Role.ORGANIZATION, organization_id=host.id)

    with servers(2, engine.url.render_as_string(hide_password=False), tmp_path) as bases:
        async with httpx.AsyncClient(
            headers={"authorization": f"Bearer {token}", "Idempotency-Key": "once"}, timeout=30
        ) as client:
            responses = await asyncio.gather(
                *(
                    client.post(f"{bases[n % 2]}/graphql", json={"query": SCHEDULE})
                    for n in range(8)
                )
            )

    answers = [response.json() for response in responses]
    assert [response.status_code for response in responses] == [200] * 8
    assert answers == [answers[0]] * 8
    assert answers[0]["data"]["scheduleEvent"]["errors"] == []
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).where(Event.title == "Paralegals")) == 1


PER_MINUTE = 5
REQUESTS = 4 * PER_MINUTE


async def test_replicas_share_a_rate_limit_through_redis(
    engine: AsyncEngine,
    session_factory: Any,
    tmp_path: Path,
    redis_url: str,
    redis_key_prefix: str,
) -> None:
    """Requests alternate between the replicas: exactly the budget passes, and both refuse
    the rest."""
    shared = {"redis_url": redis_url, "rate_limit_key_prefix": redis_key_prefix}
    await _alternate_between_replicas(engine, session_factory, tmp_path, shared, PER_MINUTE)


async def test_without_redis_each_replica_grants_the_whole_budget(
    engine: AsyncEngine, session_factory: Any, tmp_path: Path
) -> None:
    """The behaviour before shared limits, and still the one when CLUBJUSTICE_REDIS_URL is
    unset: the same requests get twice the budget through two replicas."""
    await _alternate_between_replicas(
        engine, session_factory, tmp_path, {"redis_url": ""}, 2 * PER_MINUTE
    )


async def _alternate_between_replicas(
    engine: AsyncEngine,
    session_factory: Any,
    tmp_path: Path,
    settings: dict[str, str],
    granted: int,
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("replicas share a PostgreSQL database; SQLite is one process's own")
    async with session_factory() as session, session.begin():
        _, token = await create_token(session, Role.PARTNER)

    url = engine.url.render_as_string(hide_password=False)
    with servers(2, url, tmp_path, rate_limit_partner=str(PER_MINUTE), **settings) as bases:
        async with httpx.AsyncClient(
            headers={"authorization": f"Bearer {token}"}, timeout=30
        ) as client:
            responses = [
                await client.post(f"{bases[n % 2]}/graphql", json={"query": "{ viewer { role } }"})
                for n in range(REQUESTS)
            ]

    assert [response.status_code for response in responses] == [200] * granted + [429] * (
        REQUESTS - granted
    )
    for response in responses[:granted]:
        assert response.json() == {"data": {"viewer": {"role": "PARTNER"}}}
    for response in responses[granted:]:  # from both replicas, alternately
        assert 1 <= int(response.headers["retry-after"]) <= 60
        assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


BURST = 150
BURST_BUDGET = 20


async def test_a_concurrent_burst_through_two_replicas_gets_exactly_the_shared_budget(
    engine: AsyncEngine,
    session_factory: Any,
    tmp_path: Path,
    redis_url: str,
    redis_key_prefix: str,
) -> None:
    """150 requests at once, half through each replica: exactly the budget passes and no
    request is decided by a replica's own bucket (tests/server/test_shared_limits.py drives
    more concurrent calls than a replica's pool holds; real servers rarely reach that)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("replicas share a PostgreSQL database; SQLite is one process's own")
    async with session_factory() as session, session.begin():
        _, token = await create_token(session, Role.PARTNER)

    url = engine.url.render_as_string(hide_password=False)
    with servers(
        2,
        url,
        tmp_path,
        rate_limit_partner=str(BURST_BUDGET),
        redis_url=redis_url,
        rate_limit_key_prefix=redis_key_prefix,
        # Redis answers late on a loaded machine, and a late answer is decided by the
        # replica's own bucket: that fallback is another test's subject, not this one's.
        redis_timeout="30",
    ) as bases:
        async with httpx.AsyncClient(
            headers={"authorization": f"Bearer {token}"},
            timeout=60,
            limits=httpx.Limits(max_connections=BURST),
        ) as client:
            responses = await asyncio.gather(
                *(
                    client.post(f"{bases[n % 2]}/graphql", json={"query": "{ viewer { role } }"})
                    for n in range(BURST)
                )
            )
        # On new connections: one the burst left idle may have passed uvicorn's keep-alive
        # (5 s) on a slow machine, and a request racing its close is not answered.
        async with httpx.AsyncClient(timeout=60) as fresh:
            metrics = [(await fresh.get(f"{base}/metrics")).text for base in bases]

    assert Counter(response.status_code for response in responses) == {
        200: BURST_BUDGET,
        429: BURST - BURST_BUDGET,
    }
    for text in metrics:
        assert "clubjustice_rate_limit_fallbacks_total 0.0" in text
