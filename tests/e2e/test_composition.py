"""The committed subgraph SDL composes into an Apollo Federation supergraph next to an example
national-portal subgraph, using federation/compose.mjs (Node.js, @apollo/composition).

Needs `node` on PATH and the federation tooling installed: `npm ci --prefix federation`.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
FEDERATION_DIR = ROOT / "federation"
COMPOSE_SCRIPT = FEDERATION_DIR / "compose.mjs"
COMPOSITION_PACKAGE = FEDERATION_DIR / "node_modules" / "@apollo" / "composition"
CLUBJUSTICE_SDL = ROOT / "schema.graphql"
PORTAL_SDL = FEDERATION_DIR / "portal" / "schema.graphql"
NODE = shutil.which("node")
TIMEOUT_SECONDS = 120

# Redefines a Club Justice field with another type, without @shareable.
CONFLICTING_PORTAL_SDL = """\
extend schema @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key"])

type Query {
  localOrganizations: [Organization!]!
}

type Organization @key(fields: "id") {
  id: ID!
  name: Int!
}
"""


def compose(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Runs compose.mjs from the repository root with `args`, skipping if Node.js is missing."""
    if NODE is None:
        pytest.skip("Node.js is not installed (`node` is not on PATH)")
    if not COMPOSITION_PACKAGE.is_dir():
        pytest.skip("@apollo/composition is not installed: run `npm ci --prefix federation`")
    return subprocess.run(
        [NODE, str(COMPOSE_SCRIPT), *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


def type_definition(sdl: str, name: str) -> str:
    """The `type NAME ... { ... }` block of a printed schema."""
    match = re.search(rf"^type {name}\b.*?^\}}", sdl, re.MULTILINE | re.DOTALL)
    assert match, f"type {name} not found in the supergraph"
    return match.group()


def test_subgraph_composes_with_the_portal_subgraph(tmp_path: Path) -> None:
    supergraph_file = tmp_path / "supergraph.graphql"

    result = compose(
        "--out", supergraph_file, f"clubjustice={CLUBJUSTICE_SDL}", f"portal={PORTAL_SDL}"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "Composed 2 subgraph(s)" in result.stderr
    supergraph = supergraph_file.read_text()
    for graph in ("clubjustice", "portal"):
        url = f"http://localhost/{graph}"
        assert f'{graph.upper()} @join__graph(name: "{graph}", url: "{url}")' in supergraph

    organization = type_definition(supergraph, "Organization")
    assert '@join__type(graph: CLUBJUSTICE, key: "id")' in organization
    assert '@join__type(graph: PORTAL, key: "id")' in organization
    assert "contactEmail: String @join__field(graph: CLUBJUSTICE)" in organization
    assert "localCaseCount: Int! @join__field(graph: PORTAL)" in organization
    assert "localPrograms: [LocalProgram!]! @join__field(graph: PORTAL)" in organization

    query = type_definition(supergraph, "Query")
    assert "@join__type(graph: CLUBJUSTICE)" in query
    assert "@join__type(graph: PORTAL)" in query
    assert "localPrograms: [LocalProgram!]! @join__field(graph: PORTAL)" in query


def test_conflicting_subgraph_fails_composition(tmp_path: Path) -> None:
    conflicting_sdl = tmp_path / "portal.graphql"
    conflicting_sdl.write_text(CONFLICTING_PORTAL_SDL)

    result = compose(f"clubjustice={CLUBJUSTICE_SDL}", f"portal={conflicting_sdl}")

    assert result.returncode == 1
    assert result.stdout == ""
    assert "composition failed" in result.stderr
    assert '[INVALID_FIELD_SHARING] Non-shareable field "Organization.name"' in result.stderr
    assert '[FIELD_TYPE_MISMATCH] Type of field "Organization.name"' in result.stderr


def test_unreadable_subgraph_file_is_reported(tmp_path: Path) -> None:
    missing = tmp_path / "missing.graphql"

    result = compose(f"clubjustice={CLUBJUSTICE_SDL}", f"portal={missing}")

    assert result.returncode == 1
    assert result.stdout == ""
    assert f'cannot read subgraph "portal" from {missing}' in result.stderr
