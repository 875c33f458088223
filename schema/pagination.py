"""Relay-style connections: edges with opaque cursors, pageInfo and a lazy totalCount."""

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import orjson
import strawberry

from club.errors import RequestError

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

    @strawberry.field(description="Items matching the filter, across all pages.")
    async def total_count(self) -> int:
        return await self.count_total()


def encode_cursor(kind: str, sort_key: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([kind, *sort_key])).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str, *, arity: int) -> list[Any]:
    """The sort key inside a cursor from this connection, or BAD_USER_INPUT."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = orjson.loads(base64.b64decode(padded, altchars=b"-_", validate=True))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        value = None
    if (
        not isinstance(value, list)
        or len(value) != arity + 1
        or value[0] != kind
        or any(isinstance(part, (list, dict)) for part in value[1:])
        or encode_cursor(kind, value[1:]) != cursor  # only the exact text we hand out
    ):
        raise RequestError.bad_input(f"`{cursor}` is not a cursor of this list.", field="after")
    return value[1:]
