"""Mistakes and damage that once ended in a traceback: each is a clear message and exit code 2
(usage) or is repaired (a derived file lost from the store is computed again)."""

from __future__ import annotations

from pathlib import Path

import pytest

from npldesk.cli import run
from npldesk.home import load_home
from tests.cli.test_figures import make_home, tape


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out, captured.err


OUT_OF_RANGE = "out of range: months run from 1900-01 to 2199-12"


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("0000-01", OUT_OF_RANGE),
        ("9999-12", OUT_OF_RANGE),
        ("1899-12", OUT_OF_RANGE),
        ("0001-01-31", OUT_OF_RANGE),
        ("0000-01-31", "is not a date"),
    ],
)
def test_a_month_out_of_any_books_range_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], month: str, message: str
) -> None:
    home = make_home(tmp_path / "home", tape())
    code, _, err = _run(capsys, "quality", "--as-of", month, "--home", str(home))
    assert code == 2
    assert message in err


def test_quality_computes_a_deleted_derived_file_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = make_home(tmp_path / "home", tape())
    argv = ["quality", "--as-of", "2019-02", "--home", str(home), "--format", "json"]
    code, first, err = _run(capsys, *argv)
    assert code == 0, err
    derived = sorted((load_home(home).store_path / "derived").rglob("*.parquet"))
    assert derived
    for file in derived:  # the earliest month's files: every later month depends on them
        if file.parent == derived[0].parent:
            file.unlink()
    code, again, err = _run(capsys, *argv)
    assert code == 0, err
    assert again == first
    assert all(p.exists() for p in (load_home(home).store_path / "derived").rglob("*.parquet"))


def test_a_database_url_npldesk_cannot_use_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home = make_home(tmp_path / "home", tape())
    monkeypatch.setenv("NPLDESK_DATABASE_URL", "foo://someone:secret@bar/db")
    code, _, err = _run(capsys, "cases", "list", "--home", str(home))
    assert code == 2
    assert "NPLDESK_DATABASE_URL is foo://…" in err and "PostgreSQL" in err
    assert "secret" not in err


def test_synth_into_a_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "taken"
    target.write_text("keep me")
    code, _, err = _run(capsys, "synth", "--out", str(target), "--loans", "20", "--months", "1")
    assert code == 2
    assert "it is a file, not a folder" in err
    assert target.read_text() == "keep me"
