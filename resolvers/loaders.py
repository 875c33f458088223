"""Per-request DataLoaders: every relation of the graph, declared once, one statement per batch.

Batch functions return results in key order (None or [] for a missing key). Each batch
reads through the context's `session_factory`: over HTTP that is the request's one
connection, which concurrent batches take in turn (db/engine.py RequestReads).

A live event's loaders are shared by all its subscribers (`Loaders.for_event`), each in
its own task, which its client can cancel at any await: they are `ShieldedDataLoader`s.
"""

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Executable, select
from sqlalchemy.orm import InstrumentedAttribute, aliased
from strawberry.dataloader import DataLoader

from club.enums import OrganizationStatus
from db.engine import ReadSessions
from db.keys import one_of
from db.models import (
    ActionItem,
    Attendance,
    Country,
    Event,
    IncubatorProgram,
    Initiative,
    InitiativeCountry,
    InitiativePartner,
    InitiativeStageChange,
    InitiativeSupporter,
    Invitation,
    Organization,
    ProgramGraduate,
    ProgramSupporter,
    WorkingGroup,
    WorkingGroupMember,
)
from resolvers.list_sizes import Observation, fan_out
from resolvers.row_reads import (
    MEMBERS,
    RowsBy,
    RowsGroupedBy,
    counts_by,
    first_of_each_country,
    ranked_organizations,
)

K = TypeVar("K", bound=Hashable)


async def _fetch(session_factory: ReadSessions, statement: Executable) -> Sequence[Any]:
    async with session_factory() as session:
        return (await session.execute(statement)).all()


def by_column(session_factory: ReadSessions, reads: RowsBy) -> DataLoader[Any, Any]:
    """One row per key of a unique column (a primary key, a slug, a code)."""
    column = reads.column
    model = column.class_

    async def load(keys: list[Any]) -> list[Any]:
        rows = await _fetch(session_factory, reads.statement((model,), set(keys)))
        found = {getattr(row[0], column.key): row[0] for row in rows}
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


def grouped_by(session_factory: ReadSessions, reads: RowsGroupedBy) -> DataLoader[Any, list[Any]]:
    """The rows whose foreign key is the key: a one-to-many relation."""
    column = reads.column
    model = column.class_

    async def load(keys: list[Any]) -> list[list[Any]]:
        statement = reads.statement((model,), set(keys))
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
    session_factory: ReadSessions,
) -> DataLoader[CountryOrganizationsKey, list[Organization]]:
    """A country's organizations by name, at most `first` of each: one windowed statement."""

    async def load(keys: list[CountryOrganizationsKey]) -> list[list[Organization]]:
        results: dict[CountryOrganizationsKey, list[Organization]] = {}
        by_shape: dict[tuple[int, OrganizationStatus | None], list[CountryOrganizationsKey]]
        by_shape = defaultdict(list)
        for key in keys:
            by_shape[(key.first, key.status)].append(key)
        for (first, status), shape_keys in by_shape.items():
            country_ids = {key.country_id for key in shape_keys}
            ranked = ranked_organizations((Organization,), country_ids, status)
            statement = first_of_each_country(ranked, first, aliased(Organization, ranked))
            groups = _group(
                await _fetch(session_factory, statement),
                [key.country_id for key in shape_keys],
                lambda row: row[0].country_id,
            )
            results.update(zip(shape_keys, groups, strict=True))
        return [results[key] for key in keys]

    return DataLoader(load_fn=load)


def _count_by(
    session_factory: ReadSessions, column: InstrumentedAttribute[K], *where: ColumnElement[bool]
) -> DataLoader[K, int]:
    async def load(keys: list[K]) -> list[int]:
        statement = counts_by(column, set(keys), *where)
        counts = {key: count for key, count in await _fetch(session_factory, statement)}
        return [counts.get(key, 0) for key in keys]

    return DataLoader(load_fn=load)


def linked_through(
    session_factory: ReadSessions,
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
            .where(one_of(key, set(keys)))
            .order_by(*order_by)
        )
        return _group(await _fetch(session_factory, statement), keys, lambda row: row[1])

    return DataLoader(load_fn=load)


@dataclass(frozen=True, slots=True)
class InviterYearKey:
    inviter_id: int
    year: int | None


def _invitations_sent(
    session_factory: ReadSessions,
) -> DataLoader[InviterYearKey, list[Invitation]]:
    """An organization's invitations, of one year or (year None) of all."""

    async def load(keys: list[InviterYearKey]) -> list[list[Invitation]]:
        statement = (
            select(Invitation)
            .where(one_of(Invitation.inviter_id, {key.inviter_id for key in keys}))
            .order_by(Invitation.created_at, Invitation.id)
        )
        groups: dict[InviterYearKey, list[Invitation]] = defaultdict(list)
        for (invitation,) in await _fetch(session_factory, statement):
            groups[InviterYearKey(invitation.inviter_id, None)].append(invitation)
            groups[InviterYearKey(invitation.inviter_id, invitation.year)].append(invitation)
        return [groups.get(key, []) for key in keys]

    return DataLoader(load_fn=load)


V = TypeVar("V")


