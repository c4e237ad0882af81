"""Cells that leave npldesk for a spreadsheet: text that a spreadsheet would run as a formula
is written with a leading apostrophe (design: reports, "Safe exports").

A borrower's name, an officer's note or a source file's name can start with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return; Excel, WPS and LibreOffice read such a CSV cell as a
formula (``=HYPERLINK(...)``, ``@SUM(...)``, DDE payloads). The apostrophe makes the cell plain
text and is not shown. A number written as text (``-1250.00``, a negative change) is left as it
is: a spreadsheet reads it as the number it is, and it runs nothing.
"""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(text: str) -> str:
    """``text`` as a spreadsheet may open it: a leading apostrophe if it could run as a
    formula, unchanged otherwise (numbers included)."""
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text
