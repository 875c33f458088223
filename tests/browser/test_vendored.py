"""The browser code vendored into server/static/vendor (by scripts/vendor-web) is exactly what
the packages pinned by server/web/package-lock.json contain: MANIFEST.json names each file's
package, version, path and SHA-256; the committed files must match it, its versions must be
the lockfile's, and (when `npm ci` has installed them) the installed packages' files must
hash the same. A hand edit, or a version bump without re-running the script, fails here."""

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from server.pages import STATIC

VENDOR = STATIC / "vendor"
PACKAGES = Path(__file__).parents[2] / "server" / "web"
MANIFEST: dict[str, Any] = json.loads((VENDOR / "MANIFEST.json").read_text())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_vendored_files_are_those_of_the_manifest() -> None:
    committed = sorted(p.name for p in VENDOR.iterdir() if p.name != "MANIFEST.json")
    assert committed == sorted(MANIFEST)
    for name, entry in MANIFEST.items():
        assert sha256(VENDOR / name) == entry["sha256"], name


def test_the_manifest_s_versions_are_the_lockfile_s() -> None:
    lock = json.loads((PACKAGES / "package-lock.json").read_text())["packages"]
    declared = json.loads((PACKAGES / "package.json").read_text())["dependencies"]
    for name, entry in MANIFEST.items():
        assert entry["version"] == lock[f"node_modules/{entry['package']}"]["version"], name
        assert entry["version"] == declared[entry["package"]], name


def test_the_vendored_files_are_the_installed_packages_files() -> None:
    if not (PACKAGES / "node_modules").is_dir():
        pytest.skip("server/web's packages are not installed (scripts/bootstrap --node does it)")
    for name, entry in MANIFEST.items():
        package = PACKAGES / "node_modules" / entry["package"]
        assert json.loads((package / "package.json").read_text())["version"] == entry["version"]
        assert sha256(package / entry["path"]) == entry["sha256"], name
