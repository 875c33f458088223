"""Finding one object by exactly one of its keys (`id` or `slug`)."""

from typing import Any

from club.errors import RequestError


def exactly_one_key(**keys: Any) -> tuple[str, Any]:
    given = [(name, value) for name, value in keys.items() if value is not None]
    if len(given) != 1:
        names = " or ".join(f"`{name}`" for name in keys)
        raise RequestError.bad_input(f"Give exactly one of {names}.")
    return given[0]
