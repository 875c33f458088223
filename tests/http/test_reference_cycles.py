"""A request leaves nothing that keeps its executor or its Context alive once it is
answered: refcounting frees them, and everything they hold (variables, rows, the request),
as soon as the answer is sent.

- graphql-core's executor keeps bound methods of itself (`async_helpers`): a cycle that
  kept each request alive until the collector's next run, which the server's thresholds
  made rare and long (schema/strawberry_private.py `ExecutorHooks`).
- The validation cache kept each refusal with its tracebacks, whose frames held the
  request that was refused first (schema/limits.py `_without_tracebacks`); found when a
  cache entry was evicted during this test in a full run.

Counted: the executors and Contexts the collector finds unreachable, and the Contexts still
reachable after the request."""

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
def left_behind() -> Iterator[list[str]]:
    """What the block made and left: the executors and Contexts only the collector would
    free (cyclic garbage), and the Contexts still reachable once it is over ("retained").
    Those alive before the block (an earlier test's, kept by a cache the block evicts from)
    are not counted. Told by `type`: `isinstance` of a weak proxy whose object is gone
    raises."""
    found: list[str] = []
    gc.collect()
    alive = {
        id(thing) for thing in gc.get_objects() if issubclass(type(thing), ExecutorHooks | Context)
    }
    enabled = gc.isenabled()
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
            if issubclass(type(thing), ExecutorHooks | Context) and id(thing) not in alive
        ]
        gc.garbage.clear()
        gc.set_debug(flags)
        gc.collect()
        found += [
            f"retained {type(thing).__name__}"
            for thing in gc.get_objects()
            if type(thing) is Context and id(thing) not in alive
        ]
        if enabled:
            gc.enable()


@pytest.fixture
async def organization_ids(session_factory: Any) -> list[int]:
    ids = await country_ids(session_factory, "MD", "KE")
    rows = [organization(ids["MD" if n % 2 else "KE"], member=n % 2 == 0) for n in range(6)]
    await add(session_factory, *rows)
    return [row.id for row in rows]


# A literal the DateTime scalar refuses: a validation error whose original error (the
# scalar's exception) had a traceback, kept with the error by the validation cache.
REFUSED = {"query": "{ events(filter: {startsAfter: 1.5}) { totalCount } }"}
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
            with left_behind() as found:
                response = await post(client, token, request)
            assert response.status_code == 200
            assert "errors" not in response.json()
            assert found == [], request["query"]


async def test_a_refused_document_keeps_no_request_alive(
    settings: Settings, make_token: MakeToken
) -> None:
    token = await make_token(Role.PARTNER)
    async with served(settings) as (client, _):
        for _ in range(2):  # validated, then refused again from the validation cache
            with left_behind() as found:
                response = await post(client, token, REFUSED)
            [error] = response.json()["errors"]
            assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
            assert found == []


async def test_a_mutation_leaves_no_cycle_behind(
    settings: Settings, make_token: MakeToken, session_factory: Any
) -> None:
    token = await make_token(Role.ADMIN)
    async with served(settings) as (client, _):
        with left_behind() as found:
            response = await post(client, token, REGISTER)
        assert response.json() == {
            "data": {"registerOrganization": {"organization": {"slug": "balti-lawyers"}}}
        }
        assert found == []
