"""The benchmark server: the real application plus "the floor", raw Starlette routes in
the same process that run the same SQL as the GraphQL path (the same token check, the same
statements, through SQLAlchemy Core) and serialize the same JSON with orjson. What the
GraphQL endpoint costs beyond the floor is GraphQL's own work.

    uvicorn --factory bench.floor:create_bench_app      (CLUBJUSTICE_* settings as usual)
"""

import gc
from collections import defaultdict
from typing import Any

import orjson
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db.engine import Database
from db.models import Attendance, Country, Event, Organization
from schema.ids import decode_id
from server.app import create_app
from server.auth import principal_for
from server.settings import Settings

ORG = Organization.__table__.c
COUNTRY = Country.__table__.c
ATTENDANCE = Attendance.__table__.c
EVENT = Event.__table__.c


def _json(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


async def _principal(request: Request) -> Any:
    database: Database = request.state.database
    outcome = await principal_for(database.session_factory, request.headers.get("authorization"))
    if isinstance(outcome, str):
        return None
    return outcome


def _unauthenticated() -> Response:
    return Response(b'{"errors":[{"extensions":{"code":"UNAUTHENTICATED"}}]}', status_code=401)


async def s1(request: Request) -> Response:
    principal = await _principal(request)
    if principal is None:
        return _unauthenticated()
    return _json({"data": {"viewer": {"role": principal.role.value}}})


async def s2(request: Request) -> Response:
    """organizations(first: 50) { edges { node { name slug status kind website
    country { code name } } } }"""
    principal = await _principal(request)
    if principal is None:
        return _unauthenticated()
    database: Database = request.state.database
    async with database.engine.connect() as connection:
        rows = (
            await connection.execute(
                select(
                    ORG.id, ORG.name, ORG.slug, ORG.status, ORG.kind, ORG.website, ORG.country_id
                )
                .order_by(ORG.name, ORG.id)
                .limit(51)
            )
        ).all()[:50]
    async with database.engine.connect() as connection:
        countries = {
            row.id: row
            for row in await connection.execute(
                select(COUNTRY.id, COUNTRY.code, COUNTRY.name).where(
                    COUNTRY.id.in_({row.country_id for row in rows})
                )
            )
        }
    edges = []
    for row in rows:
        country = countries[row.country_id]
        edges.append(
            {
                "node": {
                    "name": row.name,
                    "slug": row.slug,
                    "status": row.status,
                    "kind": row.kind,
                    "website": row.website,
                    "country": {"code": country.code, "name": country.name},
                }
            }
        )
    return _json({"data": {"organizations": {"edges": edges}}})


async def s3(request: Request) -> Response:
    """countries { name organizations(first: 20) { name attendances { role
    event { title host { name } } } } }"""
    principal = await _principal(request)
    if principal is None:
        return _unauthenticated()
    database: Database = request.state.database
    async with database.engine.connect() as connection:
        countries = (
            await connection.execute(select(COUNTRY.id, COUNTRY.name).order_by(COUNTRY.name))
        ).all()
    rank = (
        func.row_number()
        .over(partition_by=ORG.country_id, order_by=(ORG.name, ORG.id))
        .label("rank")
    )
    inner = (
        select(ORG.id, ORG.name, ORG.country_id, rank)
        .where(ORG.country_id.in_({c.id for c in countries}))
        .subquery()
    )
    async with database.engine.connect() as connection:
        organizations = (
            await connection.execute(
                select(inner.c.id, inner.c.name, inner.c.country_id)
                .where(inner.c.rank <= 20)
                .order_by(inner.c.country_id, inner.c.rank)
            )
        ).all()
    async with database.engine.connect() as connection:
        attendances = (
            await connection.execute(
                select(ATTENDANCE.organization_id, ATTENDANCE.role, ATTENDANCE.event_id)
                .where(ATTENDANCE.organization_id.in_({o.id for o in organizations}))
                .order_by(ATTENDANCE.id)
            )
        ).all()
    async with database.engine.connect() as connection:
        events = {
            row.id: row
            for row in await connection.execute(
                select(EVENT.id, EVENT.title, EVENT.host_id).where(
                    EVENT.id.in_({a.event_id for a in attendances})
                )
            )
        }
    async with database.engine.connect() as connection:
        hosts = {
            row.id: row.name
            for row in await connection.execute(
                select(ORG.id, ORG.name).where(ORG.id.in_({e.host_id for e in events.values()}))
            )
        }
    by_organization: dict[int, list[Any]] = defaultdict(list)
    for attendance in attendances:
        event = events[attendance.event_id]
        by_organization[attendance.organization_id].append(
            {
                "role": attendance.role,
                "event": {"title": event.title, "host": {"name": hosts[event.host_id]}},
            }
        )
    by_country: dict[int, list[Any]] = defaultdict(list)
    for organization in organizations:
        by_country[organization.country_id].append(
            {"name": organization.name, "attendances": by_organization[organization.id]}
        )
    return _json(
        {
            "data": {
                "countries": [
                    {"name": country.name, "organizations": by_country[country.id]}
                    for country in countries
                ]
            }
        }
    )


async def s4(request: Request) -> Response:
    """_entities(representations: [100 Organization]) { ... on Organization { name slug
    country { code } } }"""
    principal = await _principal(request)
    if principal is None:
        return _unauthenticated()
    representations = orjson.loads(await request.body())["variables"]["representations"]
    ids = [decode_id("Organization", r["id"]) for r in representations]
    database: Database = request.state.database
    async with database.engine.connect() as connection:
        rows = {
            row.id: row
            for row in await connection.execute(
                select(ORG.id, ORG.name, ORG.slug, ORG.country_id).where(ORG.id.in_(set(ids)))
            )
        }
    async with database.engine.connect() as connection:
        codes = {
            row.id: row.code
            for row in await connection.execute(
                select(COUNTRY.id, COUNTRY.code).where(
                    COUNTRY.id.in_({r.country_id for r in rows.values()})
                )
            )
        }
    entities = [
        {"name": rows[i].name, "slug": rows[i].slug, "country": {"code": codes[rows[i].country_id]}}
        if i in rows
        else None
        for i in ids
    ]
    return _json({"data": {"_entities": entities}})


def create_bench_app() -> Starlette:
    settings = Settings()
    gc.set_threshold(*settings.gc_thresholds)  # as in `clubjustice serve`
    app = create_app(settings)
    app.router.routes.extend(
        Route(f"/floor/{name}", endpoint, methods=["POST"])
        for name, endpoint in (("s1", s1), ("s2", s2), ("s3", s3), ("s4", s4))
    )
    return app
