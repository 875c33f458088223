"""HTTP: /graphql over POST and GET, GraphiQL, health and readiness, start-up checks."""

from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from asgi_lifespan import LifespanManager
from sqlalchemy import text

from club.cursors import encode_cursor
from club.settings import Settings
from db.engine import create_engine
from db.migrate import DatabaseNotMigrated, alembic_config, upgrade
from server.app import create_app
from tests.http.conftest import PREFLIGHT, open_client

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()
QUERY = '{ country(code: "KE") { name region } }'
EXPECTED = {"data": {"country": {"name": "Kenya", "region": "Africa"}}}


async def test_query_over_post(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    response = await client.post("/graphql", json={"query": QUERY}, headers=admin_headers)
    assert response.status_code == 200
    assert response.json() == EXPECTED


async def test_query_over_get(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    response = await client.get(
        "/graphql", params={"query": QUERY}, headers=admin_headers | PREFLIGHT
    )
    assert response.status_code == 200
    assert response.json() == EXPECTED


async def test_graphiql_for_browsers(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_bad_input_over_http_is_a_graphql_error_not_a_500(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.post(
        "/graphql",
        json={"query": "{ organizations(first: 1000) { totalCount } }"},
        headers=admin_headers,
    )
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "first",
    }


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    health = await client.get("/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ok"})


async def test_refuses_to_start_on_an_unmigrated_database(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(DatabaseNotMigrated, match="Run `clubjustice db upgrade`"):
        async with LifespanManager(create_app(settings)):
            pass


async def test_migrates_at_start_when_told_to(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'new.db'}", migrate_on_start=True
    )
    async for client in open_client(settings):
        assert (await client.get("/readyz")).json() == {"status": "ok"}


async def test_not_ready_when_the_database_falls_behind_the_code(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'behind.db'}"
    engine = create_engine(url)
    await upgrade(engine)
    async for client in open_client(Settings(database_url=url)):
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM alembic_version"))
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {
            "status": "unavailable",
            "reason": f"not migrated: database is at revision empty, the code expects {HEAD}",
        }
    await engine.dispose()


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ('{ organization(id: "T3JnYW5pemF0aW9uOjMwMDAwMDAwMDA=") { name } }', None),
        ("query($s: String!) { organization(slug: $s) { name } }", {"s": "irf\u0000"}),
        (
            "query($a: String) { organizations(after: $a) { totalCount } }",
            {"a": encode_cursor("organizations", ["A", 2**62])},
        ),
        (
            '{ _entities(representations: [{__typename: "Organization", id: 7}]) { __typename } }',
            None,
        ),
        (
            "query($s: OrganizationStatus) { organizations(filter: {status: $s}) { totalCount } }",
            {"s": "X"},
        ),
    ],
)
async def test_bad_input_is_never_a_server_error(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    query: str,
    variables: dict[str, object] | None,
) -> None:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=admin_headers
    )
    assert response.status_code == 200
    assert [error["extensions"]["code"] for error in response.json()["errors"]] == [
        "BAD_USER_INPUT"
    ]
