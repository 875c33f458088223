"""References between the domain modules, whose types point at each other; strawberry
resolves them lazily, once every module is loaded."""

from typing import TYPE_CHECKING, Annotated

import strawberry

if TYPE_CHECKING:
    from schema.countries import Country
    from schema.events import Attendance, Event
    from schema.invitations import Invitation, InvitationQuota
    from schema.organizations import Organization
    from schema.working_groups import WorkingGroup

CountryRef = Annotated["Country", strawberry.lazy("schema.countries")]
OrganizationRef = Annotated["Organization", strawberry.lazy("schema.organizations")]
EventRef = Annotated["Event", strawberry.lazy("schema.events")]
AttendanceRef = Annotated["Attendance", strawberry.lazy("schema.events")]
InvitationRef = Annotated["Invitation", strawberry.lazy("schema.invitations")]
InvitationQuotaRef = Annotated["InvitationQuota", strawberry.lazy("schema.invitations")]
WorkingGroupRef = Annotated["WorkingGroup", strawberry.lazy("schema.working_groups")]
