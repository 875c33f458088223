"""The `clubjustice` command line: run the service, migrate, seed, export the schema."""

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
import uvicorn

from db.engine import create_engine, create_session_factory
from db.migrate import DatabaseNotMigrated, ensure_migrated, upgrade
from db.seed import seed as seed_demo_data
from server.logs import configure_logging
from server.settings import Settings

T = TypeVar("T")


def _with_engine(settings: Settings, work: Callable[..., Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


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
    uvicorn.run(
        "server.app:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        ws_per_message_deflate=False,
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
    _serve(settings, host or settings.host, port or settings.port, 1, migrate=False)


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
