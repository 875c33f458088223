"""`initiativeUpdates` over a real WebSocket: its filters, a refused move that sends
nothing, visibility per subscriber, and a resume from a cursor with no gap or duplicate."""

from typing import Any

import pytest

from club.enums import FocusArea, Role
from db.models import WorkingGroup
from schema.ids import encode_id
from tests.factories import T0, add, country_ids, organization, program
from tests.ws.conftest import LiveServer, Subscriber, graphql, until_subscribed

UPDATES = """
subscription($stage: InitiativeStage, $focusArea: FocusArea, $after: String) {
  initiativeUpdates(stage: $stage, focusArea: $focusArea, after: $after) {
    cursor kind stage initiative { title stage focusArea program { slug } }
  }
}
"""
PROPOSE = """
mutation($title: String!, $focus: FocusArea!, $program: ID) {
  proposeInitiative(input: {
    title: $title, summary: "A summary.", problem: "A problem.", focusArea: $focus,
    countryCodes: ["MK"], programId: $program
  }) { initiative { id } errors { code } }
}
"""
MOVE = """
mutation($id: ID!, $stage: InitiativeStage!) {
  moveInitiativeStage(id: $id, stage: $stage) { initiative { stage } errors { code } }
}
"""


class Incubator:
    """A program run by a hub, and a proposer, with tokens."""

    def __init__(self, server: LiveServer, make_token: Any) -> None:
        self.server = server
        self.tokens = make_token

    async def build(self, session_factory: Any) -> "Incubator":
        codes = await country_ids(session_factory, "UA", "MK")
        hub = organization(codes["UA"], member=True, slug="hub")
        proposer = organization(codes["MK"], member=True, slug="proposer")
        await add(session_factory, hub, proposer)
        kyivlepp = program(hub.id, slug="kyivlepp")
        group = WorkingGroup(slug="g", name="G", focus_area=FocusArea.OTHER, created_at=T0)
        await add(session_factory, kyivlepp, group)
        self.program_id = encode_id("IncubatorProgram", kyivlepp.id)
        self.admin = await self.tokens(Role.ADMIN)
        self.hub = await self.tokens(Role.ORGANIZATION, hub.id)
        self.proposer = await self.tokens(Role.ORGANIZATION, proposer.id)
        return self

    async def propose(self, title: str, focus: str = "TECH_SOLUTIONS") -> str:
        done = await graphql(
            self.server,
            self.proposer,
            PROPOSE,
            {"title": title, "focus": focus, "program": self.program_id},
        )
        assert done["proposeInitiative"]["errors"] == []
        initiative_id: str = done["proposeInitiative"]["initiative"]["id"]
        return initiative_id

    async def move(self, token: str, initiative_id: str, stage: str) -> list[dict[str, str]]:
        done = await graphql(self.server, token, MOVE, {"id": initiative_id, "stage": stage})
        errors: list[dict[str, str]] = done["moveInitiativeStage"]["errors"]
        return errors


@pytest.fixture
async def incubator(live_server: LiveServer, make_token: Any, session_factory: Any) -> Incubator:
    return await Incubator(live_server, make_token).build(session_factory)


async def test_updates_follow_their_filters_and_a_refused_move_sends_nothing(
    incubator: Incubator, live_server: LiveServer
) -> None:
    everything = await Subscriber.open(live_server.ws, incubator.admin)
    incubating = await Subscriber.open(live_server.ws, incubator.proposer)
    health = await Subscriber.open(live_server.ws, incubator.admin)
    await everything.subscribe(UPDATES)
    await incubating.subscribe(UPDATES, {"stage": "INCUBATING"})
    await health.subscribe(UPDATES, {"focusArea": "PUBLIC_HEALTH"})
    await until_subscribed(live_server.feed, 3)

    triage = await incubator.propose("Triage tool")
    # The proposer may not move an incubated initiative: refused, rolled back, silent.
    assert await incubator.move(incubator.proposer, triage, "INCUBATING") == [
        {"code": "NOT_PROGRAM_ORGANIZER"}
    ]
    assert await incubator.move(incubator.hub, triage, "INCUBATING") == []
    await incubator.propose("Long COVID benefits", "PUBLIC_HEALTH")

    seen = [(await everything.next_data())["initiativeUpdates"] for _ in range(3)]
    assert [(u["kind"], u["stage"], u["initiative"]["title"]) for u in seen] == [
        ("PROPOSED", "IDEA", "Triage tool"),
        ("STAGE_CHANGED", "INCUBATING", "Triage tool"),
        ("PROPOSED", "IDEA", "Long COVID benefits"),
    ]
    moved = (await incubating.next_data())["initiativeUpdates"]
    assert (moved["kind"], moved["cursor"]) == ("STAGE_CHANGED", seen[1]["cursor"])
    assert moved["initiative"]["program"] == {"slug": "kyivlepp"}
    proposed = (await health.next_data())["initiativeUpdates"]
    assert (proposed["initiative"]["title"], proposed["cursor"]) == (
        "Long COVID benefits",
        seen[2]["cursor"],
    )
    for subscriber in (everything, incubating, health):
        await subscriber.close()


async def test_a_subscriber_resumes_from_its_cursor_without_gap_or_duplicate(
    incubator: Incubator, live_server: LiveServer
) -> None:
    subscriber = await Subscriber.open(live_server.ws, incubator.admin)
    await subscriber.subscribe(UPDATES)
    await until_subscribed(live_server.feed, 1)
    hotline = await incubator.propose("Hotline")
    last_cursor = (await subscriber.next_data())["initiativeUpdates"]["cursor"]
    await subscriber.close()

    # Offline while it moves twice and another is proposed.
    await incubator.move(incubator.hub, hotline, "INCUBATING")
    await incubator.move(incubator.hub, hotline, "PILOTING")
    await incubator.propose("Matching platform")

    back = await Subscriber.open(live_server.ws, incubator.admin)
    await back.subscribe(UPDATES, {"after": last_cursor})
    missed = [(await back.next_data())["initiativeUpdates"] for _ in range(3)]
    assert [(u["kind"], u["stage"], u["initiative"]["title"]) for u in missed] == [
        ("STAGE_CHANGED", "INCUBATING", "Hotline"),
        ("STAGE_CHANGED", "PILOTING", "Hotline"),
        ("PROPOSED", "IDEA", "Matching platform"),
    ]
    # The replayed row as it is now; the event's stage as the change left it.
    assert missed[0]["initiative"]["stage"] == "PILOTING"
    await incubator.move(incubator.hub, hotline, "IMPLEMENTED")  # and then live
    live = (await back.next_data())["initiativeUpdates"]
    assert (live["kind"], live["stage"]) == ("STAGE_CHANGED", "IMPLEMENTED")
    await back.close()

    # Resuming with a stage filter replays only what the changes left in that stage.
    piloting = await Subscriber.open(live_server.ws, incubator.admin)
    await piloting.subscribe(UPDATES, {"after": last_cursor, "stage": "PILOTING"})
    only = (await piloting.next_data())["initiativeUpdates"]
    assert (only["stage"], only["cursor"]) == ("PILOTING", missed[1]["cursor"])
    await piloting.close()
