"""Per-request DataLoaders: every relation of the graph, declared once, one statement per batch.

Batch functions return results in key order (None or [] for a missing key). Each batch
opens its own short session, so loaders running concurrently never share one.
"""

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Executable, func, select
from sqlalchemy.orm import InstrumentedAttribute, aliased
from strawberry.dataloader import DataLoader

from db.engine import SessionFactory
from db.enums import OrganizationStatus
from db.models import (
    ActionItem,
    Attendance,
    Country,
    Event,
    Invitation,
    Organization,
    WorkingGroup,
    WorkingGroupMember,
)

K = TypeVar("K", bound=Hashable)
M = TypeVar("M")


async def _fetch(session_factory: SessionFactory, statement: Executable) -> Sequence[Any]:
    async with session_factory() as session:
        return (await session.execute(statement)).all()


def by_column(
    session_factory: SessionFactory, column: InstrumentedAttribute[K]
) -> DataLoader[K, Any]:
    """One row per key of a unique column (a primary key, a slug, a code)."""
    model = column.class_

    async def load(keys: list[K]) -> list[Any]:
        rows = await _fetch(session_factory, select(model).where(column.in_(set(keys))))
        found = {getattr(row[0], column.key): row[0] for row in rows}
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


def grouped_by(
    session_factory: SessionFactory,
    column: InstrumentedAttribute[Any],
    *order_by: ColumnElement[Any] | InstrumentedAttribute[Any],
) -> DataLoader[Any, list[Any]]:
    """The rows whose foreign key `column` is the key: a one-to-many relation."""
    model = column.class_

    async def load(keys: list[Any]) -> list[list[Any]]:
        statement = select(model).where(column.in_(set(keys))).order_by(*order_by)
        return _group(
            await _fetch(session_factory, statement), keys, lambda row: getattr(row[0], column.key)
        )

    return DataLoader(load_fn=load)


def _group(
    rows: Iterable[Any],
    keys: list[K],
    key_of: Callable[[Any], K],
    value_of: Callable[[Any], Any] = lambda row: row[0],
) -> list[list[Any]]:
    groups: dict[K, list[Any]] = defaultdict(list)
    for row in rows:
        groups[key_of(row)].append(value_of(row))
    return [groups.get(key, []) for key in keys]


@dataclass(frozen=True, slots=True)
class CountryOrganizationsKey:
    country_id: int
    first: int
    status: OrganizationStatus | None


def _organizations_by_country(
    session_factory: SessionFactory,
) -> DataLoader[CountryOrganizationsKey, list[Organization]]:
    """A country's organizations by name, at most `first` of each: one windowed statement."""

    async def load(keys: list[CountryOrganizationsKey]) -> list[list[Organization]]:
        results: dict[CountryOrganizationsKey, list[Organization]] = {}
        by_shape: dict[tuple[int, OrganizationStatus | None], list[CountryOrganizationsKey]]
        by_shape = defaultdict(list)
        for key in keys:
            by_shape[(key.first, key.status)].append(key)
        for (first, status), shape_keys in by_shape.items():
            rank = (
                func.row_number()
                .over(
                    partition_by=Organization.country_id,
                    order_by=(Organization.name, Organization.id),
                )
                .label("rank")
            )
            inner = select(Organization, rank).where(
                Organization.country_id.in_({key.country_id for key in shape_keys})
            )
            if status is not None:
                inner = inner.where(Organization.status == status)
            ranked = inner.subquery()
            organization = aliased(Organization, ranked)
            statement = (
                select(organization)
                .where(ranked.c.rank <= first)
                .order_by(ranked.c.country_id, ranked.c.rank)
            )
            groups = _group(
                await _fetch(session_factory, statement),
                [key.country_id for key in shape_keys],
                lambda row: row[0].country_id,
            )
            results.update(zip(shape_keys, groups, strict=True))
        return [results[key] for key in keys]

    return DataLoader(load_fn=load)


def _count_by(
    session_factory: SessionFactory, column: InstrumentedAttribute[K], *where: ColumnElement[bool]
) -> DataLoader[K, int]:
    async def load(keys: list[K]) -> list[int]:
        statement = (
            select(column, func.count()).where(column.in_(set(keys)), *where).group_by(column)
        )
        counts = {key: count for key, count in await _fetch(session_factory, statement)}
        return [counts.get(key, 0) for key in keys]

    return DataLoader(load_fn=load)


def linked_through(
    session_factory: SessionFactory,
    key: InstrumentedAttribute[int],
    target: InstrumentedAttribute[int],
    model: type[Any],
    *order_by: InstrumentedAttribute[Any],
) -> DataLoader[int, list[Any]]:
    """A many-to-many relation through a link table: for each `key` value, the `model` rows
    that the link's `target` column points at."""
    primary_key = model.id

    async def load(keys: list[int]) -> list[list[Any]]:
        statement = (
            select(model, key)
            .join(key.class_, target == primary_key)
            .where(key.in_(set(keys)))
            .order_by(*order_by)
        )
        return _group(await _fetch(session_factory, statement), keys, lambda row: row[1])

    return DataLoader(load_fn=load)


