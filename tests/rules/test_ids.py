"""Global IDs and list cursors (club/ids.py, club/cursors.py), against the `base64` module's
own functions they were first written with: the same text out, and an ID accepted exactly
when it is the encoding of its primary key."""

import base64

import orjson
from hypothesis import given
from hypothesis import strategies as st

from club import ids
from club.cursors import decode_cursor, encode_cursor
from club.errors import RequestError
from club.ids import MAX_ID_LENGTH, MAX_PK, encode_id, parse_id

TYPES = st.sampled_from(["Organization", "Event", "Country"])
KEYS = st.integers(min_value=-(2**40), max_value=2**40)


@given(TYPES, KEYS)
def test_an_id_is_the_url_safe_base64_of_type_and_key(type_name: str, pk: int) -> None:
    assert (
        encode_id(type_name, pk) == base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode()
    )


@given(TYPES, KEYS)
def test_an_id_parses_back_to_its_key_when_it_can_name_a_row(type_name: str, pk: int) -> None:
    expected = pk if 1 <= pk <= MAX_PK else None
    assert parse_id(type_name, encode_id(type_name, pk)) == expected
    assert parse_id("Activity", encode_id(type_name, pk)) is None


ID_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=: é\x00"


@given(
    TYPES,
    st.integers(min_value=1, max_value=MAX_PK),
    st.integers(min_value=0, max_value=40),
    st.sampled_from(["replace", "insert", "delete"]),
    st.sampled_from(ID_CHARACTERS),
)
def test_only_the_exact_encoding_is_accepted(
    type_name: str, pk: int, at: int, edit: str, character: str
) -> None:
    """A real ID with one character replaced, inserted or deleted: refused, unless the edit
    left the very text of an ID."""
    real = encode_id(type_name, pk)
    at %= len(real)
    text = {
        "replace": real[:at] + character + real[at + 1 :],
        "insert": real[:at] + character + real[at:],
        "delete": real[:at] + real[at + 1 :],
    }[edit]
    parsed = parse_id(type_name, text)
    if text == real:
        assert parsed == pk
    else:
        assert parsed is None or encode_id(type_name, parsed) == text


# Bytes, or what follows "Type:" in an ID of the type being parsed: leading zeros, signs,
# spaces.
ALMOST_IDS = st.one_of(st.binary(max_size=24), st.from_regex(r"[0-9+ -]{0,12}", fullmatch=True))


@given(TYPES, ALMOST_IDS)
def test_anything_else_that_decodes_is_refused_unless_it_is_an_id(
    type_name: str, almost: bytes | str
) -> None:
    """Leading zeros, signs, the standard alphabet, missing padding: refused."""
    raw = almost if isinstance(almost, bytes) else f"{type_name}:{almost}".encode()
    for encoded in (base64.urlsafe_b64encode(raw).decode(), base64.b64encode(raw).decode()):
        for text in (encoded, encoded.rstrip("=")):
            pk = parse_id(type_name, text)
            assert pk is None or encode_id(type_name, pk) == text


@given(st.lists(st.one_of(st.text(), st.integers(-(2**60), 2**60)), min_size=1, max_size=3))
def test_a_cursor_is_unpadded_url_safe_base64_of_its_json(key: list[object]) -> None:
    cursor = encode_cursor("organizations", key)
    expected = base64.urlsafe_b64encode(orjson.dumps(["organizations", *key])).decode()
    assert cursor == expected.rstrip("=")
    assert decode_cursor("organizations", cursor, arity=len(key)) == key


def test_a_cursor_of_another_list_is_refused() -> None:
    cursor = encode_cursor("events", ["x", 1])
    try:
        decode_cursor("organizations", cursor, arity=2)
    except RequestError as error:
        assert error.code == "BAD_USER_INPUT"
    else:
        raise AssertionError("accepted")


def test_only_short_ids_are_remembered() -> None:
    """The parsed IDs kept are bounded in number and in length: a long string is parsed (and
    refused) without being kept."""
    kept = ids._parsed_id.cache_info().currsize
    long = encode_id("Organization", 7) + "A" * MAX_ID_LENGTH
    assert parse_id("Organization", long) is None
    assert ids._parsed_id.cache_info().currsize == kept
    assert parse_id("Organization", encode_id("Organization", 7)) == 7
    assert ids._parsed_id.cache_info().maxsize == 8192


class Text(str):
    pass


def test_a_string_of_a_subclass_parses_as_the_string() -> None:
    assert parse_id("Event", Text(encode_id("Event", 3))) == 3
