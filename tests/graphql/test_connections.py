"""Connections: keyset pages, totalCount, filters, and refusals of bad paging input."""

from datetime import timedelta
from typing import Any

from club.enums import EventStatus
from schema.ids import encode_id
from tests.factories import T0, add, build_club, country_ids, event, organization

PAGE = """
query Page($first: Int, $after: String, $filter: OrganizationFilter) {
  organizations(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { name } }
  }
}
"""


async def test_walking_every_page_visits_each_organization_once_in_name_order(
    session_factory: Any, run: Any
) -> None:
    await build_club(session_factory, organizations=23, events=0, working_groups=0)
    names, after, pages = [], None, 0
    while True:
        response = await run(PAGE, {"first": 10, "after": after})
        connection = response["data"]["organizations"]
        assert connection["totalCount"] == 23
        assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
        edges = connection["edges"]
        assert connection["pageInfo"]["startCursor"] == edges[0]["cursor"]
        assert connection["pageInfo"]["endCursor"] == edges[-1]["cursor"]
        names += [edge["node"]["name"] for edge in edges]
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert pages == 3
    assert len(names) == 23 == len(set(names))
    assert names == sorted(names)


async def test_default_page_and_empty_page(session_factory: Any, run: Any) -> None:
    await build_club(session_factory, organizations=25, events=0, working_groups=0)
    default = await run(PAGE)
    assert len(default["data"]["organizations"]["edges"]) == 20
    assert await run(PAGE, {"first": 0}) == {
        "data": {
            "organizations": {
                "totalCount": 25,
                "pageInfo": {
                    "hasNextPage": True,
                    "hasPreviousPage": False,
                    "startCursor": None,
                    "endCursor": None,
                },
                "edges": [],
            }
        }
    }


async def test_ties_in_the_sort_key_are_broken_by_id_across_pages(
    session_factory: Any, run: Any
) -> None:
    md = (await country_ids(session_factory, "MD"))["MD"]
    same_name = [organization(md, name="Legal Aid Bureau") for _ in range(5)]
    await add(session_factory, *same_name)
    host = same_name[0].id
    same_start = [event(host, title=f"Parallel {i}", starts_at=T0) for i in range(5)]
    await add(session_factory, *same_start)

    async def walk(query: str, root: str, title: str) -> list[str]:
        seen, after = [], None
        while True:
            response = await run(query, {"first": 2, "after": after})
            connection = response["data"][root]
            seen += [edge["node"][title] for edge in connection["edges"]]
            if not connection["pageInfo"]["hasNextPage"]:
                return seen
            after = connection["pageInfo"]["endCursor"]

    ids_query = """
    query($first: Int, $after: String) {
      organizations(first: $first, after: $after) {
        pageInfo { hasNextPage endCursor } edges { node { id } }
      }
    }"""
    organization_ids = await walk(ids_query, "organizations", "id")
    assert organization_ids == [encode_id("Organization", o.id) for o in same_name]
    assert await walk(EVENTS, "events", "title") == [f"Parallel {i}" for i in range(5)]


async def test_organization_filters(session_factory: Any, run: Any) -> None:
    countries = await country_ids(session_factory, "MD", "KE")
    await add(
        session_factory,
        organization(countries["MD"], name="Chisinau 100% Legal Aid", member=True),
        organization(countries["MD"], name="Balti Paralegals"),
        organization(countries["KE"], name="Nairobi LEGAL Desk", member=True),
        organization(countries["KE"], name="Mombasa_Legal"),
        organization(countries["KE"], name="Kisumu Legal/Aid"),
    )

    async def names(filter: dict[str, Any]) -> list[str]:
        response = await run(PAGE, {"filter": filter})
        assert response["data"]["organizations"]["totalCount"] == len(
            response["data"]["organizations"]["edges"]
        )
        return [edge["node"]["name"] for edge in response["data"]["organizations"]["edges"]]

    assert await names({"status": "MEMBER"}) == ["Chisinau 100% Legal Aid", "Nairobi LEGAL Desk"]
    assert await names({"countryCode": "ke"}) == [
        "Kisumu Legal/Aid",
        "Mombasa_Legal",
        "Nairobi LEGAL Desk",
    ]
    assert await names({"search": "legal"}) == [
        "Balti Paralegals",
        "Chisinau 100% Legal Aid",
        "Kisumu Legal/Aid",
        "Mombasa_Legal",
        "Nairobi LEGAL Desk",
    ]
    # LIKE wildcards in a search are literal characters, and so is the escape character.
    assert await names({"search": "%"}) == ["Chisinau 100% Legal Aid"]
    assert await names({"search": "_"}) == ["Mombasa_Legal"]
    assert await names({"search": "l/a"}) == ["Kisumu Legal/Aid"]
    assert await names({"search": "l//a"}) == []
    assert await names({"search": "/_"}) == []
    assert await names({"status": "GUEST", "countryCode": "MD", "search": "para"}) == [
        "Balti Paralegals"
    ]


EVENTS = """
query Events($first: Int, $after: String, $filter: EventFilter) {
  events(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { title startsAt status } }
  }
}
"""


async def test_event_filters_and_paging_by_start_time(session_factory: Any, run: Any) -> None:
    club = await build_club(session_factory, organizations=3, events=0, working_groups=1)
    host = club.organization_ids[0]
    await add(
        session_factory,
        *[
            event(host, title=f"Week {week}", starts_at=T0 + timedelta(weeks=week))
            for week in (3, 1, 2, 0)
        ],
        event(
            host, title="Cancelled", starts_at=T0 + timedelta(weeks=5), status=EventStatus.CANCELLED
        ),
        event(
            host,
            title="Group",
            starts_at=T0 + timedelta(weeks=6),
            working_group_id=club.working_group_ids[0],
        ),
    )

    first_page = await run(EVENTS, {"first": 2})
    assert [e["node"]["title"] for e in first_page["data"]["events"]["edges"]] == [
        "Week 0",
        "Week 1",
    ]
    assert first_page["data"]["events"]["totalCount"] == 6

    window = await run(
        EVENTS,
        {
            "filter": {
                "startsAfter": "2024-01-08T12:00:00Z",
                "startsBefore": "2024-01-22T12:00:00+00:00",
            }
        },
    )
    assert [e["node"]["title"] for e in window["data"]["events"]["edges"]] == ["Week 1", "Week 2"]

    cancelled = await run(EVENTS, {"filter": {"status": "CANCELLED"}})
    assert [e["node"]["title"] for e in cancelled["data"]["events"]["edges"]] == ["Cancelled"]

    group = await run("{ workingGroups { id } }")
    group_id = group["data"]["workingGroups"][0]["id"]
    in_group = await run(EVENTS, {"filter": {"workingGroupId": group_id}})
    assert [e["node"]["title"] for e in in_group["data"]["events"]["edges"]] == ["Group"]

    # Paging continues from a cursor that carries a timestamp.
    after = (await run("{ events(first: 3) { pageInfo { endCursor } } }"))["data"]["events"][
        "pageInfo"
    ]["endCursor"]
    rest = await run(EVENTS, {"after": after})
    assert [e["node"]["title"] for e in rest["data"]["events"]["edges"]] == [
        "Week 3",
        "Cancelled",
        "Group",
    ]
