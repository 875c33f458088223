"""Global IDs as strawberry's `ID` scalar; parsing them is `club.ids`'s."""

import strawberry

from club import ids


def encode_id(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(ids.encode_id(type_name, pk))
