"""The club page and GraphiQL in a real browser: Debian's Chromium driven by playwright-core
(the Node.js programs beside this file, pinned by its package-lock.json) against a real
`clubjustice serve` process on the demo data. Every request for another host than the
service's is refused and reported: the pages must work without internet."""

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from club.enums import Role
from db.engine import create_session_factory
from db.models import Country, Event, Organization, WorkingGroup
from db.tokens import authenticate, create_token, revoke_token
from tests.conftest import clean_tables
from tests.docs.demo import (
    GUEST,
    MEMBER,
    SECOND_GUEST,
    DemoTokens,
    graphql,
    guest_joins,
    second_guest_joins,
    seed_with_tokens,
)
from tests.e2e.servers import servers
from tests.node_programs import NodeProgram, node_program

# One worker runs the module: its module-scoped fixture starts a server (or tool) once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("pages")]

HERE = Path(__file__).parent
# A guard against a program that hangs, not a measure: each step takes about a second.
LINE_TIMEOUT = 30.0


@dataclass(frozen=True)
class Server:
    base: str
    tokens: DemoTokens
    engine: AsyncEngine


@asynccontextmanager
async def club_server(
    engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory, **settings: str
) -> AsyncIterator[Server]:
    """A server process on fresh demo data (on each database), with `settings`."""
    await clean_tables(engine)
    tokens = await seed_with_tokens(create_session_factory(engine))
    url = engine.url.render_as_string(hide_password=False)
    with servers(1, url, tmp_path_factory.mktemp("browser"), **settings) as (base,):
        yield Server(base, tokens, engine)


@pytest.fixture(scope="module")
async def server(
    engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Server]:
    """One server for the module; anonymous reads off, as by default."""
    async with club_server(engine, tmp_path_factory) as running:
        yield running


@asynccontextmanager
async def browser_program(
    node: str, program: str, *args: str, logs: Path, env: dict[str, str] | None = None
) -> AsyncIterator[NodeProgram]:
    async with node_program(
        node, HERE / program, *args, logs=logs, env=env or {}, line_timeout=LINE_TIMEOUT, stdin=True
    ) as running:
        yield running


async def subscribers(base: str) -> float:
    """The server's live subscriptions (its /metrics)."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{base}/metrics")).text
    [value] = re.findall(r"^clubjustice_subscriptions (\S+)$", text, re.MULTILINE)
    return float(value)


async def until_subscribed(base: str, count: float) -> None:
    """Until the page's subscriptions are registered: an event committed before would not
    reach a subscription that started from "now"."""
    async with asyncio.timeout(LINE_TIMEOUT):
        while True:
            if await subscribers(base) >= count:
                return
            await asyncio.sleep(0.05)


async def the_club(engine: AsyncEngine) -> dict[str, Any]:
    """What the page must show, read from the database (names sorted)."""
    now = datetime.now(UTC)
    session_factory = create_session_factory(engine)
    async with session_factory() as session:
        organizations = (await session.scalars(select(Organization))).all()
        events = (await session.scalars(select(Event))).all()
        groups = (await session.scalars(select(WorkingGroup.name))).all()
        countries = set(
            await session.scalars(
                select(Country.code).join(Organization, Organization.country_id == Country.id)
            )
        )
    return {
        "members": sorted(o.name for o in organizations if o.status.value == "MEMBER"),
        "guests": sorted(o.name for o in organizations if o.status.value == "GUEST"),
        "countries": sorted(countries),
        "upcoming": sorted(e.title for e in events if e.starts_at >= now),
        "past": sorted(e.title for e in events if e.starts_at < now),
        "groups": sorted(groups),
    }


def shown(club: dict[str, Any]) -> dict[str, Any]:
    return {key: sorted(value) for key, value in club.items() if key != "role"}


SCHEDULE = """mutation ($input: ScheduleEventInput!) {
  scheduleEvent(input: $input) { event { title } errors { code } }
}"""


async def schedule(server: Server, title: str) -> None:
    scheduled = await graphql(
        server.base,
        server.tokens.MEMBER,
        SCHEDULE,
        input={
            "title": title,
            "kind": "ONLINE_MEETING",
            "startsAt": "2031-03-05T10:00:00Z",
            "endsAt": "2031-03-05T11:00:00Z",
        },
    )
    assert scheduled == {"scheduleEvent": {"event": {"title": title}, "errors": []}}


async def name_of(server: Server, slug: str) -> str:
    query = "query ($slug: String!) { organization(slug: $slug) { name } }"
    found = await graphql(server.base, server.tokens.ADMIN, query, slug=slug)
    return str(found["organization"]["name"])


async def test_the_club_page_shows_the_club_and_its_live_feed_across_a_cut(
    server: Server, browser: str, tmp_path: Path
) -> None:
    await follow_the_club(server, browser, tmp_path, token=server.tokens.PARTNER, role="partner")


async def follow_the_club(
    server: Server, browser: str, tmp_path: Path, *, token: str, role: str
) -> None:
    """The club page read with `token` ("": none, as an anonymous visitor): the club, a
    member joining, then a cut of the page's WebSocket and what happened meanwhile."""
    expected = await the_club(server.engine)
    guest, sponsor = await name_of(server, GUEST), await name_of(server, MEMBER)
    second = await name_of(server, SECOND_GUEST)
    during, last = "Meeting during the cut", "Meeting after the cut"
    async with browser_program(
        browser,
        "club.mjs",
        server.base,
        token,
        logs=tmp_path,
        env={"WAIT_FOR": json.dumps([second, last])},
    ) as page:
        if token:
            # No token at first: anonymous reads are off, so it asks for one.
            assert await page.next() == {
                "asked": "This service shows the club to holders of an API token only "
                "(anonymous reads are off)."
            }
        opened = await page.next()
        club = opened["club"]
        assert (shown(club), club["role"]) == (expected, role)
        if token:
            # The token form had the focus and is now hidden: the focus moves to the club
            # (else it falls back to the page's start, and a keyboard user is lost).
            assert opened["focus"] == "main"

        # A guest accepts its invitation through the API: it appears without a reload.
        assert await page.next() == {"step": "live"}
        await until_subscribed(server.base, 2)
        await guest_joins(server.base, server.tokens)
        await page.say("joined")
        [joined] = (await page.next())["feed"]
        assert joined["kind"] == "member"
        said = f"{guest} (Moldova) joined the club, invited by {sponsor}."
        assert joined["text"].startswith(said)

        # The WebSocket is cut; meanwhile a second guest joins and a meeting is scheduled.
        assert await page.next() == {"step": "cut"}
        await second_guest_joins(server.base, server.tokens)
        await schedule(server, during)
        await page.say("committed")
        assert await page.next() == {"step": "restored"}
        await schedule(server, last)
        await page.say("last")
        final = await page.next()
        await page.end()

    feed = final["feed"]
    # Each event exactly once (by its cursor, and by what it says), each subscription's
    # events newest first.
    assert len({item["cursor"] for item in feed}) == len(feed), feed
    texts = [item["text"] for item in feed]
    members = [text for item, text in zip(feed, texts, strict=True) if item["kind"] == "member"]
    meetings = [text for item, text in zip(feed, texts, strict=True) if item["kind"] == "meeting"]
    assert [text.split(" (")[0] for text in members] == [second, guest], texts
    assert [text.split(" scheduled")[0] for text in meetings] == [
        f"Meeting {last}",
        f"Meeting {during}",
    ], texts
    # The new members moved from the guests to the members; the page reconnected.
    assert sorted(final["members"]) == sorted([*expected["members"], guest, second])
    assert final["connections"] >= 2
    assert (final["offsite"], final["problems"]) == ([], [])


