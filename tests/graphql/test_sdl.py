"""The committed schema.graphql is exactly what the code generates (regenerate it with
`clubjustice schema export > schema.graphql`)."""

from pathlib import Path

from strawberry.federation import Schema

SDL_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_sdl_matches_the_code(schema: Schema) -> None:
    assert SDL_FILE.read_text() == schema.as_str() + "\n", (
        "schema.graphql is out of date: run `clubjustice schema export > schema.graphql`"
    )


def test_sdl_is_federation_v2_with_the_contract_entities(schema: Schema) -> None:
    sdl = schema.as_str()
    assert sdl.startswith(
        'schema @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key"])'
    )
    for entity in (
        'type Organization @key(fields: "id")',
        'type Country @key(fields: "id") @key(fields: "code")',
        'type Event @key(fields: "id")',
        'type WorkingGroup @key(fields: "id")',
        'type Invitation @key(fields: "id")',
    ):
        assert entity in sdl


async def test_service_sdl_is_served_by_the_subgraph(run: object) -> None:
    response = await run("{ _service { sdl } }")  # type: ignore[operator]
    assert response["data"]["_service"]["sdl"] == SDL_FILE.read_text().rstrip("\n")
