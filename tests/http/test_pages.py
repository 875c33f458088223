"""The pages for people (server/pages.py): the club page at `/`, GraphiQL at `/graphql` for a
browser, and their files under `/static/`: all served by the service, under a policy that
lets them load nothing from elsewhere. Their behaviour in a browser: tests/browser."""

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from graphql import parse, validate

from club.settings import Settings
from schema.root import build_schema
from schema.strawberry_private import graphql_core_schema
from server.app import create_app
from server.pages import CONTENT_SECURITY_POLICY, IDE_TABS, STATIC, ide_page
from tests.http.conftest import copying_state

HTML = {"accept": "text/html"}
ASSET = re.compile(r'(?:src|href)="(/static/[^"]+)"')


def assert_locked_down(response: httpx.Response) -> None:
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_club_page_is_served_at_the_root_with_everything_it_loads(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert_locked_down(response)
    page = response.text
    for landmark in (
        "<header",
        "<nav",
        "<main",
        "<footer",
        'aria-live="polite"',
        '<html lang="en"',
    ):
        assert landmark in page
    assets = ASSET.findall(page)
    assert assets == [
        "/static/club.css",
        "/static/vendor/graphql-ws.min.js",
        "/static/club.js",
    ]
    for asset in assets:
        served = await client.get(asset)
        assert served.status_code == 200, asset
        assert served.content == (STATIC / asset.removeprefix("/static/")).read_bytes()
        assert_locked_down(served)


async def test_graphiql_s_page_loads_only_the_service_s_own_files(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/graphql", headers=HTML)
    assert response.status_code == 200
    assert_locked_down(response)
    page = response.text
    # Nothing from another site: every URL in the page is a path of ours.
    assert re.findall(r"(?:src|href)=\"([^\"]+)\"", page) == ["data:,", *ASSET.findall(page)]
    for asset in ASSET.findall(page):
        assert (await client.get(asset)).status_code == 200, asset
    # No token in the page outside the demo.
    config = json.loads(page.split('id="ide-config">')[1].split("</script>")[0])
    assert config["headers"] == ""
    assert [tab["headers"] for tab in config["tabs"]] == [""] * len(IDE_TABS)


async def test_a_path_outside_static_is_not_served(client: httpx.AsyncClient) -> None:
    # httpx removes `..` segments from a URL before sending it (`/static/../pages.py` would
    # ask for `/pages.py`, never reaching /static/); percent-encoded dots it sends as they
    # are, and the path the application sees has them decoded: `/static/../pages.py`.
    for path in (
        "/static/%2e%2e/pages.py",
        "/static/vendor/%2e%2e/%2e%2e/pages.py",
        "/static/%2e%2e/%2e%2e/server/app.py",
        "/static/..%2fpages.py",
    ):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert b"import" not in response.content, path
    assert (await client.get("/static/club.js")).status_code == 200


@pytest.fixture
async def demo_client(settings: Settings, session_factory: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, demo_token="cj_demo</script>")
    async with LifespanManager(copying_state(app)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def test_in_the_demo_graphiql_opens_with_the_demo_token_in_its_headers(
    demo_client: httpx.AsyncClient,
) -> None:
    page = (await demo_client.get("/graphql", headers=HTML)).text
    text = page.split('id="ide-config">')[1].split("</script>")[0]
    # Written so that it cannot end the script element early.
    assert "\\u003c/script>" in text
    config = json.loads(text)
    headers = json.dumps({"Authorization": "Bearer cj_demo</script>"})
    assert config["headers"] == headers
    assert [tab["headers"] for tab in config["tabs"]] == [headers] * len(IDE_TABS)
    # The club page never carries it.
    assert "cj_demo" not in (await demo_client.get("/")).text


def test_the_ide_page_escapes_what_it_embeds() -> None:
    assert "</script><" not in ide_page("x</script><script>alert(1)</script>")


SCHEMA = graphql_core_schema(build_schema())


@pytest.mark.parametrize("name", [name for name, _ in IDE_TABS])
def test_each_of_graphiql_s_tabs_is_valid_against_the_schema(name: str) -> None:
    [query] = [query for tab, query in IDE_TABS if tab == name]
    assert validate(SCHEMA, parse(query)) == []


def club_page_operations() -> dict[str, str]:
    """The GraphQL documents in club.js (template literals that start an operation)."""
    source = (STATIC / "club.js").read_text()
    found = re.findall(r"`\s*((?:query|subscription) (\w+)[^`]*)`", source)
    return {name: text for text, name in found}


def test_the_club_page_s_operations_are_valid_against_the_schema() -> None:
    operations = club_page_operations()
    assert sorted(operations) == ["ClubMeetings", "ClubMembers", "ClubPage"]
    for text in operations.values():
        assert validate(SCHEMA, parse(text)) == [], text


def test_the_static_files_are_in_the_package_data() -> None:
    """What the Docker image installs (pyproject's package data) holds every static file."""
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    [line] = [line for line in pyproject.splitlines() if line.startswith("server = [")]
    patterns = re.findall(r'"static/([^"]+)"', line)
    files = [path.relative_to(STATIC) for path in STATIC.rglob("*") if path.is_file()]
    assert files
    for path in files:
        assert any(path.match(pattern) for pattern in patterns), path
