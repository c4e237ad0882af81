"""Books generated once per test session and helpers to read them back."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from npldesk.synth import SynthResult, generate

SEED = 20191231
SMALL_BOOK = 2_000
MONTHS = 24


def read_rows(path: Path, encoding: str = "utf-8") -> tuple[list[str], list[dict[str, str]]]:
    """A CSV file's header and rows as dicts of strings."""
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


@pytest.fixture(scope="session")
def canonical_book(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    """2,000 opening loans over 24 months, canonical CSV, the default seed."""
    return generate(
        tmp_path_factory.mktemp("canonical"), loans=SMALL_BOOK, months=MONTHS, seed=SEED
    )


@pytest.fixture(scope="session")
def canonical_months(canonical_book: SynthResult) -> list[list[dict[str, str]]]:
    """The rows of every month of ``canonical_book``, in month order."""
    return [read_rows(path)[1] for path in canonical_book.tape_files]


@pytest.fixture(scope="session")
def cn_core_book(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    """The same book as ``canonical_book`` in the cn-core layout."""
    return generate(
        tmp_path_factory.mktemp("cn-core"),
        layout="cn-core",
        loans=SMALL_BOOK,
        months=MONTHS,
        seed=SEED,
    )
