"""The `clubjustice` command line: run the service, migrate, seed, export the schema.

Every command reads and checks the settings first. A failure an operator can fix prints
one line naming the problem and the fix (server/startup.py), in the configured log
format, and exits with status 1; `--debug` adds the traceback.
"""

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
import uvicorn
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from club.enums import TOKEN_ROLES, Role
from club.settings import Settings
from db.demo import demo_tokens, is_demo_database, wipe
from db.engine import create_engine, create_session_factory, create_write_session_factory
from db.migrate import ensure_migrated, upgrade
from db.models import ApiToken, Organization
from db.seed import seed as seed_demo_data
from db.tokens import create_token, list_tokens, revoke_token
from server.logs import configure_logging, error_line, logging_config
from server.startup import (
    DatabaseLocation,
    StartupError,
    check_listen_address,
    database_files,
    explain,
    read_settings,
)

T = TypeVar("T")

logger = logging.getLogger("clubjustice.cli")

# Shared by every context of one invocation (click's Context.meta).
DEBUG = "clubjustice.debug"
SETTINGS = "clubjustice.settings"
DATABASE = "clubjustice.database"


class CommandFailed(click.ClickException):
    """A failure, shown as one line in the configured log format."""

    def __init__(self, message: str, *, json: bool, traceback_of: BaseException | None) -> None:
        super().__init__(" ".join(message.split()))  # one line, whatever the message held
        self.json = json
        self.traceback_of = traceback_of

    def show(self, file: Any = None) -> None:
        line = error_line(self.message, json=self.json, error=self.traceback_of)
        click.echo(line, err=True)


def _failure(ctx: click.Context, error: BaseException) -> CommandFailed:
    settings: Settings | None = ctx.meta.get(SETTINGS)
    # Settings that failed to load still say how to log, if that much is readable.
    json = (
        settings.log_format == "json"
        if settings is not None
        else os.environ.get("CLUBJUSTICE_LOG_FORMAT", "").strip().lower() == "json"
    )
    if isinstance(error, click.ClickException):
        message = error.format_message()
    else:
        explained = explain(error, ctx.meta.get(DATABASE))
        message = explained or (
            f"unexpected {type(error).__name__}: {str(error).strip() or 'no detail'} "
            "(run the command again with --debug for the traceback)"
        )
    return CommandFailed(message, json=json, traceback_of=error if ctx.meta.get(DEBUG) else None)


def _turn_on_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[DEBUG] = True


def _debug_option() -> click.Option:
    return click.Option(
        ["--debug"],
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_turn_on_debug,
        help="Show the traceback of a failure.",
    )


class Command(click.Command):
    """A command with --debug (and -h, from the root's context settings)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(_debug_option())


class Group(click.Group):
    command_class = Command
    group_class = type  # subgroups are of this class too

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(_debug_option())


class CommandLine(Group):
    """The root: turns every failure below it into one line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.UsageError, click.exceptions.Exit, click.exceptions.Abort, CommandFailed):
            raise
        except Exception as error:
            raise _failure(ctx, error) from error


@click.group(cls=CommandLine, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="clubjustice", prog_name="clubjustice")
def main() -> None:
    """Club Justice API: the club's federated GraphQL graph.

    Settings come from CLUBJUSTICE_* environment variables (see README.md, "Running it").
    """


def _settings() -> Settings:
    ctx = click.get_current_context()
    settings: Settings | None = ctx.meta.get(SETTINGS)
    if settings is None:
        settings = read_settings(os.environ)
        configure_logging(settings)
        ctx.meta[SETTINGS] = settings
    return settings