async def test_the_club_page_stops_its_live_feed_when_its_token_is_revoked(
    server: Server, browser: str, tmp_path: Path
) -> None:
    """The server ends each subscription with UNAUTHENTICATED: the page says its live
    updates stopped, rather than resubscribing (refused again, every few seconds, for ever)."""
    session_factory = create_session_factory(server.engine)
    async with session_factory() as session, session.begin():
        _, token = await create_token(session, Role.PARTNER, label="revoked by the test")
    async with browser_program(browser, "revoked.mjs", server.base, token, logs=tmp_path) as page:
        assert await page.next() == {"step": "live"}
        async with session_factory() as session, session.begin():
            owner = await authenticate(session, token)
            assert owner is not None
            await revoke_token(session, owner.token_id)
        await page.say("revoked")
        stopped = await page.next()
        await page.end()
    assert stopped == {
        "stopped": "Live updates stopped: the token was refused.",
        "problems": [],
    }


HOSTILE = "<img src=x onerror=alert(1)>"
REGISTER = """mutation ($input: RegisterOrganizationInput!) {
  registerOrganization(input: $input) { organization { name } errors { code } }
}"""


async def test_the_club_page_shows_markup_in_the_club_s_data_as_text(
    server: Server, browser: str, tmp_path: Path
) -> None:
    """An organization's name and a meeting's title holding markup, given through the API,
    are shown as the text they are: no element made of them, no script run."""
    registered = await graphql(
        server.base,
        server.tokens.ADMIN,
        REGISTER,
        input={"name": HOSTILE, "countryCode": "MD", "kind": "NGO"},
    )
    assert registered["registerOrganization"]["errors"] == [], registered
    await schedule(server, HOSTILE)
    async with browser_program(
        browser, "hostile.mjs", server.base, server.tokens.PARTNER, logs=tmp_path
    ) as page:
        seen = await page.next()
        await page.end()
    assert HOSTILE in seen["guests"]
    assert HOSTILE in seen["upcoming"]
    assert (seen["images"], seen["dialogs"], seen["problems"]) == (0, [], [])


async def test_graphiql_works_offline_loads_the_schema_when_a_token_is_given_and_runs_operations(
    server: Server, browser: str, tmp_path: Path
) -> None:
    title = "Meeting seen in GraphiQL"
    async with browser_program(
        browser,
        "ide.mjs",
        server.base,
        server.tokens.PARTNER,
        logs=tmp_path,
        env={"MEETING_TITLE": title},
    ) as ide:
        opened = await ide.next()
        assert await ide.next() == {"step": "ready"}
        before = await subscribers(server.base)
        await ide.say("subscribe")
        assert await ide.next() == {"step": "subscribed"}
        await until_subscribed(server.base, before + 1)
        await schedule(server, title)
        await ide.say("scheduled")
        live = await ide.next()
        await ide.end()
    assert opened == {
        "tabs": ["Viewer", "Members", "LaunchMeeting", "CountryAndGroup", "MemberJoined", "Accept"],
        "before": "Error fetching schema",
        "result": {"data": {"viewer": {"role": "PARTNER", "organization": None}}},
    }
    assert live == {
        "event": {"data": {"meetingUpdates": {"kind": "SCHEDULED", "event": {"title": title}}}},
        "offsite": [],
        "problems": [],
    }
