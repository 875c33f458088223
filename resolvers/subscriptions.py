"""Subscriptions: the activity feed, filtered per subscriber, resumable from a cursor."""

from collections.abc import AsyncGenerator, Callable

import strawberry
from graphql import GraphQLError
from sqlalchemy import select

from db import models
from db.enums import ActivityKind, Role
from db.notifier import LiveEvent, Mailbox, SubscriberOverflow, TokenRevoked, replay
from resolvers.context import Info
from resolvers.loaders import Loaders
from resolvers.mutations import require_role
from schema.errors import BadUserInput
from schema.ids import decode_id, encode_id
from schema.live import (
    INVITATION_KINDS,
    MEETING_KINDS,
    InvitationUpdate,
    MeetingUpdate,
    MemberJoined,
)


async def _stream(
    info: Info, wants: Callable[[LiveEvent], bool], after: str | None
) -> AsyncGenerator[LiveEvent, None]:
    """Matching events: first those after the cursor `after` (from the log), then live ones,
    with no gap and no duplicate. The mailbox opens before the replay starts, so whatever
    commits meanwhile waits in it; events already replayed are skipped there."""
    context = info.context
    feed = context.feed
    if feed is None:
        raise RuntimeError("subscriptions need the process's activity feed")
    database = feed.database
    mailbox = Mailbox(
        wants, context.settings.subscriber_queue_size, token_id=context.principal.token_id
    )
    feed.subscribe(mailbox)
    try:
        position = feed.high_water if after is None else decode_id("Activity", after, field="after")
        if after is not None:
            async for live in replay(database, after=position, wants=wants):
                position = live.id
                yield _fresh(info, live)
        while True:
            try:
                live = await mailbox.next()
            except SubscriberOverflow:
                raise GraphQLError(
                    "This subscription fell too far behind and was ended; subscribe again "
                    "with `after` set to the last cursor you received.",
                    extensions={
                        "code": "SUBSCRIPTION_OVERFLOW",
                        "resumeAfter": encode_id("Activity", position) if position else None,
                    },
                ) from None
            except TokenRevoked:
                raise GraphQLError(
                    "The token was revoked.", extensions={"code": "UNAUTHENTICATED"}
                ) from None
            if live.id <= position:
                continue  # already replayed
            position = live.id
            yield _fresh(info, live)
    finally:
        feed.unsubscribe(mailbox)


def _fresh(info: Info, live: LiveEvent) -> LiveEvent:
    # A subscription's context lives as long as it does: each event reads through new
    # loaders, so nothing it selects is older than the event.
    info.context.loaders = Loaders.for_request(info.context.session_factory)
    return live


async def member_joined(
    info: Info, country_code: str | None = None, after: str | None = None
) -> AsyncGenerator[MemberJoined, None]:
    country_id = None
    if country_code is not None:
        async with info.context.session_factory() as session:
            country_id = await session.scalar(
                select(models.Country.id).where(models.Country.code == country_code.strip().upper())
            )
        if country_id is None:
            raise BadUserInput(
                f"`{country_code}` is not an ISO 3166-1 alpha-2 code.", field="countryCode"
            )

    def wants(live: LiveEvent) -> bool:
        return live.kind is ActivityKind.MEMBER_JOINED and (
            country_id is None
            or (live.organization is not None and live.organization.country_id == country_id)
        )

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
        return (
            live.kind in MEETING_KINDS
            and live.event is not None
            and (event_pk is None or live.event.id == event_pk)
            and (group_pk is None or live.event.working_group_id == group_pk)
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
        return (
            live.kind in INVITATION_KINDS
            and live.invitation is not None
            and own in (live.invitation.inviter_id, live.invitation.invitee_id)
        )

    async for live in _stream(info, wants, after):
        yield InvitationUpdate.from_live(live)