class ShieldedDataLoader(DataLoader[K, V]):
    """A DataLoader whose callers may be cancelled independently: each `load` hands out its
    own shielded awaitable of the key's one future. (A plain DataLoader hands every caller
    of a key the same future, and a caller's task cancelled while awaiting it cancels it,
    so every other caller gets CancelledError.) The read itself still runs once, and to its
    end, even if every caller has left."""

    def load(self, key: K) -> Awaitable[V]:
        return asyncio.shield(super().load(key))


def _shielded(loader: DataLoader[K, V]) -> ShieldedDataLoader[K, V]:
    """`loader` (just built, unused) as a ShieldedDataLoader with the same settings."""
    return ShieldedDataLoader(
        load_fn=loader.load_fn,
        max_batch_size=loader.max_batch_size,
        cache=loader.cache,
        cache_map=loader.cache_map if loader.cache else None,
    )


class LoaderProperty(cached_property[DataLoader[K, V]]):
    """A loader declared on Loaders: built on first use and memoised, by `build(loaders)`;
    shielded when the Loaders are an event's (`Loaders.for_event`)."""

    def __init__(self, build: Callable[["Loaders"], DataLoader[K, V]]) -> None:
        def built(loaders: "Loaders") -> DataLoader[K, V]:
            loader = build(loaders)
            return _shielded(loader) if loaders.shared else loader

        super().__init__(built)
        self.__doc__ = build.__doc__


class RowLoader(LoaderProperty[K, V | None]):
    """A loader of one row per key of a unique column (by_column), declared on Loaders: built
    on first use in a request. `reads` says which rows, for the compiled read path."""

    def __init__(self, column: InstrumentedAttribute[K]) -> None:
        self.reads = reads = RowsBy(column)
        super().__init__(lambda loaders: by_column(loaders.session_factory, reads))


def one_by(column: InstrumentedAttribute[K]) -> RowLoader[K, Any]:
    """The row whose unique `column` is the key (None when there is none)."""
    return RowLoader(column)


class ListLoader(LoaderProperty[K, V]):
    """A loader of a list relation, declared on Loaders: built on first use in a request
    (a cached_property of `build(session_factory)`), and observable: `observation` reads
    the most rows one parent has in the data (`parent` is the column pointing at it), which
    the cost estimate uses for every field this loader answers (resolvers/list_sizes.py)."""

    def __init__(
        self,
        build: Callable[[ReadSessions], DataLoader[K, V]],
        parent: InstrumentedAttribute[Any],
        *where: ColumnElement[bool],
        reads: RowsGroupedBy | None = None,
    ) -> None:
        super().__init__(lambda loaders: build(loaders.session_factory))
        self.parent = parent
        self.where = where
        # The statement it reads, when it is a plain one-to-many relation (many_by): the
        # compiled read path (schema/compiled/) reads the same rows in the same order.
        self.reads = reads
        self.observation: Observation | None = None

    def __set_name__(self, owner: type[Any], name: str) -> None:
        super().__set_name__(owner, name)
        self.observation = fan_out(name, self.parent, *self.where)

    def observed(self) -> Observation:
        """Its observation (named after the loader)."""
        if self.observation is None:
            raise TypeError("a ListLoader is observable once it is an attribute of Loaders")
        return self.observation


def many_by(
    column: InstrumentedAttribute[Any], *order_by: InstrumentedAttribute[Any]
) -> ListLoader[Any, list[Any]]:
    """A one-to-many relation (grouped_by), observed by its foreign key."""
    reads = RowsGroupedBy(column, order_by)
    return ListLoader(lambda sessions: grouped_by(sessions, reads), column, reads=reads)


def many_through(
    key: InstrumentedAttribute[int],
    target: InstrumentedAttribute[int],
    model: type[Any],
    *order_by: InstrumentedAttribute[Any],
) -> ListLoader[int, list[Any]]:
    """A many-to-many relation (linked_through), observed by the link table's `key`."""
    return ListLoader(lambda sessions: linked_through(sessions, key, target, model, *order_by), key)


