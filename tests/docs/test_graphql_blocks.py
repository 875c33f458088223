"""Every GraphQL operation in README.md and docs/*.md runs against the demo data (what
`clubjustice seed` inserts), on SQLite and PostgreSQL, through a real server, with the demo
token its marker names (`<!-- run as: ROLE -->`; a partner's by default, as the README
says any demo token will do). The whole answer must be data without errors, and every
root field and every list in it must hold something: a doc's example that finds nothing
shows nothing.
A subscription is followed over WebSocket while the demo guest accepts its invitation
(the README's walkthrough); its first event must be data without errors."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, OperationType

from club.settings import Settings
from db.engine import SessionFactory
from tests.docs.blocks import HOW_TO, Block, blocks_run_by, graphql_document
from tests.docs.demo import DemoTokens, guest_joins, seed_with_tokens
from tests.ws.conftest import LiveServer, Subscriber, run_server, until_subscribed

OPERATIONS = blocks_run_by("graphql operation")


@pytest.fixture
async def demo(
    settings: Settings, session_factory: SessionFactory
) -> AsyncIterator[tuple[LiveServer, DemoTokens]]:
    tokens = await seed_with_tokens(session_factory)
    async for server in run_server(settings.model_copy(update={"live_poll_interval": 0.2})):
        yield server, tokens


def empty_parts(value: Any, path: str = "data") -> list[str]:
    """Where the answer found nothing: a null root field, or an empty list at any depth (an
    example whose lists are empty shows nothing of what it is about)."""
    if value == [] or (value is None and path.count(".") == 1):
        return [path]
    if isinstance(value, dict):
        return [
            found for key, item in value.items() for found in empty_parts(item, f"{path}.{key}")
        ]
    if isinstance(value, list):
        return [
            found for n, item in enumerate(value) for found in empty_parts(item, f"{path}[{n}]")
        ]
    return []


def test_the_docs_have_operations_and_a_subscription() -> None:
    kinds = {
        definition.operation.value
        for block in OPERATIONS
        for definition in graphql_document(block).definitions
        if isinstance(definition, OperationDefinitionNode)
    }
    assert kinds == {"query", "subscription"}, kinds


@pytest.mark.parametrize("block", OPERATIONS, ids=str)
async def test_a_graphql_block_answers_with_data(
    block: Block, demo: tuple[LiveServer, DemoTokens]
) -> None:
    server, tokens = demo
    token = tokens.of(block.value or "PARTNER")
    what = f"{block}, run as {block.value or 'PARTNER'} on the demo data"
    [operation] = [
        definition
        for definition in graphql_document(block).definitions
        if isinstance(definition, OperationDefinitionNode)
    ]
    if operation.operation == OperationType.SUBSCRIPTION:
        subscriber = await Subscriber.open(server.ws, token)
        try:
            await subscriber.subscribe(block.text)
            await until_subscribed(server.feed, 1)
            await guest_joins(server.http, tokens)
            message = await subscriber.receive()
        finally:
            await subscriber.close()
        assert message["type"] == "next" and set(message["payload"]) == {"data"}, (
            f"{what}: the first event was {message}. {HOW_TO}"
        )
        data = message["payload"]["data"]
    else:
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"{server.http}/graphql",
                json={"query": block.text},
                headers={"authorization": f"Bearer {token}"},
            )
        body = response.json()
        assert response.status_code == 200 and set(body) == {"data"}, f"{what}: {body}. {HOW_TO}"
        data = body["data"]
    assert empty_parts(data) == [], f"{what}: found nothing at {empty_parts(data)}. {HOW_TO}"
