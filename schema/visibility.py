"""`restricted(audience)`: a field extension that answers null to callers outside the audience."""

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from strawberry.extensions import FieldExtension

from club.access import Audience, can_see
from resolvers.context import Info


class Owned(Protocol):
    def owner_ids(self) -> frozenset[int]: ...


class Restricted(FieldExtension):
    def __init__(self, audience: Audience) -> None:
        self.audience = audience

    def _allowed(self, source: Owned, info: Info) -> bool:
        return can_see(self.audience, info.context.principal, source.owner_ids())

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        return next_(source, info, **kwargs) if self._allowed(source, info) else None

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        return await next_(source, info, **kwargs) if self._allowed(source, info) else None


def restricted(audience: Audience) -> list[FieldExtension]:
    return [Restricted(audience)]
