"""The planner's backtest on real public data: Fannie Mae's 2000 Q1 panel (216 months).

The panel goes through the shipped ``fannie-mae-legacy`` mapping into a store; every year end
from 2000-12 to 2017-12 is forecast from each month before it, on the days-past-due basis,
whose NPL (more than 90 days past due) is read again here from the raw pipe-delimited files
with plain Python: the actual year ends the backtest compares with are the files' own. The
coverage and error figures are printed (docs/planner.md quotes them).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from npldesk.analytics import Analytics, connect
from npldesk.analytics.forecast import backtest, backtest_summary
from npldesk.analytics.quality import format_ratio
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.mapping import load_mapping
from npldesk.tape.org import import_org
from npldesk.tape.store import Store
from tests.tape_factory import write_org

REPO = Path(__file__).resolve().parents[2]
FANNIE = REPO.parent / "shared" / "real-data" / "fannie-mae" / "2000q1"

# The store classifies 216 months (a minute or two on this machine) and touches no database.
pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def need_real_data() -> None:
    if not FANNIE.is_dir():
        pytest.skip(
            f"{FANNIE} is absent: the public data sets live beside the repository "
            "(shared/real-data), not in it, so these tests run only where that folder exists"
        )


def raw_year_end_ratios() -> dict[date, Decimal]:
    """Each December's share of the balance on the books more than 90 days past due
    (delinquency status 3 or more), the balance falling back to the original amount while the
    file leaves it blank; rows with a zero-balance code are off the books."""
    original = {}
    for line in (FANNIE / "Acquisition_2000Q1.txt").read_text(encoding="ascii").splitlines():
        fields = line.split("|")
        original[fields[0]] = fields[4]
    totals: dict[date, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for line in (FANNIE / "Performance_2000Q1-P.txt").read_text(encoding="ascii").splitlines():
        fields = [None if f in ("", "NULL") else f for f in line.split("|")]
        month, _, year = str(fields[1]).split("/")
        if int(month) != 12 or fields[12] is not None:
            continue
        as_of = date(int(year), 12, calendar.monthrange(int(year), 12)[1])
        balance = Decimal(fields[4] or original[str(fields[0])])
        totals[as_of][1] += balance
        if int(str(fields[10])) >= 3:
            totals[as_of][0] += balance
    return {as_of: npl / total for as_of, (npl, total) in totals.items() if total}


@pytest.fixture(scope="module")
def fannie(tmp_path_factory: pytest.TempPathFactory) -> Analytics:
    need_real_data()
    folder = tmp_path_factory.mktemp("fannie-forecast")
    store = Store(folder / "store")
    org = [{"code": "FNMA", "name": "Fannie Mae", "parent_code": "", "level": "root"}]
    import_org(store, write_org(folder / "org.csv", org))
    import_files(
        store,
        [FANNIE / "Performance_2000Q1-P.txt"],
        ImportOptions(mapping=load_mapping("fannie-mae-legacy")),
    )
    return Analytics(store=store, engine=connect("duckdb"))


def test_the_backtest_forecasts_every_year_end_and_compares_with_the_files(fannie: Analytics):
    points = backtest(fannie, basis="dpd", draws=300)
    months = fannie.months()
    assert months[0] == date(2000, 1, 31) and months[-1] == date(2017, 12, 31)
    # Every month but the first (no month before it) and the last December (its year end,
    # 2018-12, is not in the panel).
    assert [p.as_of for p in points] == months[1:-1]
    actual = raw_year_end_ratios()
    for point in points:
        assert format_ratio(point.actual) == format_ratio(actual[point.year_end]), point
        assert point.p10 is not None and point.p90 is not None and point.p10 <= point.p90
    summary = backtest_summary(points, 12)
    for row in summary:
        print(  # the figures docs/planner.md quotes (pytest -s shows them)
            f"fannie dpd backtest: {row['months_ahead']} months ahead, {row['forecasts']} "
            f"forecasts, MAE {row['mae_points']:.4f} points, coverage {row['coverage']:.4f}"
        )
    overall = summary[-1]
    assert overall["forecasts"] == len(points) == 214
    assert 0 <= overall["coverage"] <= 1
