"""Viewer: who the caller is, as the server sees its token (or ANONYMOUS, without one)."""

import strawberry

from resolvers.context import Info
from schema.domain import Domain
from schema.enums import Role
from schema.fields import field, relation
from schema.organizations import Organization


@strawberry.type(
    description="The caller: the role and organization of its token (ANONYMOUS: a request "
    "without a token, where the server allows those)."
)
class Viewer:
    role: Role
    organization_pk: strawberry.Private[int | None]

    organization: Organization | None = relation(
        "organization",
        key="organization_pk",
        to=Organization.from_row,
        description="The organization an ORGANIZATION token acts as.",
    )


@strawberry.type
class ViewerQueries:
    @field(description="The caller.")
    def viewer(self, info: Info) -> Viewer:
        principal = info.context.principal
        return Viewer(role=principal.role, organization_pk=principal.organization_id)


DOMAIN = Domain(query=ViewerQueries)