@dataclass(frozen=True, slots=True)
class InviterYearKey:
    inviter_id: int
    year: int | None


def _invitations_sent(
    session_factory: SessionFactory,
) -> DataLoader[InviterYearKey, list[Invitation]]:
    """An organization's invitations, of one year or (year None) of all."""

    async def load(keys: list[InviterYearKey]) -> list[list[Invitation]]:
        statement = (
            select(Invitation)
            .where(Invitation.inviter_id.in_({key.inviter_id for key in keys}))
            .order_by(Invitation.created_at, Invitation.id)
        )
        groups: dict[InviterYearKey, list[Invitation]] = defaultdict(list)
        for (invitation,) in await _fetch(session_factory, statement):
            groups[InviterYearKey(invitation.inviter_id, None)].append(invitation)
            groups[InviterYearKey(invitation.inviter_id, invitation.year)].append(invitation)
        return [groups.get(key, []) for key in keys]

    return DataLoader(load_fn=load)


@dataclass(slots=True)
class Loaders:
    """Every relation the graph can walk. Built fresh for each request (memoised per request)."""

    country: DataLoader[int, Country | None]
    country_by_code: DataLoader[str, Country | None]
    organization: DataLoader[int, Organization | None]
    organization_by_slug: DataLoader[str, Organization | None]
    event: DataLoader[int, Event | None]
    working_group: DataLoader[int, WorkingGroup | None]
    working_group_by_slug: DataLoader[str, WorkingGroup | None]
    invitation: DataLoader[int, Invitation | None]

    organizations_of_country: DataLoader[CountryOrganizationsKey, list[Organization]]
    member_count_of_country: DataLoader[int, int]
    organizations_sponsored_by: DataLoader[int, list[Organization]]
    attendances_of_event: DataLoader[int, list[Attendance]]
    attendances_of_organization: DataLoader[int, list[Attendance]]
    events_hosted_by: DataLoader[int, list[Event]]
    meetings_of_working_group: DataLoader[int, list[Event]]
    members_of_working_group: DataLoader[int, list[Organization]]
    working_groups_of_organization: DataLoader[int, list[WorkingGroup]]
    action_items_of_working_group: DataLoader[int, list[ActionItem]]
    invitations_sent: DataLoader[InviterYearKey, list[Invitation]]
    invitations_received: DataLoader[int, list[Invitation]]

    @classmethod
    def for_request(cls, session_factory: SessionFactory) -> "Loaders":
        s = session_factory
        return cls(
            country=by_column(s, Country.id),
            country_by_code=by_column(s, Country.code),
            organization=by_column(s, Organization.id),
            organization_by_slug=by_column(s, Organization.slug),
            event=by_column(s, Event.id),
            working_group=by_column(s, WorkingGroup.id),
            working_group_by_slug=by_column(s, WorkingGroup.slug),
            invitation=by_column(s, Invitation.id),
            organizations_of_country=_organizations_by_country(s),
            member_count_of_country=_count_by(
                s, Organization.country_id, Organization.status == OrganizationStatus.MEMBER
            ),
            organizations_sponsored_by=grouped_by(
                s, Organization.sponsor_id, Organization.joined_at, Organization.id
            ),
            attendances_of_event=grouped_by(
                s, Attendance.event_id, Attendance.recorded_at, Attendance.id
            ),
            attendances_of_organization=grouped_by(
                s, Attendance.organization_id, Attendance.recorded_at, Attendance.id
            ),
            events_hosted_by=grouped_by(s, Event.host_id, Event.starts_at, Event.id),
            meetings_of_working_group=grouped_by(
                s, Event.working_group_id, Event.starts_at, Event.id
            ),
            members_of_working_group=linked_through(
                s,
                WorkingGroupMember.working_group_id,
                WorkingGroupMember.organization_id,
                Organization,
                Organization.name,
                Organization.id,
            ),
            working_groups_of_organization=linked_through(
                s,
                WorkingGroupMember.organization_id,
                WorkingGroupMember.working_group_id,
                WorkingGroup,
                WorkingGroup.name,
                WorkingGroup.id,
            ),
            action_items_of_working_group=grouped_by(
                s, ActionItem.working_group_id, ActionItem.due_date, ActionItem.id
            ),
            invitations_sent=_invitations_sent(s),
            invitations_received=grouped_by(
                s, Invitation.invitee_id, Invitation.created_at, Invitation.id
            ),
        )
