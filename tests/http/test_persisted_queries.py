"""Automatic persisted queries (Apollo's protocol) and trusted documents."""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from club.enums import Role
from club.persisted import ManifestError, load_manifest, sha256
from club.settings import Settings
from tests.http.conftest import PREFLIGHT, MakeToken, bearer, error, open_client
from tests.ws.conftest import Subscriber, run_server, until_subscribed

VIEWER = "{ viewer { role } }"
KENYA = 'query Kenya { country(code: "KE") { name } }'
MEMBERS = "subscription Members { memberJoined { cursor } }"


def persisted(query: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}}


async def post(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> Any:
    response = await client.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_apq_round_trip(client: httpx.AsyncClient, partner: dict[str, str]) -> None:
    by_hash = {"extensions": persisted(KENYA)}
    assert await post(client, partner, by_hash) == error(
        "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound"
    )
    kenya = {"data": {"country": {"name": "Kenya"}}}
    assert await post(client, partner, {"query": KENYA} | by_hash) == kenya
    assert await post(client, partner, by_hash) == kenya
    # Also over GET (cacheable by a CDN), hash only.
    response = await client.get(
        "/graphql",
        params={"extensions": json.dumps(persisted(KENYA))},
        headers=partner | PREFLIGHT,
    )
    assert response.json() == kenya


async def test_a_hash_that_is_not_the_query_s_is_refused(
    client: httpx.AsyncClient, partner: dict[str, str]
) -> None:
    body = {"query": KENYA, "extensions": persisted(VIEWER)}
    assert await post(client, partner, body) == error(
        "PERSISTED_QUERY_HASH_MISMATCH", "`sha256Hash` is not the hash of `query`."
    )
    # and nothing was stored under that hash
    assert await post(client, partner, {"extensions": persisted(VIEWER)}) == error(
        "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound"
    )


@pytest.mark.parametrize(
    "extension",
    [{"version": 2, "sha256Hash": "0" * 64}, {"version": 1, "sha256Hash": "XYZ"}, "yes"],
)
async def test_malformed_persisted_query_extensions_are_refused(
    client: httpx.AsyncClient, partner: dict[str, str], extension: Any
) -> None:
    assert await post(client, partner, {"extensions": {"persistedQuery": extension}}) == error(
        "BAD_REQUEST", "`persistedQuery` needs `version: 1` and a lowercase `sha256Hash`."
    )


async def test_the_store_is_bounded_and_forgets_the_oldest(
    settings: Settings, make_token: MakeToken
) -> None:
    async for client in open_client(settings.model_copy(update={"apq_cache_size": 2})):
        partner = bearer(await make_token(Role.PARTNER))
        queries = [VIEWER, KENYA, '{ country(code: "MD") { name } }']
        for query in queries:
            assert "errors" not in await post(
                client, partner, {"query": query, "extensions": persisted(query)}
            )
        first, *rest = queries
        assert (await post(client, partner, {"extensions": persisted(first)}))["errors"][0][
            "extensions"
        ]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        for query in rest:
            assert "errors" not in await post(client, partner, {"extensions": persisted(query)})


async def test_apq_can_be_turned_off(settings: Settings, make_token: MakeToken) -> None:
    async for client in open_client(settings.model_copy(update={"apq_cache_size": 0})):
        partner = bearer(await make_token(Role.PARTNER))
        assert await post(client, partner, {"extensions": persisted(VIEWER)}) == error(
            "PERSISTED_QUERY_NOT_SUPPORTED", "PersistedQueryNotSupported"
        )


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "persisted-query-manifest.json"
    path.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [
                    {"id": sha256(body), "name": name, "type": kind, "body": body}
                    for name, kind, body in [
                        ("Kenya", "query", KENYA),
                        ("Members", "subscription", MEMBERS),
                    ]
                ],
            }
        )
    )
    return path


@pytest.fixture
def trusted_settings(settings: Settings, manifest: Path) -> Settings:
    return settings.model_copy(
        update={
            "trusted_documents_file": manifest,
            "trusted_documents_roles": frozenset({Role.PARTNER}),
        }
    )


@pytest.fixture
async def trusted_client(trusted_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in open_client(trusted_settings):
        yield client


NOT_IN_LIST = error(
    "PERSISTED_QUERY_NOT_IN_LIST",
    "PARTNER tokens may run only registered operations; send a registered document or its "
    "`persistedQuery` hash.",
)


async def test_a_trusted_role_runs_registered_operations_only(
    trusted_client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    partner = bearer(await make_token(Role.PARTNER))
    kenya = {"data": {"country": {"name": "Kenya"}}}
    assert await post(trusted_client, partner, {"extensions": persisted(KENYA)}) == kenya
    assert await post(trusted_client, partner, {"query": KENYA}) == kenya
    assert await post(trusted_client, partner, {"query": VIEWER}) == NOT_IN_LIST
    # It cannot register a document through APQ either.
    assert (
        await post(trusted_client, partner, {"query": VIEWER, "extensions": persisted(VIEWER)})
        == NOT_IN_LIST
    )
    assert await post(trusted_client, partner, {"extensions": persisted(VIEWER)}) == error(
        "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound"
    )
    # Other roles run what they like.
    admin = bearer(await make_token(Role.ADMIN))
    assert await post(trusted_client, admin, {"query": VIEWER}) == {
        "data": {"viewer": {"role": "ADMIN"}}
    }


async def test_trusted_documents_hold_over_websocket(
    trusted_settings: Settings, session_factory: Any, make_token: MakeToken
) -> None:
    async for server in run_server(trusted_settings):
        subscriber = await Subscriber.open(server.ws, await make_token(Role.PARTNER))
        try:
            await subscriber.subscribe(MEMBERS)
            await until_subscribed(server.feed, 1)
            operation = await subscriber.subscribe("subscription { memberJoined { cursor } }")
            assert await subscriber.receive() == {
                "id": operation,
                "type": "error",
                "payload": NOT_IN_LIST["errors"],
            }
        finally:
            await subscriber.close()


def test_a_manifest_with_a_wrong_hash_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"0" * 64: VIEWER}))
    with pytest.raises(ManifestError, match="is not the SHA-256 of its document"):
        load_manifest(path)
    path.write_text(json.dumps({sha256(VIEWER): VIEWER}))
    assert load_manifest(path) == {sha256(VIEWER): VIEWER}
