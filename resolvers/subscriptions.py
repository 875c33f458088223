"""Following the activity feed: what every subscription shares. A domain's subscription
resolver says which events it wants (`follow(info, wants, after)`); the schema wraps them."""

from collections.abc import AsyncGenerator, Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from graphql import GraphQLError
from sqlalchemy import func, select

from club.cursors import activity_cursor, parse_activity_cursor
from club.errors import RequestError
from db import models
from db.notifier import (
    LiveEvent,
    Mailbox,
    Route,
    SubscriberFailed,
    SubscriberOverflow,
    TokenRevoked,
    replay,
)
from resolvers.context import Info
from resolvers.loaders import Loaders

# The route of the subscription being started, set by its transport around the start (the
# operation's task inherits it), keyed by the schema's executor (schema/fanout.py). None:
# its transport has none, and every event wakes the subscription.
SUBSCRIPTION_ROUTE: ContextVar[Route | None] = ContextVar("subscription_route", default=None)


async def follow(
    info: Info, wants: Callable[[LiveEvent], bool], after: str | None
) -> AsyncGenerator[LiveEvent, None]:
    """Matching events: first those after the cursor `after`, read from the log, then live
    ones, with no gap and no duplicate.

    The replay reads the log until it has caught up with what the feed has read; then, in
    the same step (no await between), the mailbox opens at that point, and the feed hands
    it everything after. So a long replay does not fill the mailbox meanwhile."""
    context = info.context
    feed = context.feed
    if feed is None:
        raise RuntimeError("subscriptions need the process's activity feed")
    await _refuse_revoked_token(info)
    mailbox = Mailbox(
        wants,
        context.settings.subscriber_queue_size,
        token_id=context.principal.token_id,
        route=SUBSCRIPTION_ROUTE.get(),
    )
    if after is None:
        mailbox.position = feed.subscribe(mailbox)
    else:
        position = parse_activity_cursor(after)
        if position > feed.high_water and position > await _last_log_id(info):
            raise RequestError.bad_input("This cursor is ahead of the activity log.", field="after")
        while position < feed.high_water:  # catch up with the feed, in as many rounds as it takes
            upto = feed.high_water
            async for live in replay(feed.database, after=position, upto=upto, wants=wants):
                yield _for_event(info, live)
            position = upto
        # No await since the loop's last check: the feed has read nothing new in between.
        mailbox.position = max(position, feed.subscribe(mailbox))
    try:
        # Again, now that revocations reach the mailbox: one committed between the first
        # check and the registration would otherwise go unnoticed.
        await _refuse_revoked_token(info)
        while True:
            try:
                live = await mailbox.next()
            except SubscriberOverflow:
                raise GraphQLError(
                    "This subscription fell too far behind and was ended; subscribe again "
                    "with `after` set to the cursor in `resumeAfter`.",
                    extensions={
                        "code": "SUBSCRIPTION_OVERFLOW",
                        "resumeAfter": activity_cursor(mailbox.position),
                    },
                ) from None
            except TokenRevoked:
                raise GraphQLError(
                    "The token was revoked.", extensions={"code": "UNAUTHENTICATED"}
                ) from None
            except SubscriberFailed:
                raise RuntimeError("this subscription's filter failed") from None
            yield _for_event(info, live)
    finally:
        feed.unsubscribe(mailbox)
        mailbox.close()


def _for_event(info: Info, live: LiveEvent) -> LiveEvent:
    """Point the subscription's long-lived context at this event: a clock and loaders shared
    by every subscriber of the event (a relation field costs one read for all of them;
    visibility is still decided per subscriber, on the rows the loaders return; and with
    the same clock, subscribers that see alike get one answer, schema/fanout.py). The
    loaders are shielded: a subscriber that leaves mid-read does not cancel the others'."""
    context = info.context
    if context.metrics is not None:
        context.metrics.events_delivered.inc()
    shared = live.shared
    if "loaders" not in shared:
        shared["now"] = datetime.now(UTC)
        shared["loaders"] = Loaders.for_event(context.session_factory)
    context.now = shared["now"]
    context.loaders = shared["loaders"]
    return live


async def _refuse_revoked_token(info: Info) -> None:
    """A token revoked after the connection was made may not start a subscription."""
    principal = info.context.principal
    if principal.token_id is None:
        return
    async with info.context.session_factory() as session:
        revoked = await session.scalar(
            select(models.ApiToken.revoked_at).where(models.ApiToken.id == principal.token_id)
        )
    if revoked is not None:
        raise GraphQLError("The token was revoked.", extensions={"code": "UNAUTHENTICATED"})


async def activity_position(info: Info) -> str:
    """The cursor of the activity log where this request stands: the high-water mark read
    with its token, before any of its data (so a client that subscribes with `after` set to
    it receives every change its data does not show, and none twice); where no mark was read
    (a subscription's event), the log's last id now."""
    mark = info.context.activity_high_water
    return activity_cursor(await _last_log_id(info) if mark is None else mark)


async def _last_log_id(info: Info) -> int:
    async with info.context.session_factory() as session:
        return await session.scalar(select(func.max(models.ActivityLogEntry.id))) or 0
