"""The federated schema: the root Query assembled from the domain modules and resolvers."""

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ValidationCache
from strawberry.federation import Schema
from strawberry.federation.schema import FederationAny
from strawberry.types import ExecutionContext

from resolvers import countries as country_resolvers
from resolvers import events as event_resolvers
from resolvers import invitations as invitation_resolvers
from resolvers import organizations as organization_resolvers
from resolvers import working_groups as working_group_resolvers
from schema.countries import Country
from schema.errors import BadUserInput, ErrorCodes, ParseCache
from schema.events import Event
from schema.invitations import Invitation
from schema.organizations import Organization
from schema.pagination import Connection
from schema.viewer import Viewer, viewer
from schema.working_groups import WorkingGroup


@strawberry.type
class Query:
    viewer: Viewer = strawberry.field(resolver=viewer, description="The caller.")
    countries: list[Country] = strawberry.field(
        resolver=country_resolvers.countries, description="Every ISO 3166-1 country, by name."
    )
    country: Country | None = strawberry.field(
        resolver=country_resolvers.country, description="A country by ISO alpha-2 code."
    )
    organizations: Connection[Organization] = strawberry.field(
        resolver=organization_resolvers.organizations, description="The directory, by name."
    )
    organization: Organization | None = strawberry.field(
        resolver=organization_resolvers.organization,
        description="An organization by `id` or `slug`.",
    )
    events: Connection[Event] = strawberry.field(
        resolver=event_resolvers.events, description="The calendar, by start time."
    )
    event: Event | None = strawberry.field(resolver=event_resolvers.event)
    working_groups: list[WorkingGroup] = strawberry.field(
        resolver=working_group_resolvers.working_groups, description="Every working group, by name."
    )
    working_group: WorkingGroup | None = strawberry.field(
        resolver=working_group_resolvers.working_group,
        description="A working group by `id` or `slug`.",
    )
    invitation: Invitation | None = strawberry.field(
        resolver=invitation_resolvers.invitation,
        description="An invitation; null unless the caller is an admin, its inviter or invitee.",
    )


class ClubSchema(Schema):
    def entities_resolver(
        self, info: strawberry.Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        """strawberry's resolver, after refusing malformed representations with BAD_USER_INPUT
        (strawberry would fail with an internal error) and on copies (it pops `__typename`
        from the caller's dicts)."""
        entity_names = {entity.name for entity in self._schema.type_map["_Entity"].types}  # type: ignore[attr-defined]
        for position, representation in enumerate(representations):
            if (
                not isinstance(representation, dict)
                or representation.get("__typename") not in entity_names
            ):
                raise BadUserInput(
                    f"Representation {position} needs a `__typename` among: "
                    + ", ".join(sorted(entity_names)),
                    field="representations",
                )
        copies = [FederationAny(dict(r)) for r in representations]  # type: ignore[call-overload]
        return super().entities_resolver(info, copies)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Logging happens in `ErrorCodes`: client errors are not logged, unexpected ones are,
        with their traceback; strawberry's default would log every error."""


def build_schema() -> Schema:
    return ClubSchema(
        query=Query,
        federation_version="2.11",
        extensions=[ErrorCodes, ParseCache, ValidationCache],
    )
