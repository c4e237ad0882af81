"""`npldesk demo` builds the synthetic Huaibei branch and prints the article's headline:
2019-12 against 2018-12, NPL about 29.57 million yuan and 0.64 %, down about 1.15 million and
0.22 points, double reduction (amounts within 5 %, ratios within 0.02 points)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_demo_prints_the_calibrated_headline(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NPLDESK_", "DJANGO_"))}
    # Read in English (a home speaks Chinese by default; tests/cli/test_demo_serve.py reads it).
    env |= {"PYTHONPATH": str(REPO), "COLUMNS": "200", "NPLDESK_LANGUAGE": "en"}
    home = tmp_path / "demo"
    command = [sys.executable, "-c", "from npldesk.cli import main; main()"]
    result = subprocess.run(
        [*command, "demo", "--home", str(home), "--no-serve"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("2019-12 against 2018-12"))
    assert line.endswith(": double reduction")
    # The casework: demo users with their passwords shown once, and a summary after the headline.
    lines = result.stdout.splitlines()
    assert any("demo users (their passwords also in" in x for x in lines)
    assert any(x.startswith("│ demo-leader ") for x in lines)
    summary = next(n for n, x in enumerate(lines) if x.startswith("cases: "))
    assert summary > lines.index(line)
    assert re.search(r"\(\d+ open, \d+ closed\); recovered \d+\.\d\d million yuan", lines[summary])
    stages = lines[summary + 3]
    assert "legal stages" in stages and "Enforcement terminated, not fully recovered" in stages

    report = subprocess.run(
        [*command, "quality", "--as-of", "2019-12", "--home", str(home), "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert report.returncode == 0, report.stderr
    total = json.loads(report.stdout)["total"]
    npl = Decimal(total["npl_balance"])
    change = Decimal(total["npl_balance_change"])
    assert abs(npl - Decimal("29570000")) <= Decimal("29570000") * Decimal("0.05")
    assert abs(Decimal(total["npl_ratio"]) - Decimal("0.0064")) <= Decimal("0.0002")
    assert abs(change - Decimal("-1150000")) <= Decimal("1150000") * Decimal("0.05")
    assert abs(Decimal(total["npl_ratio_change"]) - Decimal("-0.0022")) <= Decimal("0.0002")
    assert total["double_reduction"] is True
    assert re.search(r"NPL balance 2\d\.\d\d million yuan", line)
