"""A request leaves no reference cycle that holds its executor or its Context: refcounting
frees them, and everything they hold (variables, rows, the request), as soon as the answer
is sent. graphql-core's executor keeps bound methods of itself (`async_helpers`), which
kept each request alive until the collector's next run; with the server's thresholds that
run came every few hundred requests and took tens of milliseconds
(schema/strawberry_private.py `ExecutorHooks`). Counted: the objects of those types the
collector finds unreachable."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from club.enums import Role
from club.settings import Settings
from resolvers.context import Context
from schema.strawberry_private import ExecutorHooks
from tests.factories import add, country_ids, organization
from tests.http.conftest import MakeToken
from tests.http.test_compiled_short_path import entities
from tests.http.test_short_path import cache_settings, post, served


@contextmanager
def cyclic_garbage() -> Iterator[list[str]]:
    """The names of the executors and Contexts that only the collector would free, among
    what is made inside the block."""
    found: list[str] = []
    gc.collect()
    gc.disable()
    flags = gc.get_debug()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield found
    finally:
        gc.collect()
        found += [
            type(thing).__name__
            for thing in gc.garbage
            if isinstance(thing, ExecutorHooks | Context)
        ]
        gc.garbage.clear()
        gc.set_debug(flags)
        gc.enable()


@pytest.fixture
async def organization_ids(session_factory: Any) -> list[int]:
    ids = await country_ids(session_factory, "MD", "KE")
    rows = [organization(ids["MD" if n % 2 else "KE"], member=n % 2 == 0) for n in range(6)]
    await add(session_factory, *rows)
    return [row.id for row in rows]


VIEWER = {"query": "{ viewer { role organization { name } } }"}
REGISTER = {
    "query": 'mutation { registerOrganization(input: {name: "Balti Lawyers", '
    'countryCode: "MD", kind: NGO}) { organization { slug } } }'
}


@pytest.mark.parametrize("cached", [False, True], ids=["uncached", "cached"])
async def test_queries_leave_no_cycle_behind(
    settings: Settings,
    make_token: MakeToken,
    organization_ids: list[int],
    cached: bool,
) -> None:
    token = await make_token(Role.ADMIN)
    async with served(cache_settings(settings, cached=cached)) as (client, _):
        body = entities(organization_ids[:5])
        for request in (body, body, VIEWER, VIEWER):
            # The first of each is the long path's (the plan, or the reference executor for
            # `viewer`); the second the short path's or the cache's.
            with cyclic_garbage() as found:
                response = await post(client, token, request)
            assert response.status_code == 200
            assert "errors" not in response.json()
            assert found == [], request["query"]


async def test_a_mutation_leaves_no_cycle_behind(
    settings: Settings, make_token: MakeToken, session_factory: Any
) -> None:
    token = await make_token(Role.ADMIN)
    async with served(settings) as (client, _):
        with cyclic_garbage() as found:
            response = await post(client, token, REGISTER)
        assert response.json() == {
            "data": {"registerOrganization": {"organization": {"slug": "balti-lawyers"}}}
        }
        assert found == []
