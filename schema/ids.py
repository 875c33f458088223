"""Opaque, typed global IDs: base64("Organization:42"). Passing an event's id where an
organization's is expected is an error, not a silent miss."""

import base64
import binascii

import strawberry

from schema.errors import BadUserInput


def encode_id(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode())


def decode_id(type_name: str, value: str, *, field: str = "id") -> int:
    """The primary key inside a global ID of `type_name`, or BAD_USER_INPUT."""
    try:
        padded = value + "=" * (-len(value) % 4)
        decoded = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
        prefix, _, pk = decoded.partition(":")
        if prefix == type_name and pk.isascii() and pk.isdigit() and len(pk) <= 18:
            return int(pk)
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise BadUserInput(f"`{value}` is not a valid {type_name} ID.", field=field)
