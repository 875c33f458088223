"""`activityCursor`: where a request's answer stands in the activity log — the high-water
mark read with its token, before any of its data — so that a client subscribing after it
misses nothing its answer does not show."""

from typing import Any

from sqlalchemy import func, select

from club.cursors import activity_cursor
from db.models import ActivityLogEntry
from schema.root import build_schema
from tests.factories import add, country_ids, organization
from tests.ws.test_live_feed import log_member_joined

QUERY = "{ activityCursor }"


async def log_change(session_factory: Any, organization_id: int) -> int:
    """A MEMBER_JOINED row committed, and the log's last id after it."""
    await log_member_joined(session_factory, organization_id)
    async with session_factory() as session:
        last = await session.scalar(select(func.max(ActivityLogEntry.id)))
    assert last is not None
    return int(last)


async def test_the_cursor_is_the_mark_read_with_the_token_not_the_log_now(
    make_context: Any, session_factory: Any
) -> None:
    md = (await country_ids(session_factory, "MD"))["MD"]
    member = organization(md, member=True, slug="member")
    await add(session_factory, member)
    read_with_token = await log_change(session_factory, member.id)
    later = await log_change(session_factory, member.id)  # after the token check, say
    assert later > read_with_token
    context = make_context()
    context.activity_high_water = read_with_token
    result = await build_schema().execute(QUERY, context_value=context)
    assert result.errors is None
    assert result.data == {"activityCursor": activity_cursor(read_with_token)}


async def test_without_a_mark_it_is_the_log_now(make_context: Any, session_factory: Any) -> None:
    result = await build_schema().execute(QUERY, context_value=make_context())
    assert result.data == {"activityCursor": activity_cursor(0)}
    md = (await country_ids(session_factory, "MD"))["MD"]
    member = organization(md, member=True, slug="member")
    await add(session_factory, member)
    last = await log_change(session_factory, member.id)
    result = await build_schema().execute(QUERY, context_value=make_context())
    assert result.data == {"activityCursor": activity_cursor(last)}
