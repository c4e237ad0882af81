"""A value the mapping's `map` leaves out: kept (`keep`), given the default only when the
mapping says `unmapped: default`, and with `unmapped: null` on a column with a default a row
problem, never silently the default (docs/mappings.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from npldesk.core.errors import UsageError
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.mapping import load_mapping
from npldesk.tape.store import Store
from tests.tape.conftest import import_rejected, problem_keys, stored_rows
from tests.tape.test_rules import BAD_ROW, DEC, canonical_mapping, tape_with_bad_row, write_mapping

TYPES = {"个人": "retail", "对公": "non_retail"}


def _options(tmp_path: Path, **rule: Any) -> ImportOptions:
    mapping = canonical_mapping(borrower_type={"from": "borrower_type", "map": TYPES, **rule})
    return ImportOptions(mapping=load_mapping(write_mapping(tmp_path / "m.yaml", mapping)))


def _tape(tmp_path: Path, bad: str) -> Path:
    """Every row's type in Chinese; the bad row's ``bad``, which the map does not know."""
    source = tape_with_bad_row(tmp_path, {"borrower_type": bad})
    text = source.read_text(encoding="utf-8").replace(",retail,", ",个人,")
    source.write_text(text, encoding="utf-8")
    return source


def _type_of_bad_row(store: Store) -> str:
    return next(r for r in stored_rows(store, DEC) if r["loan_id"] == "L000006")["borrower_type"]


def test_unmapped_null_with_a_default_reports_an_unknown_value(store: Store, tmp_path: Path):
    options = _options(tmp_path, unmapped="null", default="retail")
    error = import_rejected(store, [_tape(tmp_path, "个体户")], options)
    assert problem_keys(error) == {("tape.csv", BAD_ROW, "borrower_type", "map.unmapped")}
    (problem,) = error.problems
    assert problem.value == "个体户" and "unmapped: default" in problem.message


def test_unmapped_null_with_a_default_still_fills_empty_cells(store: Store, tmp_path: Path):
    options = _options(tmp_path, unmapped="null", default="non_retail")
    import_files(store, [_tape(tmp_path, "")], options)
    assert _type_of_bad_row(store) == "non_retail"


def test_the_canonical_default_counts_as_a_default(store: Store, tmp_path: Path):
    """borrower_type defaults to retail in the canonical tape: `null` alone reports too."""
    error = import_rejected(store, [_tape(tmp_path, "个体户")], _options(tmp_path, unmapped="null"))
    assert problem_keys(error) == {("tape.csv", BAD_ROW, "borrower_type", "map.unmapped")}


def test_unmapped_default_gives_an_unknown_value_the_default(store: Store, tmp_path: Path):
    options = _options(tmp_path, unmapped="default", default="non_retail")
    import_files(store, [_tape(tmp_path, "个体户")], options)
    assert _type_of_bad_row(store) == "non_retail"


def test_unmapped_keep_leaves_the_value_to_the_enumeration_check(store: Store, tmp_path: Path):
    error = import_rejected(store, [_tape(tmp_path, "个体户")], _options(tmp_path))
    assert problem_keys(error) == {("tape.csv", BAD_ROW, "borrower_type", "enum")}


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"map": {"是": "true"}, "unmapped": "null"},
            "says `unmapped: null` and has a default, so a value missing from `map`",
        ),
        ({"map": {"次级": "substandard"}, "unmapped": "default"}, "has no default"),
    ],
)
def test_mappings_that_cannot_say_what_an_unknown_value_becomes_are_refused(
    tmp_path: Path, rule: dict[str, Any], message: str
):
    column = "restructured" if rule["map"] == {"是": "true"} else "reported_class"
    mapping = canonical_mapping(**{column: {"from": column, **rule}})
    with pytest.raises(UsageError, match=message):
        load_mapping(write_mapping(tmp_path / "m.yaml", mapping))
