"""Relay-style connections: edges with opaque cursors (club/cursors.py), pageInfo and a lazy
totalCount, made from a page of rows (resolvers/pagination.py)."""

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import strawberry

from resolvers.pagination import Page

NodeT = TypeVar("NodeT")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    count_total: strawberry.Private[Callable[[], Awaitable[int]]]

    @classmethod
    def of(cls, page: Page[Any], to_node: Callable[[Any], NodeT]) -> "Connection[NodeT]":
        """A page of rows (resolvers/pagination.py), each row made a node by `to_node`."""
        edges = [Edge(cursor=cursor, node=to_node(row)) for cursor, row in page.rows]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            count_total=page.count_total,
        )

    @strawberry.field(description="Items matching the filter, across all pages.")
    async def total_count(self) -> int:
        return await self.count_total()
