"""Classification rules at their boundaries (docs/figures.md §1), on DuckDB and on PySpark."""

from __future__ import annotations

from datetime import date

import pytest

from npldesk.analytics import Analytics
from npldesk.core.errors import UsageError
from npldesk.core.rules import RuleParams
from tests.analytics.conftest import month
from tests.tape_factory import loan_row

DEC = date(2019, 12, 31)


def classes(session: Analytics, as_of: date) -> dict[str, tuple[str | None, str | None]]:
    table = session.classified(as_of)
    rows = session.rows(table.select("loan_id", "final_class", "reasons"))
    return {r["loan_id"]: (r["final_class"], r["reasons"]) for r in rows}


def test_dpd_ladder_boundaries_and_floors(make_session):
    dpds = [0, 1, 90, 91, 270, 271, 360, 361]
    rows = [
        loan_row(
            n,
            DEC,
            days_past_due=dpd,
            reported_class="",
            overdue_principal="1.00" if dpd else "0.00",
        )
        for n, dpd in enumerate(dpds, 1)
    ]
    rows += [
        loan_row(11, DEC, credit_impaired="true", reported_class=""),
        # Restructured on 2018-12-31: observation (12 months) ends on 2019-12-31 itself.
        loan_row(12, DEC, restructured="true", restructure_date="2018-12-31", reported_class=""),
        loan_row(13, DEC, restructured="true", restructure_date="2019-01-01", reported_class=""),
        # The bank's grade is a floor it may worsen, never improve.
        loan_row(14, DEC, reported_class="doubtful"),
        loan_row(15, DEC, days_past_due=95, overdue_principal="1.00", reported_class="normal"),
    ]
    got = classes(make_session(rows), DEC)
    assert [got[f"L{n:06d}"][0] for n in range(1, 9)] == [
        "normal",
        "special_mention",
        "special_mention",
        "substandard",
        "substandard",
        "doubtful",
        "doubtful",
        "loss",
    ]
    assert got["L000004"][1] == "dpd>90" and got["L000008"][1] == "dpd>360"
    assert got["L000011"] == ("substandard", "impaired")
    assert got["L000012"] == ("normal", "")  # on the anniversary the loan is outside
    assert got["L000013"] == ("special_mention", "restructured")
    assert got["L000014"] == ("doubtful", "reported")
    assert got["L000015"] == ("substandard", "dpd>90")
    deviation = make_session(rows).classified(DEC)
    flagged = {
        r["loan_id"]
        for r in make_session(rows).rows(deviation.filter(deviation.deviation).select("loan_id"))
    }
    assert flagged == {"L000015"}


def test_non_retail_contagion_just_below_and_above_ten_percent(make_session):
    def borrower(prefix: str, npl_balance: str, other_balance: str, n: int) -> list[dict]:
        common = {"borrower_id": prefix, "borrower_type": "non_retail", "id_number": ""}
        return [
            loan_row(
                n,
                DEC,
                principal_balance=npl_balance,
                days_past_due=100,
                overdue_principal="1.00",
                reported_class="",
                **common,
            ),
            loan_row(n + 1, DEC, principal_balance=other_balance, reported_class="", **common),
        ]

    rows = (
        borrower("AT", "100.00", "900.00", 1)  # exactly 10 %: not more than 10 %
        + borrower("ABOVE", "100.01", "900.00", 3)  # 10.001 %
        + borrower("BELOW", "99.99", "900.01", 5)
        # A retail borrower is never pulled in.
        + [
            loan_row(
                7,
                DEC,
                borrower_id="R",
                principal_balance="500.00",
                days_past_due=100,
                overdue_principal="1.00",
                reported_class="",
            ),
            loan_row(8, DEC, borrower_id="R", principal_balance="100.00", reported_class=""),
        ]
    )
    got = classes(make_session(rows), DEC)
    assert got["L000002"] == ("special_mention", "contagion")
    assert got["L000004"] == ("substandard", "contagion")
    assert got["L000006"] == ("special_mention", "contagion")
    assert got["L000008"] == ("normal", "")


def _history(n: int, dpds: list[int | None], start: str = "2019-01", **extra) -> list[dict]:
    from npldesk.core.months import shift_month_end

    rows = []
    for offset, dpd in enumerate(dpds):
        if dpd is None:  # no row this month
            continue
        as_of = shift_month_end(month(start), offset)
        rows.append(
            loan_row(
                n,
                as_of,
                days_past_due=dpd,
                reported_class="",
                overdue_principal="1.00" if dpd else "0.00",
                **extra,
            )
        )
    return rows