def _on_database(
    settings: Settings,
    work: Callable[[AsyncEngine], Awaitable[T]],
    *,
    create: bool = False,
    migrated: bool = True,
) -> T:
    """Run `work` on the configured database. Only commands that create databases may find
    none (an SQLite file); the others need it migrated."""
    ctx = click.get_current_context()
    known: DatabaseLocation | None = ctx.meta.get(DATABASE)
    location = ctx.meta[DATABASE] = known or DatabaseLocation.of(settings.database_url)

    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            if migrated:
                await ensure_migrated(engine)
            return await work(engine)
        finally:
            await engine.dispose()

    with database_files(location, create=create):
        result = asyncio.run(run())
    if known is None:  # once per command; a failure names the database itself
        logger.info("database: %s", location.describe())
    return result


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (creates an SQLite database that does not exist)."""
    _on_database(_settings(), upgrade, create=True, migrated=False)
    logger.info("the database is at the latest migration")


async def _seed(engine: AsyncEngine) -> int:
    report = await seed_demo_data(create_session_factory(engine))
    return report.total


@main.command()
def seed() -> None:
    """Insert the demo data (the club's launch); running it again adds nothing."""
    created = _on_database(_settings(), _seed)
    logger.info("demo data: %s rows added", created)


def _serve(
    settings: Settings,
    host: str,
    port: int,
    workers: int,
    migrate: bool,
    demo_token: str | None = None,
) -> None:
    check_listen_address(host, port)
    if migrate:
        _on_database(settings, upgrade, create=True, migrated=False)
    else:

        async def nothing_more(engine: AsyncEngine) -> None:
            return None

        _on_database(settings, nothing_more)
    from server.app import create_served_app, uvicorn_options  # the app's modules load late

    # Built here, so that what building it checks (the trusted documents, tracing) fails
    # before the server says it serves; one worker serves this very app.
    app = create_served_app(settings, demo_token=demo_token)
    logger.info(
        "GraphQL (and GraphiQL in a browser): http://%s:%s/graphql; the club page: http://%s:%s/",
        host,
        port,
        host,
        port,
    )
    uvicorn.run(
        app if workers == 1 else "server.app:create_served_app",
        factory=workers > 1,
        host=host,
        port=port,
        workers=workers,
        # uvicorn applies it in every process it starts, before its own first line.
        log_config=logging_config(settings),
        **uvicorn_options(settings),
    )


PORT = click.IntRange(1, 65535)


@main.command()
@click.option("--host", help="Interface to listen on [default: CLUBJUSTICE_HOST or 127.0.0.1].")
@click.option("--port", type=PORT, help="Port [default: CLUBJUSTICE_PORT or 8000].")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Server processes [default: CLUBJUSTICE_WORKERS or 1].",
)
@click.option("--migrate", is_flag=True, help="Apply pending migrations first.")
def serve(host: str | None, port: int | None, workers: int | None, migrate: bool) -> None:
    """Serve the API."""
    settings = _settings()
    _serve(
        settings,
        host or settings.host,
        port or settings.port,
        workers or settings.workers,
        migrate or settings.migrate_on_start,
    )


