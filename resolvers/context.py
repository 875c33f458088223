"""The per-request context: who is asking, how to reach the database, and the loaders."""

from dataclasses import dataclass, field

import strawberry

from db.engine import SessionFactory
from db.enums import Role
from resolvers.loaders import Loaders
from server.settings import Settings


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller. `role is None` means anonymous (no token)."""

    role: Role | None = None
    organization_id: int | None = None
    organization_is_member: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


ANONYMOUS = Principal()


@dataclass(slots=True)
class Context:
    settings: Settings
    session_factory: SessionFactory
    principal: Principal = ANONYMOUS
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders.for_request(self.session_factory)


Info = strawberry.Info[Context, None]
