"""Which retries count as the same operation by the same caller (club/idempotency.py)."""

import pytest

from club.access import Principal
from club.enums import Role
from club.errors import RequestError
from club.idempotency import chosen_key, fingerprint, scope_of


def test_the_fingerprint_is_the_document_name_and_variables_whatever_their_order() -> None:
    one = fingerprint("mutation { x }", None, {"a": 1, "b": [1, 2]})
    assert one == fingerprint("mutation { x }", None, {"b": [1, 2], "a": 1})
    assert one != fingerprint("mutation { x }", None, {"a": 1, "b": [2, 1]})
    assert one != fingerprint("mutation { x }", "X", {"a": 1, "b": [1, 2]})
    assert one != fingerprint("mutation { y }", None, {"a": 1, "b": [1, 2]})
    assert fingerprint("mutation { x }", None, None) == fingerprint("mutation { x }", None, {})


def test_an_organizations_tokens_share_a_scope_other_tokens_have_their_own() -> None:
    assert scope_of(Principal(Role.ORGANIZATION, organization_id=7, token_id=1)) == (
        "organization:7"
    )
    assert scope_of(Principal(Role.ORGANIZATION, organization_id=7, token_id=2)) == (
        "organization:7"
    )
    assert scope_of(Principal(Role.ADMIN, token_id=3)) == "token:3"


@pytest.mark.parametrize(
    ("header", "extension", "expected"),
    [
        (None, None, None),
        ("abc-1", None, "abc-1"),
        (None, "abc-1", "abc-1"),
        ("abc-1", "abc-1", "abc-1"),
        ("k" * 100, None, "k" * 100),
    ],
)
def test_a_key_from_the_header_or_the_extensions(
    header: str | None, extension: object, expected: str | None
) -> None:
    assert chosen_key(header, extension) == expected


@pytest.mark.parametrize(
    ("header", "extension"),
    [("", None), ("k" * 101, None), ("with space", None), ("é", None), (None, 12), ("a", "b")],
)
def test_a_malformed_or_ambiguous_key_is_refused(header: str | None, extension: object) -> None:
    with pytest.raises(RequestError) as refused:
        chosen_key(header, extension)
    assert refused.value.code == "IDEMPOTENCY_KEY_INVALID"
