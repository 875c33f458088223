"""docker-compose.yml and the Dockerfiles, checked without Docker (no engine runs here):
the file is valid by the Compose specification's JSON schema, it parses, every service it
names exists, ports and environment agree, the documented token command runs with the
`api` service's environment, and the images are built the way docs/federation.md says.
tests/e2e/test_federation.py runs the services' commands themselves."""

import hashlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from club.enums import Role
from db.engine import SessionFactory
from db.tokens import list_tokens
from tests.docs.blocks import blocks_of
from tests.docs.demo import run
from tests.e2e.servers import CLUBJUSTICE

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
SCHEMA = Path(__file__).with_name("schema") / "compose-spec.json"
CHECK_JSONSCHEMA = str(Path(sys.executable).with_name("check-jsonschema"))


def validate(compose_file: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema on a compose file, offline, with the vendored schema."""
    return subprocess.run(
        [CHECK_JSONSCHEMA, "--schemafile", str(SCHEMA), str(compose_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_file_follows_the_compose_specification() -> None:
    checked = validate(ROOT / "docker-compose.yml")
    assert (checked.returncode, checked.stdout) == (0, "ok -- validation done\n"), checked


def test_the_schema_refuses_what_compose_would_refuse(tmp_path: Path) -> None:
    """The control: a misspelt key and a wrong type, which YAML alone accepts."""
    broken = tmp_path / "docker-compose.yml"
    text = (ROOT / "docker-compose.yml").read_text()
    broken.write_text(
        text.replace("  gateway:\n    build:", "  gateway:\n    biuld:").replace(
            "      interval: 2s", "      interval: [2s]"
        )
    )
    checked = validate(broken)
    assert checked.returncode == 1, checked
    errors = sorted(line.strip() for line in checked.stdout.splitlines()[1:])
    assert errors == [
        f"{broken}::$.services.gateway: 'biuld' does not match any of the regexes: '^x-'",
        f"{broken}::$.services.postgres.healthcheck.interval: ['2s'] is not of type 'string'",
    ], checked.stdout


def test_the_vendored_schema_is_the_release_its_note_names() -> None:
    note = SCHEMA.with_name("README.md").read_text()
    digest = hashlib.sha256(SCHEMA.read_bytes()).hexdigest()
    assert f"sha256 `{digest}`" in note
    assert "release **v2.13.0**" in note


def test_no_top_level_name() -> None:
    # Debian's docker-compose 1.29 refuses a top-level `name:` (docs/federation.md).
    assert set(COMPOSE) == {"services", "volumes"}


def environment(service: str) -> dict[str, str]:
    return {key: str(value) for key, value in SERVICES[service].get("environment", {}).items()}


def healthcheck_url(service: str) -> str:
    test = " ".join(SERVICES[service]["healthcheck"]["test"])
    match = re.search(r"http://127\.0\.0\.1:\d+/\w+", test)
    assert match, test
    return match.group(0)


def test_the_services_are_there() -> None:
    assert set(SERVICES) == {"postgres", "redis", "migrate", "api", "portal", "gateway"}
    assert SERVICES["api"]["deploy"]["replicas"] == 2


def test_every_dependency_exists_and_can_be_waited_for() -> None:
    for name, service in SERVICES.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in SERVICES, f"{name} depends on unknown {dependency}"
            condition = rule["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in SERVICES[dependency], f"{dependency} has no healthcheck"
            else:
                assert condition == "service_completed_successfully"
                assert SERVICES[dependency].get("restart") == "no"
    assert SERVICES["api"]["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"},
        "redis": {"condition": "service_healthy"},
    }
    assert SERVICES["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_volumes_are_named_and_declared() -> None:
    used = {
        volume.split(":")[0]
        for service in SERVICES.values()
        for volume in service.get("volumes", [])
    }
    assert used == {"pgdata"}
    assert set(COMPOSE["volumes"]) == used


def test_the_database_url_matches_postgres() -> None:
    postgres = environment("postgres")
    for service in ("migrate", "api"):
        url = urlsplit(environment(service)["CLUBJUSTICE_DATABASE_URL"])
        assert (url.scheme, url.hostname, url.port) == ("postgresql", "postgres", 5432)
        assert (url.username, url.password, url.path) == (
            postgres["POSTGRES_USER"],
            postgres["POSTGRES_PASSWORD"],
            "/" + postgres["POSTGRES_DB"],
        )
    assert postgres["POSTGRES_USER"] in " ".join(SERVICES["postgres"]["healthcheck"]["test"])


def test_the_replicas_share_their_rate_limits_through_the_redis_service() -> None:
    url = urlsplit(environment("api")["CLUBJUSTICE_REDIS_URL"])
    assert (url.scheme, url.hostname, url.port, url.path) == ("redis", "redis", 6379, "/0")
    assert SERVICES["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    # The budgets are worth nothing after a restart: nothing is written to disk.
    assert SERVICES["redis"]["command"] == ["redis-server", "--save", "", "--appendonly", "no"]
    assert "volumes" not in SERVICES["redis"]


def test_ports_agree() -> None:
    api, portal, gateway = environment("api"), environment("portal"), environment("gateway")
    assert healthcheck_url("api") == f"http://127.0.0.1:{api['CLUBJUSTICE_PORT']}/readyz"
    assert healthcheck_url("portal") == f"http://127.0.0.1:{portal['PORT']}/healthz"
    assert gateway["CLUBJUSTICE_URL"] == f"http://api:{api['CLUBJUSTICE_PORT']}/graphql"
    assert gateway["PORTAL_URL"] == f"http://portal:{portal['PORT']}/graphql"
    assert SERVICES["gateway"]["ports"] == [f"{gateway['PORT']}:{gateway['PORT']}"]
    # Each api replica gets one port of the published range, on loopback only.
    [published] = SERVICES["api"]["ports"]
    match = re.fullmatch(r"127\.0\.0\.1:(\d+)-(\d+):(\d+)", published)
    assert match, published
    first, last, container = map(int, match.groups())
    assert last - first + 1 == SERVICES["api"]["deploy"]["replicas"]
    assert container == int(api["CLUBJUSTICE_PORT"])
    # Each service listens on all interfaces inside its container.
    assert api["CLUBJUSTICE_HOST"] == portal["HOST"] == gateway["HOST"] == "0.0.0.0"
    assert set(SERVICES["gateway"]["depends_on"]) == {"api", "portal"}


@pytest.mark.parametrize("service", ["migrate", "api", "portal", "gateway"])
def test_images_are_built_from_files_that_exist(service: str) -> None:
    build = SERVICES[service]["build"]
    context, dockerfile = (
        (build, "Dockerfile") if isinstance(build, str) else (build["context"], build["dockerfile"])
    )
    assert (ROOT / context / dockerfile).is_file()
    command = SERVICES[service]["command"]
    if command[0] in ("node", "sh"):
        assert (ROOT / "federation" / command[1]).is_file()  # the image's working directory
    else:
        assert command[0] == "clubjustice"


def _stages(dockerfile: Path) -> list[list[str]]:
    stages: list[list[str]] = []
    for line in dockerfile.read_text().splitlines():
        if line.startswith("FROM "):
            stages.append([])
        if stages and line and not line.startswith("#"):
            stages[-1].append(line)
    return stages


def test_the_service_image_is_slim_and_runs_unprivileged() -> None:
    build, final = _stages(ROOT / "Dockerfile")
    assert final[0].startswith("FROM python:3.11-slim")
    text = "\n".join(final)
    assert "USER clubjustice" in text and "useradd --system" in text
    # No compilers or package installs in the final image: it only copies the venv.
    assert not re.search(r"apt-get|gcc|build-essential|pip install", text)
    assert "COPY --from=build /opt/venv /opt/venv" in text
    assert 'CMD ["clubjustice", "serve"]' in text
    assert any("pip install" in line for line in build)


def test_the_federation_image_copies_what_exists() -> None:
    for line in (ROOT / "federation" / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            *sources, _ = line.split()[1:]
            for source in sources:
                assert (ROOT / source).exists(), source
    assert "USER node" in (ROOT / "federation" / "Dockerfile").read_text()


def documented_token_command() -> list[str]:
    """The `clubjustice …` part of docs/federation.md's `docker compose run` token command."""
    [block] = [
        block
        for block in blocks_of(ROOT / "docs" / "federation.md")
        if "docker compose run --rm api clubjustice token create" in block.text
    ]
    words = shlex.split(block.text)
    assert words[:5] == ["docker", "compose", "run", "--rm", "api"], words
    return words[5:]


async def test_the_documented_token_command_runs_with_the_api_environment(
    engine: AsyncEngine, session_factory: SessionFactory
) -> None:
    command = documented_token_command()
    assert command[0] == SERVICES["api"]["command"][0] == "clubjustice"
    environment = {key: str(value) for key, value in SERVICES["api"]["environment"].items()}
    environment["CLUBJUSTICE_DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
    created = await run(
        [CLUBJUSTICE, *command[1:]], env={**os.environ, **environment}, cwd=ROOT, time_limit=60
    )
    assert created.returncode == 0, created.stderr
    assert re.fullmatch(r"cj_[A-Za-z0-9_-]{43}\n", created.stdout), created.stdout
    async with session_factory() as session:
        [(token, organization)] = await list_tokens(session)
    assert (token.role, token.label, organization) == (Role.ADMIN, "compose admin", None)
