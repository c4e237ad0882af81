"""``npldesk list … --unit CODE`` on the demo home: exactly the loans of the unit and the units
below it, and the largest households ranked within the unit."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from npldesk.cli import run

MONTH = "2019-12"


def listed(demo_home: Path, *argv: str) -> list[dict[str, Any]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = run(["list", *argv, "--as-of", MONTH, "--format", "json", "--home", str(demo_home)])
    assert code == 0
    rows: list[dict[str, Any]] = json.loads(out.getvalue())["rows"]
    return rows


@pytest.mark.parametrize("name", ["new-npl", "early-warning"])
@pytest.mark.parametrize("unit", ["HB04", "HB0404", "HB00"])
def test_a_unit_lists_its_own_loans_and_those_below(demo_home: Path, name: str, unit: str):
    everything = listed(demo_home, name)
    # The demo's unit codes extend their parent's code (HB04 → HB0404); HB00 is the bank.
    expected = [row for row in everything if unit == "HB00" or row["org_unit"].startswith(unit)]
    assert listed(demo_home, name, "--unit", unit) == expected
    assert expected or unit == "HB0404"


def test_the_largest_households_are_ranked_within_the_unit(demo_home: Path):
    rows = listed(demo_home, "top-npl", "--unit", "HB01", "--limit", "3")
    assert rows and all(row["org_unit"].startswith("HB01") for row in rows)
    assert {row["household_rank"] for row in rows} == {1, 2, 3}


def test_an_unknown_unit_is_refused(demo_home: Path, capsys: pytest.CaptureFixture[str]):
    argv = ["list", "new-npl", "--as-of", MONTH, "--unit", "XX9", "--home", str(demo_home)]
    assert run(argv) == 2
    assert "unknown unit 'XX9'" in capsys.readouterr().err
