"""Opaque, typed global IDs: base64("Organization:42"). Passing an event's id where an
organization's is expected is an error, not a silent miss.

One parser, `parse_id`; the two ways a bad id surfaces wrap it: an argument of a query
field is a request error (`decode_id`), a mutation's input is a payload refusal (`id_of`).
"""

import binascii
import functools

from club.errors import ErrorCode, PayloadRefusal, RequestError

# Primary keys are 32-bit integers; a larger number cannot name a row.
MAX_PK = 2**31 - 1


# base64's URL-safe alphabet from and to the standard one (binascii's), built once: the
# `base64` module's functions build the decoding table on every call.
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


def encode_id(type_name: str, pk: int) -> str:
    """URL-safe base64 of "Type:pk", padded (what `base64.urlsafe_b64encode` writes)."""
    encoded = binascii.b2a_base64(f"{type_name}:{pk}".encode(), newline=False)
    return encoded.translate(_TO_URLSAFE).decode()


def parse_id(type_name: str, value: object) -> int | None:
    """The primary key inside a global ID of `type_name`, or None. Only the exact text
    `encode_id` produces is accepted (no lenient base64, no leading zeros): whatever the
    decoding lets through, the ID must be the primary key's own encoding, compared last."""
    if type(value) is not str or len(value) > MAX_ID_LENGTH:
        return _parse_id(type_name, value) if isinstance(value, str) else None
    return _parsed_id(type_name, value)


# Longer than any ID `encode_id` writes (36 characters: `IncubatorProgram` with the largest
# key), with room for longer type names: longer strings are parsed but not remembered.
MAX_ID_LENGTH = 48


@functools.lru_cache(maxsize=8192)
def _parsed_id(type_name: str, value: str) -> int | None:
    """`_parse_id`, remembered: a gateway resolves the same entities again and again (an
    `_entities` of 100 organizations parsed 100 IDs, about a tenth of its CPU). Bounded in
    entries and in their length."""
    return _parse_id(type_name, value)


def _parse_id(type_name: str, value: str) -> int | None:
    try:
        standard = value.encode("ascii").translate(_FROM_URLSAFE)
        decoded = binascii.a2b_base64(standard, strict_mode=True).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    prefix, _, digits = decoded.partition(":")
    if prefix != type_name or not digits.isdigit() or len(digits) > 10:
        return None
    pk = int(digits)
    if not 1 <= pk <= MAX_PK or encode_id(type_name, pk) != value:
        return None
    return pk


def decode_id(type_name: str, value: str, *, field: str = "id") -> int:
    """The primary key inside a global ID given as a field's argument, or BAD_USER_INPUT."""
    pk = parse_id(type_name, value)
    if pk is None:
        raise RequestError.bad_input(f"`{value}` is not a valid {type_name} ID.", field=field)
    return pk


def id_of(type_name: str, value: str, field: str) -> int:
    """The primary key inside a global ID given as mutation input, or INVALID_INPUT."""
    pk = parse_id(type_name, value)
    if pk is None:
        raise PayloadRefusal(
            ErrorCode.INVALID_INPUT, f"`{value}` is not a valid {type_name} ID.", field
        )
    return pk
