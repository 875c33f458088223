"""The club page for an anonymous visitor, when the operator lets requests without a token
read the public graph (CLUBJUSTICE_ANONYMOUS_READS, on in the demo): it shows the club at
once, without asking for a token, and follows it live across a cut, as a token's holder
would (tests/browser/test_pages.py)."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.browser.test_pages import Server, browser_program, club_server, follow_the_club

# One worker runs the module: its module-scoped fixture starts a server (or tool) once.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("anonymous_page")]


@pytest.fixture(scope="module")
async def anonymous_server(
    engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Server]:
    async with club_server(engine, tmp_path_factory, anonymous_reads="true") as running:
        yield running


async def test_an_anonymous_visitor_sees_the_club_and_its_live_feed_across_a_cut(
    anonymous_server: Server, browser: str, tmp_path: Path
) -> None:
    await follow_the_club(anonymous_server, browser, tmp_path, token="", role="anonymous")


async def test_a_refused_kept_token_can_be_forgotten_to_see_the_club_as_anonymous(
    anonymous_server: Server, browser: str, tmp_path: Path
) -> None:
    """A token kept in the browser that the service refuses (revoked, or from before a reset)
    would keep the visitor on the token form for ever: the page offers to forget it."""
    async with browser_program(
        browser, "stale_token.mjs", anonymous_server.base, logs=tmp_path
    ) as page:
        asked = await page.next()
        shown = await page.next()
        await page.end()
    assert asked["asked"].startswith("The token kept in this browser was refused")
    # While it asks, the club's (empty) sections are hidden.
    assert asked["clubShown"] is False
    assert shown == {"role": "anonymous", "kept": None, "problems": []}
