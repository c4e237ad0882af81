"""generate(): its result, its organisation file, determinism, progress and bad arguments."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from npldesk.core.errors import UsageError
from npldesk.synth import LAYOUTS, PROFILES, SynthResult, generate
from npldesk.synth.book import BLOCK_LOANS
from npldesk.synth.generator import block_sizes
from npldesk.tape.schema import ORG_COLUMNS
from tests.synth.conftest import read_rows


def _file_bytes(result: SynthResult) -> dict[str, bytes]:
    return {
        path.relative_to(result.out_dir).as_posix(): path.read_bytes()
        for path in sorted(result.out_dir.rglob("*"))
        if path.is_file()
    }


def test_result_describes_the_files(canonical_book: SynthResult) -> None:
    result = canonical_book
    assert result.org_file == result.out_dir / "org_units.csv"
    assert result.customer_file is None
    assert all(path.parent == result.out_dir / "tape" for path in result.tape_files)
    rows = [read_rows(path)[1] for path in result.tape_files]
    assert result.rows == sum(len(month) for month in rows)
    assert result.loans == len({row["loan_id"] for month in rows for row in month})
    assert result.households == len({row["borrower_id"] for month in rows for row in month})
    assert len(rows[0]) == 2_000  # ``loans`` is the book of the first month


def test_org_file(canonical_book: SynthResult) -> None:
    header, units = read_rows(canonical_book.org_file)
    assert header == list(ORG_COLUMNS)
    levels = [unit["level"] for unit in units]
    assert levels.count("city_branch") == 1
    assert levels.count("county_branch") == 5
    assert 20 <= levels.count("sub_branch") <= 30
    root = units[0]
    assert (root["code"], root["name"], root["parent_code"]) == ("HB00", "淮北分行", "")
    codes = {unit["code"] for unit in units}
    assert len(codes) == len(units)
    by_code = {unit["code"]: unit for unit in units}
    for unit in units[1:]:
        parent = by_code[unit["parent_code"]]
        expected = "city_branch" if unit["level"] == "county_branch" else "county_branch"
        assert parent["level"] == expected
    assert "濉溪县支行" in {unit["name"] for unit in units}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_same_seed_same_bytes(tmp_path: Path, layout: str) -> None:
    first = generate(tmp_path / "a", layout=layout, loans=400, months=3, seed=7)
    again = generate(tmp_path / "b", layout=layout, loans=400, months=3, seed=7)
    other = generate(tmp_path / "c", layout=layout, loans=400, months=3, seed=8)
    assert _file_bytes(first) == _file_bytes(again)
    first_tape = {k: v for k, v in _file_bytes(first).items() if k.startswith("tape/")}
    other_tape = {k: v for k, v in _file_bytes(other).items() if k.startswith("tape/")}
    assert first_tape.keys() == other_tape.keys()
    assert all(first_tape[name] != other_tape[name] for name in first_tape)


def test_parquet_is_deterministic_too(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", loans=300, months=2, file_format="parquet", seed=3)
    again = generate(tmp_path / "b", loans=300, months=2, file_format="parquet", seed=3)
    assert _file_bytes(first) == _file_bytes(again)


def test_start_month_and_months(tmp_path: Path) -> None:
    result = generate(tmp_path, loans=50, months=3, start=date(2019, 11, 5))
    assert [path.name for path in result.tape_files] == [
        "2019-11.csv",
        "2019-12.csv",
        "2020-01.csv",
    ]
    _, rows = read_rows(result.tape_files[-1])
    assert {row["as_of"] for row in rows} == {"2020-01-31"}


def test_progress_reports_every_step(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    generate(
        tmp_path, loans=100, months=4, progress=lambda done, total: calls.append((done, total))
    )
    assert calls[0] == (0, 4)
    assert calls[-1] == (4, 4)
    assert [done for done, _ in calls] == list(range(5))


def test_blocks_split_the_book_evenly() -> None:
    assert block_sizes(1) == [1]
    assert block_sizes(BLOCK_LOANS) == [BLOCK_LOANS]
    sizes = block_sizes(2 * BLOCK_LOANS + 1)
    assert sum(sizes) == 2 * BLOCK_LOANS + 1
    assert len(sizes) == 3
    assert max(sizes) - min(sizes) <= 1


def test_a_book_of_several_blocks_keeps_ids_unique(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("npldesk.synth.generator.BLOCK_LOANS", 150)
    result = generate(tmp_path, loans=400, months=2)
    for path in result.tape_files:
        _, rows = read_rows(path)
        assert len({row["loan_id"] for row in rows}) == len(rows)
    _, first = read_rows(result.tape_files[0])
    assert len(first) == 400
    blocks = {row["loan_id"][4:8] for row in first}
    assert blocks == {"0000", "0001", "0002"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"profile": "shanghai"}, "unknown profile 'shanghai'"),
        ({"layout": "sap"}, "unknown layout 'sap'"),
        ({"file_format": "json"}, "unknown file format 'json'"),
        ({"loans": 0}, "loans must be at least 1"),
        ({"months": 0}, "months must be at least 1"),
        ({"seed": -1}, "seed must not be negative"),
        ({"file_format": "xlsx", "loans": 1_000_000}, "xlsx sheet holds at most"),
    ],
)
def test_bad_arguments_are_usage_errors(
    tmp_path: Path, arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        generate(tmp_path / "out", **arguments)
    assert not (tmp_path / "out").exists(), "nothing is written before the arguments are checked"


def test_profiles_are_listed() -> None:
    assert "huaibei" in PROFILES
    assert LAYOUTS == ("canonical", "cn-core")
