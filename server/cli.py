"""The `clubjustice` command line: run the service, migrate, seed, export the schema."""

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
import uvicorn
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine, create_session_factory
from db.enums import Role
from db.migrate import DatabaseNotMigrated, ensure_migrated, upgrade
from db.models import ApiToken, Organization
from db.seed import seed as seed_demo_data
from db.tokens import create_token, list_tokens, revoke_token
from server.logs import configure_logging
from server.settings import Settings

T = TypeVar("T")


async def _on_engine(settings: Settings, work: Callable[..., Awaitable[T]]) -> T:
    engine = create_engine(settings.database_url)
    try:
        return await work(engine)
    finally:
        await engine.dispose()


def _with_engine(settings: Settings, work: Callable[..., Awaitable[T]]) -> T:
    return asyncio.run(_on_engine(settings, work))


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Club Justice API: the club's federated GraphQL graph."""
    settings = Settings()
    configure_logging(settings)
    ctx.obj = settings


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(settings: Settings) -> None:
    """Apply every pending migration."""
    _with_engine(settings, upgrade)
    click.echo("database is at the latest migration", err=True)


async def _seed(settings: Settings) -> int:
    engine = create_engine(settings.database_url)
    try:
        await ensure_migrated(engine)
        report = await seed_demo_data(create_session_factory(engine))
        return report.total
    finally:
        await engine.dispose()


@main.command()
@click.pass_obj
def seed(settings: Settings) -> None:
    """Insert the demo data (the club's launch); running it again adds nothing."""
    try:
        created = asyncio.run(_seed(settings))
    except DatabaseNotMigrated as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"demo data: {created} rows added", err=True)


def _serve(settings: Settings, host: str, port: int, workers: int, migrate: bool) -> None:
    if migrate:
        _with_engine(settings, upgrade)
    try:
        _with_engine(settings, ensure_migrated)
    except DatabaseNotMigrated as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"GraphQL (and GraphiQL in a browser): http://{host}:{port}/graphql", err=True)
    from server.app import uvicorn_options  # the app's modules load in the workers

    uvicorn.run(
        "server.app:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        **uvicorn_options(settings),
    )


@main.command()
@click.option("--host", help="Interface to listen on [default: CLUBJUSTICE_HOST or 127.0.0.1].")
@click.option("--port", type=int, help="Port [default: CLUBJUSTICE_PORT or 8000].")
@click.option("--workers", type=int, help="Server processes [default: CLUBJUSTICE_WORKERS or 1].")
@click.option("--migrate", is_flag=True, help="Apply pending migrations first.")
@click.pass_obj
def serve(
    settings: Settings, host: str | None, port: int | None, workers: int | None, migrate: bool
) -> None:
    """Serve the API."""
    _serve(
        settings,
        host or settings.host,
        port or settings.port,
        workers or settings.workers,
        migrate or settings.migrate_on_start,
    )


@main.command()
@click.option("--host", help="Interface to listen on [default: CLUBJUSTICE_HOST or 127.0.0.1].")
@click.option("--port", type=int, help="Port [default: CLUBJUSTICE_PORT or 8000].")
@click.pass_obj
def demo(settings: Settings, host: str | None, port: int | None) -> None:
    """Migrate, seed the demo data and serve: everything a first look needs."""
    _with_engine(settings, upgrade)
    created = asyncio.run(_seed(settings))
    click.echo(f"demo data ready ({created} rows added) in {settings.database_url}", err=True)
    revoked = _with_engine(settings, _revoke_demo_tokens)
    if revoked:
        click.echo(f"revoked {revoked} demo tokens of an earlier start", err=True)
    click.echo("Demo tokens (send `Authorization: Bearer <token>`; new ones at every start):")
    for role, org, who in DEMO_TOKENS:
        plain = asyncio.run(_create_token(settings, role, org, DEMO_LABEL + who))
        click.echo(f"  {who:<52} {plain}")
    _serve(settings, host or settings.host, port or settings.port, 1, migrate=False)


async def _revoke_demo_tokens(engine: AsyncEngine) -> int:
    async with create_session_factory(engine)() as session, session.begin():
        tokens = await list_tokens(session)
        demo_ids = [
            t.id
            for t, _ in tokens
            if t.revoked_at is None and (t.label or "").startswith(DEMO_LABEL)
        ]
        for token_id in demo_ids:
            await revoke_token(session, token_id)
        return len(demo_ids)


DEMO_LABEL = "demo: "
DEMO_TOKENS = [
    (Role.ADMIN, None, "ADMIN (the secretariat)"),
    (Role.ORGANIZATION, "moldova-legal-empowerment", "member: Moldova Legal Empowerment Network"),
    (Role.ORGANIZATION, "chisinau-law-clinic", "guest: Chisinau Law School Legal Clinic"),
    (Role.PARTNER, None, "PARTNER (read-only, public fields)"),
]


@main.group()
def token() -> None:
    """API tokens (shown once at creation, stored only as a hash)."""


async def _create_token(settings: Settings, role: Role, org: str | None, label: str | None) -> str:
    async def create(engine: AsyncEngine) -> str:
        await ensure_migrated(engine)
        async with create_session_factory(engine)() as session, session.begin():
            organization_id = None
            if org is not None:
                organization_id = await session.scalar(
                    select(Organization.id).where(Organization.slug == org)
                )
                if organization_id is None:
                    raise click.ClickException(f"no organization with slug {org!r}")
            _, plain = await create_token(
                session, role, organization_id=organization_id, label=label
            )
            return plain

    return await _on_engine(settings, create)


@token.command("create")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--org", "org", metavar="SLUG", help="The organization (ORGANIZATION role only).")
@click.option("--label", help="A note on who holds it.")
@click.pass_obj
def token_create(settings: Settings, role: str, org: str | None, label: str | None) -> None:
    """Create a token and print it, alone, on stdout."""
    if (role == Role.ORGANIZATION.value) != (org is not None):
        raise click.UsageError("--org goes with --role ORGANIZATION, and only with it")
    click.echo(asyncio.run(_create_token(settings, Role(role), org, label)))


@token.command("list")
@click.pass_obj
def token_list(settings: Settings) -> None:
    """Tokens by id: role, organization, label, created, revoked."""

    async def rows(engine: AsyncEngine) -> list[tuple[ApiToken, str | None]]:
        async with create_session_factory(engine)() as session:
            return await list_tokens(session)

    for api_token, slug in _with_engine(settings, rows):
        revoked = api_token.revoked_at.isoformat() if api_token.revoked_at else "-"
        click.echo(
            f"{api_token.id}\t{api_token.role.value}\t{slug or '-'}\t{api_token.label or '-'}"
            f"\t{api_token.created_at.isoformat()}\t{revoked}"
        )


@token.command("revoke")
@click.argument("token_id", type=int)
@click.pass_obj
def token_revoke(settings: Settings, token_id: int) -> None:
    """Revoke a token by its id (see `token list`); requests with it fail from now on."""

    async def revoke(engine: AsyncEngine) -> bool:
        async with create_session_factory(engine)() as session, session.begin():
            return await revoke_token(session, token_id)

    if not _with_engine(settings, revoke):
        raise click.ClickException(f"no unrevoked token with id {token_id}")
    click.echo(f"token {token_id} revoked", err=True)


@main.group()
def schema() -> None:
    """The GraphQL schema."""


@schema.command("export")
def schema_export() -> None:
    """Print the subgraph SDL (what `schema.graphql` holds)."""
    from schema.root import build_schema

    sys.stdout.write(build_schema().as_str() + "\n")


if __name__ == "__main__":
    main()