@main.command()
@click.option("--host", help="Interface to listen on [default: CLUBJUSTICE_HOST or 127.0.0.1].")
@click.option("--port", type=PORT, help="Port [default: CLUBJUSTICE_PORT or 8000].")
@click.option(
    "--reset",
    is_flag=True,
    help="Start from fresh demo data (and new demo tokens): wipes the demo database first.",
)
def demo(host: str | None, port: int | None, reset: bool) -> None:
    """Migrate, seed the demo data, print the demo tokens and serve: everything a first look
    needs. The tokens stay the same at every start of the same database. Anonymous public
    reads are on, unless CLUBJUSTICE_ANONYMOUS_READS says otherwise."""
    settings = _settings()
    if "anonymous_reads" not in settings.model_fields_set:
        settings = settings.model_copy(update={"anonymous_reads": True})
    host, port = host or settings.host, port or settings.port
    check_listen_address(host, port)

    async def prepare(engine: AsyncEngine) -> tuple[int, list[Any]]:
        if not await is_demo_database(engine):
            raise StartupError(
                "the demo runs on an empty database or one it made, and `clubjustice demo` "
                "did not create this one: point CLUBJUSTICE_DATABASE_URL at another database"
            )
        if reset:
            await wipe(engine)
        await upgrade(engine)
        created = await _seed(engine)
        return created, await demo_tokens(create_write_session_factory(engine))

    created, tokens = _on_database(settings, prepare, create=True, migrated=False)
    logger.info("demo data ready (%s rows added%s)", created, ", after a reset" if reset else "")
    click.echo(
        "Demo tokens (send `Authorization: Bearer <token>`; the same at every start of this "
        "database, new ones after --reset):"
    )
    for demo_token in tokens:
        shown = (
            "(revoked; `clubjustice demo --reset` makes new ones)"
            if demo_token.revoked
            else demo_token.token
        )
        click.echo(f"  {demo_token.identity.who:<52} {shown}")
    if settings.anonymous_reads:
        click.echo(
            "Anonymous public reads are on: a request without a token reads public fields as "
            "ANONYMOUS (no mutations). CLUBJUSTICE_ANONYMOUS_READS=false turns them off."
        )
    # GraphiQL opens with the member's token in its headers: in the demo only.
    # (The first organization's is the member's: DEMO_IDENTITIES in db/demo.py.)
    ide_token = next(
        (t.token for t in tokens if t.identity.role is Role.ORGANIZATION and not t.revoked),
        None,
    )
    _serve(settings, host, port, 1, migrate=False, demo_token=ide_token)


@main.group()
def token() -> None:
    """API tokens (shown once at creation, stored only as a hash)."""


@token.command("create")
@click.option("--role", type=click.Choice([r.value for r in TOKEN_ROLES]), required=True)
@click.option("--org", "org", metavar="SLUG", help="The organization (ORGANIZATION role only).")
@click.option("--label", help="A note on who holds it.")
def token_create(role: str, org: str | None, label: str | None) -> None:
    """Create a token and print it, alone, on stdout."""
    if (role == Role.ORGANIZATION.value) != (org is not None):
        raise click.UsageError("--org goes with --role ORGANIZATION, and only with it")

    async def create(engine: AsyncEngine) -> str:
        async with create_session_factory(engine)() as session, session.begin():
            organization_id = None
            if org is not None:
                organization_id = await session.scalar(
                    select(Organization.id).where(Organization.slug == org)
                )
                if organization_id is None:
                    raise click.ClickException(f"no organization with slug {org!r}")
            _, plain = await create_token(
                session, Role(role), organization_id=organization_id, label=label
            )
            return plain

    click.echo(_on_database(_settings(), create))


@token.command("list")
def token_list() -> None:
    """Tokens by id: role, organization, label, created, revoked."""

    async def rows(engine: AsyncEngine) -> list[tuple[ApiToken, str | None]]:
        async with create_session_factory(engine)() as session:
            return await list_tokens(session)

    for api_token, slug in _on_database(_settings(), rows):
        revoked = api_token.revoked_at.isoformat() if api_token.revoked_at else "-"
        click.echo(
            f"{api_token.id}\t{api_token.role.value}\t{slug or '-'}\t{api_token.label or '-'}"
            f"\t{api_token.created_at.isoformat()}\t{revoked}"
        )


@token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke a token by its id (see `token list`); requests with it fail from now on."""

    async def revoke(engine: AsyncEngine) -> bool:
        async with create_session_factory(engine)() as session, session.begin():
            return await revoke_token(session, token_id)

    if not _on_database(_settings(), revoke):
        raise click.ClickException(f"no unrevoked token with id {token_id}")
    logger.info("token %s revoked", token_id)


@main.group()
def schema() -> None:
    """The GraphQL schema."""


@schema.command("export")
def schema_export() -> None:
    """Print the subgraph SDL (what `schema.graphql` holds)."""
    _settings()
    from schema.root import build_schema

    sys.stdout.write(build_schema().as_str() + "\n")


if __name__ == "__main__":
    main()
