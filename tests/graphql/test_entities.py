"""Federation entity resolution: batched through the request's loaders, unknown keys null."""

from typing import Any

from schema.ids import encode_id
from tests.factories import build_club

ENTITIES = """
query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Organization { id name }
    ... on Event { id title }
    ... on WorkingGroup { id name }
    ... on Country { id code name }
  }
}
"""


async def test_a_hundred_representations_of_three_types_cost_three_statements(
    session_factory: Any, run: Any, count_statements: Any
) -> None:
    club = await build_club(session_factory, organizations=40, events=30, working_groups=30)
    representations = (
        [
            {"__typename": "Organization", "id": encode_id("Organization", pk)}
            for pk in club.organization_ids
        ]
        + [{"__typename": "Event", "id": encode_id("Event", pk)} for pk in club.event_ids]
        + [
            {"__typename": "WorkingGroup", "id": encode_id("WorkingGroup", pk)}
            for pk in club.working_group_ids
        ]
    )
    assert len(representations) == 100

    await run(ENTITIES, {"representations": representations[:1]})  # warm the pool
    with count_statements() as log:
        response = await run(ENTITIES, {"representations": representations})

    assert "errors" not in response
    entities = response["data"]["_entities"]
    assert [entity["__typename"] for entity in entities] == [
        r["__typename"] for r in representations
    ]
    assert [entity["id"] for entity in entities] == [r["id"] for r in representations]
    assert log.count == 3


async def test_unknown_keys_come_back_null_in_their_position(
    session_factory: Any, run: Any
) -> None:
    club = await build_club(session_factory, organizations=2, events=1, working_groups=0)
    first, second = club.organization_ids
    representations = [
        {"__typename": "Organization", "id": encode_id("Organization", first)},
        {"__typename": "Organization", "id": encode_id("Organization", 999_999)},
        {"__typename": "Country", "code": "md"},
        {"__typename": "Country", "code": "ZZ"},
        {"__typename": "Organization", "id": encode_id("Organization", second)},
    ]
    response = await run(ENTITIES, {"representations": representations})
    assert "errors" not in response
    entities = response["data"]["_entities"]
    assert [e and e.get("id") for e in entities] == [
        encode_id("Organization", first),
        None,
        entities[2]["id"],
        None,
        encode_id("Organization", second),
    ]
    assert entities[2]["code"] == "MD"
    assert entities[2]["name"] == "Moldova"


async def test_a_malformed_key_is_an_error_at_its_position_only(
    session_factory: Any, run: Any
) -> None:
    club = await build_club(session_factory, organizations=1, events=0, working_groups=0)
    (only,) = club.organization_ids
    response = await run(
        ENTITIES,
        {
            "representations": [
                {"__typename": "Organization", "id": "not-an-id"},
                {"__typename": "Organization", "id": encode_id("Organization", only)},
            ]
        },
    )
    assert response["data"]["_entities"][0] is None
    assert response["data"]["_entities"][1]["id"] == encode_id("Organization", only)
    assert response["errors"] == [
        {
            "message": "`not-an-id` is not a valid Organization ID.",
            "locations": [{"line": 3, "column": 3}],
            "path": ["_entities", 0],
            "extensions": {"code": "BAD_USER_INPUT", "field": "id"},
        }
    ]
