"""Parsing mappings: every mistake in a mapping's YAML is a ``UsageError`` naming it, whatever
kind of value stands where another was expected (the fuzz suite found these as tracebacks)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from npldesk.core.errors import UsageError
from npldesk.tape.mapping import parse_mapping
from npldesk.tape.schema import COLUMN_NAMES


def mapping_text(columns: dict[str, Any] | None = None, **top: Any) -> str:
    mapping: dict[str, Any] = {"mapping": 1, "columns": {c: c for c in COLUMN_NAMES}}
    mapping["columns"].update(columns or {})
    mapping.update(top)
    return yaml.safe_dump(mapping, allow_unicode=True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (mapping_text({"principal_balance": {"from": "b", "number": [","]}}), "`number` must be"),
        (mapping_text({"product": {"from": "p", "map": ["a", "b"]}}), "`map` must be"),
        (mapping_text({"product": {"from": "p", "map": {"a": ["b"]}}}), "a `map` value must be"),
        (mapping_text({"as_of": {"from": "d", "date": {"f": 1}}}), "`date` must be a text"),
        (mapping_text({"loan_id": {"from": {"a": 1}}}), "`from` must be a text"),
        (mapping_text({"loan_id": {"value": [1]}}), "`value` must be a text"),
        (mapping_text({"loan_id": {"from": "l", "default": {}}}), "`default` must be a text"),
        (mapping_text({"as_of": {"from": "d", "month_end": "no"}}), "true or false"),
        (
            mapping_text({"principal_balance": {"from": "b", "number": {"units": "fen"}}}),
            "unknown key",
        ),
        (
            mapping_text({"principal_balance": {"from": "b", "number": {"decimal": ""}}}),
            "decimal mark",
        ),
        (mapping_text(source={"skip_rows": "two"}), "skip_rows must be a whole number"),
        (mapping_text(source={"skip_rows": -1}), "skip_rows must be a whole number"),
        (mapping_text(source={"header": "false", "names": ["a"]}), "true or false"),
        (mapping_text(source={"null_values": {"a": 1}}), "`null_values` must be"),
        (mapping_text(source={"delimiter": ""}), "must be one character"),
        (mapping_text(source={"delimiter": "||"}), "must be one character"),
        (mapping_text(source={"delimiter": '"'}), "must be one character"),
        (mapping_text(source={"encoding": ["utf-8"]}), "`encoding` must be a text"),
        (mapping_text(joins=5), "`joins` must be a list"),
        (mapping_text(joins=[{"name": "c", "path": "c.csv", "on": None}]), "`on` must be"),
        (mapping_text(joins=[{"name": "c", "path": "c.csv", "on": {"left": "a"}}]), "`right`"),
        (mapping_text(joins=[{"name": "c", "path": ["x"], "on": "k"}]), "`path` must be"),
        ("columns:\n  as_of: {value: 2019-13-01}\n", "not valid YAML"),
    ],
)
def test_a_value_of_the_wrong_kind_is_a_usage_error(text: str, message: str):
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        parse_mapping(text)


def test_yaml_dates_and_numbers_read_as_their_text():
    parsed = parse_mapping(
        mapping_text(
            {
                "as_of": {"value": "2019-12-31"},
                "days_past_due": {"from": "days_past_due", "default": 0},
                "product": {"from": "product", "map": {1: "consumer", "2": "mortgage"}},
            },
            source={"sheet": 2019},
        ).replace("'2019-12-31'", "2019-12-31")
    )
    assert parsed.columns["as_of"].constant == "2019-12-31"
    assert parsed.columns["days_past_due"].default == "0"
    assert parsed.columns["product"].value_map == {"1": "consumer", "2": "mortgage"}
    assert parsed.source.sheet == "2019"
