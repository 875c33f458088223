"""The Starlette app in-process, lifespan included, over httpx; tokens made as the CLI does."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Receive, Scope, Send

import resolvers.loaders
from club.enums import Role
from club.settings import Settings
from server.app import create_app

MakeToken = Callable[..., Awaitable[str]]


def copying_state(app: ASGIApp) -> ASGIApp:
    """Each request gets its own shallow copy of the lifespan state, as the ASGI spec has
    servers do (uvicorn does; asgi-lifespan hands every request the one dict)."""

    async def app_with_own_state(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan" and "state" in scope:
            scope = {**scope, "state": dict(scope["state"])}
        await app(scope, receive, send)

    return app_with_own_state


async def open_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(copying_state(create_app(settings))) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
async def client(settings: Settings, session_factory: Any) -> AsyncIterator[httpx.AsyncClient]:
    async for client in open_client(settings):
        yield client


# Requests without a bearer token and without a JSON body must carry one of these (CSRF
# prevention); with a token they change nothing.
PREFLIGHT = {"graphql-require-preflight": "1"}


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
async def admin_headers(make_token: MakeToken) -> dict[str, str]:
    return bearer(await make_token(Role.ADMIN))


@pytest.fixture
async def partner(make_token: MakeToken) -> dict[str, str]:
    """Headers with a new PARTNER token."""
    return bearer(await make_token(Role.PARTNER))


def error(code: str, message: str, **extensions: Any) -> dict[str, Any]:
    """A refusal as clients see it: no data, one error with its code."""
    return {
        "data": None,
        "errors": [{"message": message, "extensions": {"code": code} | extensions}],
    }


def slow_loader_fetch(engine: AsyncEngine) -> Callable[[Any, Any], Awaitable[Any]]:
    """A replacement for the loaders' fetch that first waits 30 s: in the database on
    PostgreSQL (a running statement the execution timeout must cancel), asleep on SQLite."""
    original = resolvers.loaders._fetch
    on_postgresql = engine.dialect.name == "postgresql"

    async def slow_fetch(factory: Any, statement: Any) -> Any:
        async with factory() as session:
            if on_postgresql:
                await session.execute(text("SELECT pg_sleep(30)"))
            else:
                await asyncio.sleep(30)
        return await original(factory, statement)

    return slow_fetch