def test_probation_completed_interrupted_and_broken_by_a_missing_month(make_session):
    rows = (
        _history(1, [95, 0, 0, 0, 0, 0, 0, 0])  # six clean months: released in month 7
        + _history(2, [95, 0, 0, 10, 0, 0, 0, 0])  # a late payment restarts the count
        + _history(3, [95, 0, 0, None, 0, 0, 0, 0])  # a month without a row breaks the run
        + _history(4, [0] * 8)  # keeps every month present
    )
    session = make_session(rows)
    months = session.months()
    assert len(months) == 8
    series = {
        loan: [classes(session, m).get(loan, (None, None))[0] for m in months]
        for loan in ("L000001", "L000002", "L000003")
    }
    sub, sm, normal = "substandard", "special_mention", "normal"
    assert series["L000001"] == [sub, sub, sub, sub, sub, sub, normal, normal]
    assert series["L000002"] == [sub, sub, sub, sub, sub, sub, sub, sub]
    assert series["L000003"] == [sub, sub, sub, None, sub, sub, sub, sub]
    assert classes(session, months[3])["L000002"] == (sub, "probation")
    assert sm not in series["L000002"]  # held at substandard even while 10 days late


def test_a_loan_back_after_an_exit_keeps_its_hard_npl_history(make_session):
    rows = _history(1, [95, 0, None, None, 0, 0, 0, 0, 0, 0, 0])
    # Month 3: a repaid row; month 4: no row; from month 5 on the books again.
    rows.insert(
        2,
        loan_row(1, month("2019-03"), status="repaid", principal_balance="0.00", reported_class=""),
    )
    rows += _history(2, [0] * 11)
    session = make_session(rows)
    months = session.months()
    got = [classes(session, m).get("L000001", (None, None))[0] for m in months]
    sub, normal = "substandard", "normal"
    assert got == [sub, sub, None, None, sub, sub, sub, sub, sub, normal, normal]


def test_probation_switched_off_upgrades_at_once(make_session):
    session = make_session(_history(1, [95, 0]), RuleParams(probation_months=0))
    assert classes(session, session.months()[1])["L000001"] == ("normal", "")


def test_contagion_pulled_loans_serve_probation(make_session):
    common = {"borrower_id": "CO", "borrower_type": "non_retail", "id_number": ""}
    rows = _history(1, [100, 0, 0], principal_balance="500.00", **common) + _history(
        2, [0, 0, 0], principal_balance="500.00", **common
    )
    session = make_session(rows)
    got = [classes(session, m)["L000002"] for m in session.months()]
    assert got == [
        ("substandard", "contagion"),
        ("substandard", "probation"),
        ("substandard", "probation"),
    ]


def test_eu_npe_rule_set(make_session):
    params = RuleParams(name="eu-npe", probation_months=3)
    rows = [
        loan_row(1, DEC, days_past_due=91, overdue_principal="1.00", reported_class=""),
        loan_row(2, DEC, days_past_due=90, overdue_principal="1.00", reported_class=""),
        # Pulling effect: more than 20 % of the debtor's exposure over 90 days.
        loan_row(
            3,
            DEC,
            borrower_id="P",
            principal_balance="201.00",
            days_past_due=120,
            overdue_principal="1.00",
            reported_class="",
        ),
        loan_row(4, DEC, borrower_id="P", principal_balance="799.00", reported_class=""),
        loan_row(
            5,
            DEC,
            borrower_id="Q",
            principal_balance="200.00",
            days_past_due=120,
            overdue_principal="1.00",
            reported_class="",
        ),
        loan_row(6, DEC, borrower_id="Q", principal_balance="800.00", reported_class=""),
        loan_row(7, DEC, reported_class="substandard"),
    ]
    got = classes(make_session(rows, params), DEC)
    assert {k: v[0] for k, v in got.items()} == {
        "L000001": "substandard",
        "L000002": "normal",
        "L000003": "substandard",
        "L000004": "substandard",
        "L000005": "substandard",
        "L000006": "normal",
        "L000007": "substandard",
    }
    assert got["L000004"][1] == "contagion"


def test_replacing_a_month_reclassifies_from_there_on(make_session, tmp_path):
    from npldesk.tape.importer import ImportOptions, import_files
    from tests.tape_factory import write_csv

    session = make_session(_history(1, [0, 0, 0]))
    months = session.months()
    assert classes(session, months[2])["L000001"][0] == "normal"
    replacement = write_csv(tmp_path / "feb.csv", _history(1, [None, 95]))
    import_files(session.store, [replacement], ImportOptions(replace=True))
    fresh = Analytics(store=session.store, engine=session.engine, params=session.params)
    assert [classes(fresh, m)["L000001"][0] for m in months] == [
        "normal",
        "substandard",
        "substandard",
    ]


