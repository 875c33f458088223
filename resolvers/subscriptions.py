"""Subscriptions: the activity feed, filtered per subscriber, resumable from a cursor."""

from collections.abc import AsyncGenerator, Callable
from datetime import UTC, datetime

import strawberry
from graphql import GraphQLError
from sqlalchemy import func, select

from club.access import require_role
from club.enums import ActivityKind, Role
from club.errors import RequestError
from club.ids import decode_id
from db import models
from db.countries import country_id as country_id_of
from db.notifier import (
    LiveEvent,
    Mailbox,
    SubscriberFailed,
    SubscriberOverflow,
    TokenRevoked,
    replay,
)
from resolvers.context import Info
from resolvers.loaders import Loaders
from schema.live import (
    INVITATION_KINDS,
    MEETING_KINDS,
    InvitationUpdate,
    MeetingUpdate,
    MemberJoined,
    activity_cursor,
    parse_activity_cursor,
)


async def _stream(
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
        wants, context.settings.subscriber_queue_size, token_id=context.principal.token_id
    )
    if after is None:
        position = feed.subscribe(mailbox)
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
        position = max(position, feed.subscribe(mailbox))
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
                        "resumeAfter": activity_cursor(position),
                    },
                ) from None
            except TokenRevoked:
                raise GraphQLError(
                    "The token was revoked.", extensions={"code": "UNAUTHENTICATED"}
                ) from None
            except SubscriberFailed:
                raise RuntimeError("this subscription's filter failed") from None
            if live.id <= position:
                continue  # already replayed
            position = live.id
            yield _for_event(info, live)
    finally:
        feed.unsubscribe(mailbox)


def _for_event(info: Info, live: LiveEvent) -> LiveEvent:
    """Point the subscription's long-lived context at this event: its clock, and loaders
    shared by every subscriber of the event (a relation field costs one read for all of
    them; visibility is still decided per subscriber, on the rows the loaders return)."""
    context = info.context
    context.now = datetime.now(UTC)
    if context.metrics is not None:
        context.metrics.events_delivered.inc()
    context.loaders = live.shared.setdefault(
        "loaders", Loaders.for_request(context.session_factory)
    )
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


async def _last_log_id(info: Info) -> int:
    async with info.context.session_factory() as session:
        return await session.scalar(select(func.max(models.ActivityLogEntry.id))) or 0


async def member_joined(
    info: Info, country_code: str | None = None, after: str | None = None
) -> AsyncGenerator[MemberJoined, None]:
    country_id = None
    if country_code is not None:
        async with info.context.session_factory() as session:
            country_id = await country_id_of(session, country_code)
        if country_id is None:
            raise RequestError.bad_input(
                f"`{country_code}` is not an ISO 3166-1 alpha-2 code.", field="countryCode"
            )

    def wants(live: LiveEvent) -> bool:
        if live.kind is not ActivityKind.MEMBER_JOINED:
            return False
        joined = live.subject_as(models.Organization)
        return country_id is None or (joined is not None and joined.country_id == country_id)

    async for live in _stream(info, wants, after):
        yield MemberJoined.from_live(live)


async def meeting_updates(
    info: Info,
    event_id: strawberry.ID | None = None,
    working_group_id: strawberry.ID | None = None,
    after: str | None = None,
) -> AsyncGenerator[MeetingUpdate, None]:
    event_pk = None if event_id is None else decode_id("Event", event_id, field="eventId")
    group_pk = (
        None
        if working_group_id is None
        else decode_id("WorkingGroup", working_group_id, field="workingGroupId")
    )

    def wants(live: LiveEvent) -> bool:
        event = live.subject_as(models.Event)
        return (
            live.kind in MEETING_KINDS
            and event is not None
            and (event_pk is None or event.id == event_pk)
            and (group_pk is None or event.working_group_id == group_pk)
        )

    async for live in _stream(info, wants, after):
        yield MeetingUpdate.from_live(live)


async def invitation_updates(
    info: Info, after: str | None = None
) -> AsyncGenerator[InvitationUpdate, None]:
    """The caller's organization's invitations, sent or received."""
    require_role(info.context.principal, Role.ORGANIZATION)
    own = info.context.principal.organization_id

    def wants(live: LiveEvent) -> bool:
        invitation = live.subject_as(models.Invitation)
        return (
            live.kind in INVITATION_KINDS
            and invitation is not None
            and own in (invitation.inviter_id, invitation.invitee_id)
        )

    async for live in _stream(info, wants, after):
        yield InvitationUpdate.from_live(live)
