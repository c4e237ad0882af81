"""Reconciliation: casework's recoveries against the movement's cash line, and write-offs
on one side only (docs/casework-rules.md, "Reconciliation")."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from npldesk.analytics import Analytics, connect
from npldesk.casework.models import Case, Recovery, WriteOff
from npldesk.casework.reconcile import (
    AFTER_WRITE_OFF,
    ON_BOOK,
    TRANSFER_PROCEEDS,
    household_cash,
    reconcile,
)
from npldesk.casework.selectors import system_actor
from npldesk.casework.services import units_sync
from npldesk.casework.sync import cases_sync, loans_for_sync
from npldesk.core.errors import UsageError
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.org import import_org
from npldesk.tape.store import Store
from tests.casework.factories import PersonFactory
from tests.tape_factory import ORG_ROWS, loan_row, write_csv, write_org

DEC, JAN = date(2019, 12, 31), date(2020, 1, 31)


def npl(n: int, as_of: date, balance: str, **overrides: Any) -> dict[str, str]:
    values: dict[str, Any] = {
        "principal_balance": balance,
        "days_past_due": 120 if as_of == DEC else 150,
        "overdue_principal": balance,
        "reported_class": "substandard",
    }
    return loan_row(n, as_of, **(values | overrides))


@pytest.fixture
def session(tmp_path: Path) -> Analytics:
    """December: five NPL households. January: B1 pays 10,000; B2 written off; B3 repaid;
    B4 transferred for 15,000 of its 20,000; B5 written off without an approval."""
    rows = [
        npl(1, DEC, "80000.00"),
        npl(2, DEC, "50000.00"),
        npl(3, DEC, "30000.00"),
        npl(4, DEC, "20000.00"),
        npl(5, DEC, "10000.00"),
        npl(1, JAN, "70000.00"),
        npl(2, JAN, "0.00", status="written_off", exit_amount="50000.00"),
        npl(3, JAN, "0.00", status="repaid", days_past_due=0, overdue_principal="0.00"),
        npl(4, JAN, "0.00", status="transferred", exit_amount="15000.00"),
        npl(5, JAN, "0.00", status="written_off", exit_amount="10000.00"),
    ]
    store = Store(tmp_path / "store")
    import_org(store, write_org(tmp_path / "org_units.csv"))
    import_files(store, [write_csv(tmp_path / "tape.csv", rows)], ImportOptions())
    return Analytics(store=store, engine=connect("duckdb"))


def _recover(case: Case, amount: str, *, source: str = "borrower", after: bool = False) -> None:
    Recovery(
        case=case,
        loan_id=case.loans.first().loan_id,
        received_on=date(2020, 1, 15),
        amount=Decimal(amount),
        principal_part=Decimal(amount),
        source=source,
        after_write_off=after,
        entered_by=case.owner or PersonFactory(),
        entered_at=timezone.now(),
    ).save(force_insert=True)


def _approved(case: Case, loan_id: str, principal: str) -> None:
    WriteOff.objects.create(
        case=case,
        loan_id=loan_id,
        principal=Decimal(principal),
        reason="test",
        state="approved",
        prepared_by=PersonFactory(roles=["finance"]),
        prepared_on=date(2020, 1, 2),
        approved_on=date(2020, 1, 10),
    )


@pytest.mark.django_db
def test_recoveries_against_the_cash_line_and_write_offs_on_one_side(session: Analytics):
    units_sync(
        actor=system_actor(),
        org_units=[
            {"code": r["code"], "name": r["name"], "parent": r["parent_code"] or None}
            for r in ORG_ROWS
        ],
    )
    cases_sync(actor=system_actor(), as_of=DEC, loans=loans_for_sync(None, DEC, session=session))
    cases = {c.household.borrower_id: c for c in Case.objects.select_related("household")}
    _recover(cases["B000001"], "10000.00")
    _recover(cases["B000003"], "25000.00")
    _recover(cases["B000002"], "1000.00", after=True)
    _recover(cases["B000004"], "15000.00", source="transfer_proceeds")
    _approved(cases["B000002"], "L000002", "50000.00")
    _approved(cases["B000001"], "L000001", "70000.00")

    assert household_cash(session, JAN) == {
        "B000001": Decimal("10000.00"),
        "B000003": Decimal("30000.00"),
        "B000004": Decimal("5000.00"),
    }
    result = reconcile(session, JAN)
    lines = {(r.borrower_id, r.line): r for r in result.rows}
    assert lines[("B000001", ON_BOOK)].difference == Decimal("0.00")
    assert lines[("B000003", ON_BOOK)].difference == Decimal("-5000.00")
    assert lines[("B000003", ON_BOOK)].cases == "B000003-1"
    # The transferred loan's cash part (20,000 less the 15,000 price) has no casework entry;
    # the proceeds are listed on their own line, not matched.
    assert lines[("B000004", ON_BOOK)].difference == Decimal("-5000.00")
    assert lines[("B000004", TRANSFER_PROCEEDS)].casework == Decimal("15000.00")
    assert lines[("B000004", TRANSFER_PROCEEDS)].difference is None
    assert lines[("B000002", AFTER_WRITE_OFF)].casework == Decimal("1000.00")
    assert lines[("B000002", ON_BOOK)].casework == Decimal("0.00")
    assert [r.borrower_id for r in result.differences()] == ["B000003", "B000004"]
    totals = result.totals()
    assert totals["casework_on_book"] == Decimal("35000.00")
    assert totals["tape_cash"] == Decimal("45000.00")
    assert totals["difference"] == Decimal("-10000.00")
    assert [w.loan_id for w in result.approvals_not_in_tape] == ["L000001"]
    assert [w.loan_id for w in result.tape_writeoffs_without_approval] == ["L000005"]
    assert result.tape_writeoffs_without_approval[0].principal == Decimal("10000.00")
    assert result.tape_writeoffs_without_approval[0].case == "B000005-1"
    document = result.as_dict()
    assert document["totals"]["difference"] == "-10000.00"


@pytest.mark.django_db
def test_reconciling_needs_the_month_and_the_one_before(session: Analytics):
    with pytest.raises(UsageError, match="2019-11, which is not imported"):
        reconcile(session, DEC)
    with pytest.raises(UsageError, match="2020-02 is not imported"):
        reconcile(session, date(2020, 2, 29))


class WideDecimals:
    """A session whose engine hands back money at a wider scale than the fen (as an engine
    does for a sum of DECIMAL(38,12) values): ``0E-12`` for nothing, ``586.940000000000``."""

    def __init__(self, session: Analytics) -> None:
        self._session = session

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    def rows(self, expression: Any) -> list[dict[str, Any]]:
        widen = Decimal("0E-12")
        return [
            {k: v + widen if isinstance(v, Decimal) else v for k, v in row.items()}
            for row in self._session.rows(expression)
        ]


@pytest.mark.django_db
def test_amounts_are_in_fen_and_a_zero_difference_is_no_difference(session: Analytics):
    units_sync(
        actor=system_actor(),
        org_units=[
            {"code": r["code"], "name": r["name"], "parent": r["parent_code"] or None}
            for r in ORG_ROWS
        ],
    )
    cases_sync(actor=system_actor(), as_of=DEC, loans=loans_for_sync(None, DEC, session=session))
    cases = {c.household.borrower_id: c for c in Case.objects.select_related("household")}
    _recover(cases["B000001"], "10000.00")
    _recover(cases["B000003"], "30000.00")
    _recover(cases["B000004"], "4000.00")
    wide = WideDecimals(session)

    cash = household_cash(wide, JAN)
    assert {k: str(v) for k, v in cash.items()} == {
        "B000001": "10000.00",
        "B000003": "30000.00",
        "B000004": "5000.00",
    }
    result = reconcile(wide, JAN)
    document = result.as_dict()
    on_book = {r["borrower_id"]: r for r in document["rows"] if r["line"] == ON_BOOK}
    assert on_book["B000001"] == {
        "borrower_id": "B000001",
        "cases": "B000001-1",
        "line": ON_BOOK,
        "casework": "10000.00",
        "tape_cash": "10000.00",
        "difference": "0.00",
    }
    assert on_book["B000003"]["difference"] == "0.00"
    assert on_book["B000004"]["difference"] == "-1000.00"
    assert [r.borrower_id for r in result.differences()] == ["B000004"]
    assert document["totals"] == {
        "casework_on_book": "44000.00",
        "tape_cash": "45000.00",
        "difference": "-1000.00",
        "transfer_proceeds": "0.00",
        "after_write_off": "0.00",
    }
    assert [str(w.principal) for w in result.tape_writeoffs_without_approval] == [
        "50000.00",
        "10000.00",
    ]
