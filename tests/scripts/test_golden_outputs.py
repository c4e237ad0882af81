"""``scripts/golden_outputs.py``: the demo home's JSON and CSV outputs (and the cells of the
lists' workbooks) are those recorded in ``scripts/golden_outputs.json``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, clean_environment

SCRIPT = REPO / "scripts" / "golden_outputs.py"


def test_the_demo_homes_outputs_match_the_record(demo_home: Path):
    checked = subprocess.run(
        [sys.executable, str(SCRIPT), "check", "--home", str(demo_home)],
        capture_output=True,
        text=True,
        env=clean_environment(),
        timeout=900,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("all ")


def test_a_changed_output_is_named(tmp_path: Path):
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import golden_outputs
    finally:
        sys.path.remove(str(SCRIPT.parent))
    recorded = {"quality": "a" * 64, "movement-month": "b" * 64, "gone": "c" * 64}
    found = {"quality": "a" * 64, "movement-month": "d" * 64, "new": "e" * 64}
    assert golden_outputs.compare(found, recorded) == [
        "gone: recorded but no longer produced",
        f"movement-month: differs (sha256 {'d' * 64} != {'b' * 64})",
        "new: not in the record",
    ]
