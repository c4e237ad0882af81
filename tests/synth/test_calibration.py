"""The default huaibei book's size and growth are near the article's (within 25 %).

The NPL figures themselves depend on the full classification (probation, contagion, the bank's
grade): tests/cli/test_demo.py checks the calibrated headline through `npldesk demo`."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from npldesk.core.months import month_label
from npldesk.synth import PROFILES, generate

TOLERANCE = 0.25
NPL_CLASSES = ["substandard", "doubtful", "loss"]


def _figures(path: Path) -> tuple[Decimal, Decimal]:
    """On-book balance and NPL balance (dpd > 90 or reported substandard or worse)."""
    table = pq.read_table(
        path, columns=["status", "principal_balance", "days_past_due", "reported_class"]
    )
    on_book = table.filter(pc.equal(table["status"], "active"))
    npl = on_book.filter(
        pc.or_kleene(
            pc.greater(on_book["days_past_due"], 90),
            pc.is_in(on_book["reported_class"], value_set=pc.cast(NPL_CLASSES, "string")),
        )
    )
    balance = pc.sum(on_book["principal_balance"]).as_py()
    npl_balance = pc.sum(npl["principal_balance"]).as_py() or Decimal(0)
    return balance, npl_balance


def test_default_book_near_the_article(tmp_path: Path) -> None:
    profile = PROFILES["huaibei"]
    result = generate(tmp_path, file_format="parquet")
    files = {path.stem: path for path in result.tape_files}
    assert len(files) == 24
    seen = {}
    for target in profile.targets:
        balance, npl_balance = _figures(files[month_label(target.as_of)])
        seen[target.as_of] = balance
        assert float(balance) == pytest.approx(target.balance, rel=TOLERANCE), target
        # Loans over 90 days or graded NPL by the bank: the core of the NPL, always below
        # the classified figure (probation and contagion add to it).
        assert 0.5 * target.npl_balance < float(npl_balance) < target.npl_balance, target
    first, last = sorted(seen)
    growth = seen[last] / seen[first] - 1
    assert 0.15 < growth < 0.40, "the book grows by about a quarter over 2019"
    first_month = pq.read_metadata(result.tape_files[0]).num_rows
    assert first_month == profile.default_loans
