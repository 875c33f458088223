"""`clubjustice demo` replayed: the same tokens at every start of one demo database (and
only its own: each demo database has its own secret), revocation respected, and --reset for
fresh data and fresh tokens. On SQLite, and on PostgreSQL when it is configured."""

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import POSTGRES_SKIP_REASON, POSTGRES_URL
from tests.e2e.demo import DemoServer, demo
from tests.e2e.postgres import scratch_database
from tests.e2e.servers import clubjustice

pytestmark = pytest.mark.e2e

VIEWER = "{ viewer { role organization { slug } } }"
VIEWERS = {
    "ADMIN": {"role": "ADMIN", "organization": None},
    "member": {"role": "ORGANIZATION", "organization": {"slug": "moldova-legal-empowerment"}},
    "guest": {"role": "ORGANIZATION", "organization": {"slug": "chisinau-law-clinic"}},
    "PARTNER": {"role": "PARTNER", "organization": None},
}
HEADING = (
    "Demo tokens (send `Authorization: Bearer <token>`; the same at every start of this "
    "database, new ones after --reset):"
)


def graphiql_headers(server: DemoServer) -> object:
    """The headers GraphiQL's page opens with (server/pages.py)."""
    page = httpx.get(f"{server.base}/graphql", headers={"accept": "text/html"}).text
    return json.loads(page.split('id="ide-config">')[1].split("</script>")[0])["headers"]


def viewers(server: DemoServer, tokens: dict[str, str]) -> dict[str, object]:
    """What each token is to the server: its viewer, or the HTTP status of a refusal."""
    answers: dict[str, object] = {}
    for who, token in tokens.items():
        response = httpx.post(
            f"{server.base}/graphql",
            json={"query": VIEWER},
            headers={"authorization": f"Bearer {token}"},
        )
        answers[who] = (
            response.json()["data"]["viewer"] if response.is_success else response.status_code
        )
    return answers


def cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return clubjustice(*args, cwd=cwd, timeout=120, env=env)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param(
            "postgresql",
            id="postgresql",
            marks=pytest.mark.skipif(POSTGRES_URL is None, reason=POSTGRES_SKIP_REASON),
        ),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'demo.db'}"
    else:
        with scratch_database("demo") as url:
            yield url


def test_demo_tokens_are_stable_and_reset_makes_new_ones(tmp_path: Path, database_url: str) -> None:
    env = {"CLUBJUSTICE_DATABASE_URL": database_url}
    with demo(tmp_path, **env) as first:
        assert first.heading == HEADING
        assert viewers(first, first.tokens) == VIEWERS
        # GraphiQL opens with the member's token (`clubjustice serve` never passes one).
        member = json.dumps({"Authorization": f"Bearer {first.tokens['member']}"})
        assert graphiql_headers(first) == member
        # A change the demo's reset must undo: a token made by hand.
        extra = cli(tmp_path, "token", "create", "--role", "PARTNER", "--label", "mine", **env)
        assert extra.returncode == 0
    with demo(tmp_path, **env) as second:
        assert second.tokens == first.tokens  # printed again, the same
        assert viewers(second, first.tokens) == VIEWERS  # and not revoked
    listed = cli(tmp_path, "token", "list", **env).stdout.splitlines()
    assert [line.split("\t")[3] for line in listed] == [
        "demo: ADMIN (the secretariat)",
        "demo: member: Moldova Legal Empowerment Network",
        "demo: guest: Chisinau Law School Legal Clinic",
        "demo: PARTNER (read-only, public fields)",
        "mine",
    ]
    with demo(tmp_path, "--reset", **env) as fresh:
        assert set(fresh.tokens) == set(first.tokens)
        assert all(fresh.tokens[who] != first.tokens[who] for who in first.tokens)
        assert viewers(fresh, fresh.tokens) == VIEWERS
        assert viewers(fresh, first.tokens) == dict.fromkeys(first.tokens, 401)
    listed = cli(tmp_path, "token", "list", **env).stdout.splitlines()
    assert len(listed) == 4  # the hand-made token went with the old data


ANONYMOUS_READS_ON = (
    "Anonymous public reads are on: a request without a token reads public fields as "
    "ANONYMOUS (no mutations). CLUBJUSTICE_ANONYMOUS_READS=false turns them off."
)


def test_the_demo_turns_anonymous_reads_on_unless_told_otherwise(tmp_path: Path) -> None:
    env = {"CLUBJUSTICE_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
    query = {"query": "{ viewer { role } }"}
    with demo(tmp_path, **env) as server:
        assert server.after == ANONYMOUS_READS_ON
        response = httpx.post(f"{server.base}/graphql", json=query)
        assert response.json() == {"data": {"viewer": {"role": "ANONYMOUS"}}}
    with demo(tmp_path, CLUBJUSTICE_ANONYMOUS_READS="false", **env) as server:
        assert httpx.post(f"{server.base}/graphql", json=query).status_code == 401


def test_a_demo_token_revoked_by_its_operator_stays_revoked(tmp_path: Path) -> None:
    env = {"CLUBJUSTICE_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
    with demo(tmp_path, **env) as first:
        pass
    assert cli(tmp_path, "token", "revoke", "4", **env).returncode == 0  # the partner's
    with demo(tmp_path, **env) as second:
        assert second.tokens == {
            **first.tokens,
            "PARTNER": "(revoked; `clubjustice demo --reset` makes new ones)",
        }
        assert viewers(second, first.tokens) == {**VIEWERS, "PARTNER": 401}


def test_the_demo_refuses_a_database_it_did_not_make(tmp_path: Path) -> None:
    env = {"CLUBJUSTICE_DATABASE_URL": f"sqlite:///{tmp_path / 'club.db'}"}
    assert cli(tmp_path, "db", "upgrade", **env).returncode == 0
    assert cli(tmp_path, "seed", **env).returncode == 0
    assert cli(tmp_path, "token", "create", "--role", "ADMIN", **env).returncode == 0
    # A hand-made token whose label looks like the demo's does not make it the demo's.
    labelled = cli(tmp_path, "token", "create", "--role", "PARTNER", "--label", "demo: x", **env)
    assert labelled.returncode == 0
    for arguments in (["--reset"], []):
        refused = cli(tmp_path, "demo", *arguments, **env)
        assert (refused.returncode, refused.stdout, refused.stderr) == (
            1,
            "",
            "Error: the demo runs on an empty database or one it made, and `clubjustice demo` "
            "did not create this one: point CLUBJUSTICE_DATABASE_URL at another database\n",
        )
        assert len(cli(tmp_path, "token", "list", **env).stdout.splitlines()) == 2  # untouched
