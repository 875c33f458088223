"""What every mutation returns: its object, or the typed reasons it was refused."""

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, Self, TypeVar

import strawberry

from club.errors import ErrorCode, PayloadRefusal

T = TypeVar("T")

strawberry.enum(ErrorCode, description="Why a mutation was refused; clients branch on it.")


@strawberry.type(description="A refusal: nothing was changed.")
class UserError:
    code: ErrorCode
    message: str
    field: str | None = strawberry.field(description="The input at fault, if one is.")

    @classmethod
    def from_refusal(cls, refusal: PayloadRefusal) -> Self:
        return cls(code=refusal.code, message=refusal.message, field=refusal.field)


class Payload:
    """Mixed into `<Object>Payload` types: one object field, and `errors`."""

    @classmethod
    def _object_field(cls) -> str:
        fields = [f.name for f in dataclasses.fields(cls) if f.name != "errors"]  # type: ignore[arg-type]
        assert len(fields) == 1, f"{cls.__name__} must have one object field and `errors`"
        return fields[0]

    @classmethod
    def done(cls, value: Any) -> Self:
        return cls(**{cls._object_field(): value, "errors": []})

    @classmethod
    def refused(cls, refusal: PayloadRefusal) -> Self:
        return cls(**{cls._object_field(): None, "errors": [UserError.from_refusal(refusal)]})

    @classmethod
    async def of(cls, outcome: Awaitable[T], to: Callable[[T], Any]) -> Self:
        """The payload of a mutation's resolver: its result made a type by `to`, or the
        refusal it raised (the transaction rolled back)."""
        try:
            value = await outcome
        except PayloadRefusal as refusal:
            return cls.refused(refusal)
        return cls.done(to(value))