def test_derived_files_hold_the_classification_only_and_read_back_whole(make_session):
    from npldesk.analytics.classify import CLASSIFIED_COLUMNS, DERIVED_COLUMNS, derived_key

    session = make_session(_history(1, [0, 95]) + _history(2, [0, 0]))
    months = session.months()
    table = session.classified(months[-1])
    raw = session.engine.read_parquet([session.store.snapshot_path(months[-1])])
    assert table.columns == (*raw.columns, *CLASSIFIED_COLUMNS)
    row = session.rows(table.filter(table.loan_id == "L000001"))[0]
    assert row["borrower_name"] == "张三"  # from the raw snapshot, by the join
    assert row["final_class"] == "substandard"
    entries = session.store.derived(derived_key(session.params))
    for entry in entries.values():
        derived = session.engine.read_parquet([session.store.path / entry["files"]["classified"]])
        assert derived.columns == DERIVED_COLUMNS  # no personal column copied
        assert not {"borrower_name", "id_number", "phone"} & set(derived.columns)
    span = session.classified_span(months)
    assert span.columns == table.columns
    assert len(session.rows(span.select("loan_id", "as_of", "final_class"))) == 4


def test_figures_are_the_classified_snapshot_without_its_personal_columns(make_session):
    from npldesk.analytics.classify import FIGURE_COLUMNS

    session = make_session(
        _history(1, [0, 95, 0], org_unit="HB0102", product="mortgage")
        + _history(2, [0, 0, 31], borrower_id="Q", org_unit="HB0201", provision="40.00")
    )
    months = session.months()
    for as_of in months:
        figures = session.figures(as_of)
        assert figures.columns == FIGURE_COLUMNS
        assert not {"borrower_name", "id_number", "phone"} & set(figures.columns)
        classified = session.classified(as_of).select(*FIGURE_COLUMNS)
        assert _sorted_rows(session, figures) == _sorted_rows(session, classified)
    span = session.figures_span(months[1:])
    assert sorted({r["as_of"] for r in session.rows(span.select("as_of"))}) == months[1:]
    # Figures read the derived files alone: with the raw snapshots gone they still answer
    # (a table built on the join would fail to read them).
    for as_of in months:
        session.store.snapshot_path(as_of).rename(session.store.path / f"away-{as_of}.parquet")
    again = Analytics(store=session.store, engine=session.engine, params=session.params)
    row = session.rows(again.figures(months[1]).filter(lambda t: t.loan_id == "L000001"))[0]
    assert (row["final_class"], row["org_unit"], row["product"]) == (
        "substandard",
        "HB0102",
        "mortgage",
    )


def _sorted_rows(session, table):
    return sorted(session.rows(table), key=lambda r: (r["as_of"], r["loan_id"]))


def test_derived_files_of_an_earlier_layout_are_dropped_and_reclassified(make_session):
    import json

    from npldesk.analytics.classify import DERIVED_LAYOUT, derived_key

    session = make_session(_history(1, [95, 0, 0]))
    months = session.months()
    expected = [classes(session, m)["L000001"] for m in months]
    store = session.store
    key = derived_key(session.params)
    # What a store classified before the lean layout looks like: the same manifest entries
    # under the key without the layout version (classified-<rule set>-<fingerprint>).
    manifest = json.loads(store.manifest_path.read_text(encoding="utf-8"))
    old_key = key.replace(f"classified-{DERIVED_LAYOUT}-", "classified-")
    manifest["derived"][old_key] = manifest["derived"].pop(key)
    store.manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    old_entries = manifest["derived"][old_key].values()
    old_files = [store.path / e["files"]["classified"] for e in old_entries]
    assert all(f.exists() for f in old_files)

    fresh = Analytics(store=store, engine=session.engine, params=session.params)
    assert [classes(fresh, m)["L000001"] for m in months] == expected
    assert set(store.manifest().derived) == {key}
    assert not any(f.exists() for f in old_files)


def test_months_asked_one_after_another_each_read_their_own_rows(make_session):
    session = make_session(_history(1, [0, 95, 0]) + _history(2, [0, 0, 0]))
    first, second, third = session.months()
    early = session.classified(first)  # classifies the first month only
    assert sorted(
        session.rows(early.select("loan_id", "as_of", "final_class")),
        key=lambda r: r["loan_id"],
    ) == [
        {"loan_id": "L000001", "as_of": first, "final_class": "normal"},
        {"loan_id": "L000002", "as_of": first, "final_class": "normal"},
    ]
    late = session.classified(third)  # classifies the rest; the first table still holds
    assert {r["as_of"] for r in session.rows(early.select("as_of"))} == {first}
    assert {(r["loan_id"], r["final_class"]) for r in session.rows(late)} == {
        ("L000001", "substandard"),  # held in probation after February's 95 days
        ("L000002", "normal"),
    }
    span = session.classified_span([first, third])
    assert sorted({r["as_of"] for r in session.rows(span.select("as_of"))}) == [first, third]
    assert len(session.rows(span.select("loan_id"))) == 4
    assert session.classified(second) is session.classified(second)
    with pytest.raises(UsageError, match="month 2019-06 is not imported"):
        session.classified_span([first, date(2019, 6, 30)])