class Loaders:
    """Every relation the graph can walk, one DataLoader each: created on first use and
    memoised for the request (a request that walks two relations builds two loaders)."""

    def __init__(self, session_factory: ReadSessions, *, shared: bool = False) -> None:
        self.session_factory = session_factory
        self.shared = shared
        # An event's: the compiled read path's statements, read once for all its executions
        # (schema/compiled/run.py, `SharedReads`).
        self.statement_reads: dict[Any, Any] | None = {} if shared else None

    @classmethod
    def for_request(cls, session_factory: ReadSessions) -> "Loaders":
        return cls(session_factory)

    @classmethod
    def for_event(cls, session_factory: ReadSessions) -> "Loaders":
        """The loaders of one live event, shared by all its subscribers' tasks: a subscriber
        that leaves mid-read (its task cancelled) leaves the read to the others."""
        return cls(session_factory, shared=True)

    country: RowLoader[int, Country] = one_by(Country.id)

    country_by_code: RowLoader[str, Country] = one_by(Country.code)

    organization: RowLoader[int, Organization] = one_by(Organization.id)

    organization_by_slug: RowLoader[str, Organization] = one_by(Organization.slug)

    event: RowLoader[int, Event] = one_by(Event.id)

    working_group: RowLoader[int, WorkingGroup] = one_by(WorkingGroup.id)

    working_group_by_slug: RowLoader[str, WorkingGroup] = one_by(WorkingGroup.slug)

    invitation: RowLoader[int, Invitation] = one_by(Invitation.id)

    organizations_of_country: ListLoader[CountryOrganizationsKey, list[Organization]] = ListLoader(
        _organizations_by_country, Organization.country_id
    )

    @LoaderProperty
    def member_count_of_country(self) -> DataLoader[int, int]:
        return _count_by(self.session_factory, Organization.country_id, MEMBERS)

    organizations_sponsored_by: ListLoader[int, list[Organization]] = many_by(
        Organization.sponsor_id, Organization.joined_at, Organization.id
    )

    attendances_of_event: ListLoader[int, list[Attendance]] = many_by(
        Attendance.event_id, Attendance.recorded_at, Attendance.id
    )

    attendances_of_organization: ListLoader[int, list[Attendance]] = many_by(
        Attendance.organization_id, Attendance.recorded_at, Attendance.id
    )

    events_hosted_by: ListLoader[int, list[Event]] = many_by(
        Event.host_id, Event.starts_at, Event.id
    )

    meetings_of_working_group: ListLoader[int, list[Event]] = many_by(
        Event.working_group_id, Event.starts_at, Event.id
    )

    members_of_working_group: ListLoader[int, list[Organization]] = many_through(
        WorkingGroupMember.working_group_id,
        WorkingGroupMember.organization_id,
        Organization,
        Organization.name,
        Organization.id,
    )

    working_groups_of_organization: ListLoader[int, list[WorkingGroup]] = many_through(
        WorkingGroupMember.organization_id,
        WorkingGroupMember.working_group_id,
        WorkingGroup,
        WorkingGroup.name,
        WorkingGroup.id,
    )

    action_items_of_working_group: ListLoader[int, list[ActionItem]] = many_by(
        ActionItem.working_group_id, ActionItem.due_date, ActionItem.id
    )

    invitations_sent: ListLoader[InviterYearKey, list[Invitation]] = ListLoader(
        _invitations_sent, Invitation.inviter_id
    )

    invitations_received: ListLoader[int, list[Invitation]] = many_by(
        Invitation.invitee_id, Invitation.created_at, Invitation.id
    )

    # --- the ideas incubator -----------------------------------------------------------

    incubator_program: RowLoader[int, IncubatorProgram] = one_by(IncubatorProgram.id)

    incubator_program_by_slug: RowLoader[str, IncubatorProgram] = one_by(IncubatorProgram.slug)

    initiative: RowLoader[int, Initiative] = one_by(Initiative.id)

    programs_organized_by: ListLoader[int, list[IncubatorProgram]] = many_by(
        IncubatorProgram.organizer_id, IncubatorProgram.name, IncubatorProgram.id
    )

    supporters_of_program: ListLoader[int, list[ProgramSupporter]] = many_by(
        ProgramSupporter.program_id, ProgramSupporter.organization_id
    )

    graduates_of_program: ListLoader[int, list[ProgramGraduate]] = many_by(
        ProgramGraduate.program_id, ProgramGraduate.year, ProgramGraduate.organization_id
    )

    initiatives_of_program: ListLoader[int, list[Initiative]] = many_by(
        Initiative.program_id, Initiative.created_at, Initiative.id
    )

    initiatives_of_working_group: ListLoader[int, list[Initiative]] = many_by(
        Initiative.working_group_id, Initiative.created_at, Initiative.id
    )

    initiatives_proposed_by: ListLoader[int, list[Initiative]] = many_by(
        Initiative.proposer_id, Initiative.created_at, Initiative.id
    )

    initiatives_partnered_by: ListLoader[int, list[Initiative]] = many_through(
        InitiativePartner.organization_id,
        InitiativePartner.initiative_id,
        Initiative,
        Initiative.created_at,
        Initiative.id,
    )

    initiatives_of_country: ListLoader[int, list[Initiative]] = many_through(
        InitiativeCountry.country_id,
        InitiativeCountry.initiative_id,
        Initiative,
        Initiative.created_at,
        Initiative.id,
    )

    countries_of_initiative: ListLoader[int, list[Country]] = many_through(
        InitiativeCountry.initiative_id,
        InitiativeCountry.country_id,
        Country,
        Country.name,
        Country.id,
    )

    partners_of_initiative: ListLoader[int, list[Organization]] = many_through(
        InitiativePartner.initiative_id,
        InitiativePartner.organization_id,
        Organization,
        Organization.name,
        Organization.id,
    )

    supporters_of_initiative: ListLoader[int, list[InitiativeSupporter]] = many_by(
        InitiativeSupporter.initiative_id, InitiativeSupporter.organization_id
    )

    stage_history_of_initiative: ListLoader[int, list[InitiativeStageChange]] = many_by(
        InitiativeStageChange.initiative_id,
        InitiativeStageChange.changed_at,
        InitiativeStageChange.id,
    )
