"""Input objects as the keyword arguments resolvers take: only what the client gave."""

from typing import Any

from strawberry import UNSET


def given(input: object | None) -> dict[str, Any]:
    """The input's fields, except those the client left out (UNSET); none for no input.
    An update's resolver reads "left out" as "keep", and null as "clear"."""
    if input is None:
        return {}
    return {name: value for name, value in vars(input).items() if value is not UNSET}
