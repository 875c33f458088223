"""What the browser tests need: Node.js, playwright-core and Chromium, or a skip saying which
is missing."""

import os
import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).parent
NODE = shutil.which("node")
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture
def browser() -> str:
    """Node.js, playwright-core and Chromium, or a skip saying which is missing."""
    if NODE is None:
        pytest.skip("Node.js is not installed (the browser programs run on it)")
    if not (HERE / "node_modules" / "playwright-core").is_dir():
        pytest.skip("playwright-core not installed (scripts/bootstrap --node installs it)")
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    return NODE
