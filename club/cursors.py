"""Opaque cursors of paginated lists: base64 of the list's name and the row's sort key."""

import base64
import binascii
from typing import Any

import orjson

from club.errors import RequestError


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
