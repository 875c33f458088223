"""Opaque cursors: of paginated lists (base64 of the list's name and the row's sort key),
and of points in the activity log (a global id of type `Activity`)."""

import base64
import binascii
from typing import Any

import orjson

from club.errors import RequestError
from club.ids import decode_id, encode_id

# base64's URL-safe alphabet from the standard one (binascii's), built once.
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")


def encode_cursor(kind: str, sort_key: list[Any]) -> str:
    """URL-safe base64 of the JSON of the list's name and the row's sort key, unpadded."""
    encoded = binascii.b2a_base64(orjson.dumps([kind, *sort_key]), newline=False)
    return encoded.translate(_TO_URLSAFE).rstrip(b"=").decode()


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


def activity_cursor(log_id: int) -> str:
    """The opaque cursor of a point in the activity log (0: its beginning)."""
    return encode_id("Activity", log_id)


def parse_activity_cursor(cursor: str) -> int:
    """The activity log id inside a subscription's `after`, or BAD_USER_INPUT."""
    if cursor == activity_cursor(0):
        return 0
    return decode_id("Activity", cursor, field="after")
