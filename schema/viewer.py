"""Viewer: who the caller is, as the server sees its token."""

import strawberry

import schema.organizations as organization_types
from resolvers.context import Info
from schema.enums import Role
from schema.refs import OrganizationRef


@strawberry.type(description="The caller: the role and organization of its token.")
class Viewer:
    role: Role
    organization_pk: strawberry.Private[int | None]

    @strawberry.field(description="The organization an ORGANIZATION token acts as.")
    async def organization(self, info: Info) -> OrganizationRef | None:
        if self.organization_pk is None:
            return None
        row = await info.context.loaders.organization.load(self.organization_pk)
        return organization_types.Organization.from_row(row) if row else None


def viewer(info: Info) -> Viewer:
    principal = info.context.principal
    return Viewer(role=principal.role, organization_pk=principal.organization_id)
