"""The one direction of imports (docs/architecture.md), checked by import-linter's contracts
in pyproject.toml: layers (server → schema → resolvers → db → club), no cycle between the
modules of a package, and a pure bottom package."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_imports_run_one_way() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
