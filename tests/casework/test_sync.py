"""The month-end sync: cases opened, updated and closed from the snapshot (casework.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from npldesk.casework.choices import CaseKind, CaseState, LegalStage
from npldesk.casework.errors import AccessDenied, InvalidAction
from npldesk.casework.models import AuditRecord, Case, CaseLoan, Household, LegalCase, SyncRun
from npldesk.casework.selectors import system_actor
from npldesk.casework.sync import cases_sync, loans_for_sync
from tests.casework.factories import PersonFactory, UserFactory

DEC, JAN, FEB, MAR = date(2019, 12, 31), date(2020, 1, 31), date(2020, 2, 29), date(2020, 3, 31)


def loan(
    borrower: str = "B1",
    number: int = 1,
    *,
    balance: str = "50000.00",
    dpd: int = 120,
    npl: bool = True,
    status: str = "active",
    unit: str = "HB0101",
    officer: str = "HB0101-01",
    collateral: str = "0.00",
) -> dict[str, Any]:
    return {
        "loan_id": f"L-{borrower}-{number}",
        "borrower_id": borrower,
        "borrower_name": f"Household {borrower}",
        "id_number": "340602198001010017",
        "phone": "13800000000",
        "borrower_type": "retail",
        "org_unit": unit,
        "officer_id": officer,
        "product": "consumer",
        "principal_balance": Decimal(balance),
        "days_past_due": dpd,
        "collateral_value": Decimal(collateral),
        "status": status,
        "final_class": "substandard" if npl else "special_mention",
        "is_npl": npl,
    }


def sync(as_of: date, loans: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    return cases_sync(actor=system_actor(), as_of=as_of, loans=loans, **kwargs)


def open_case(borrower: str) -> Case:
    return Case.objects.get(household__borrower_id=borrower, closed_on__isnull=True)


@pytest.mark.usefixtures("units")
def test_opens_one_case_per_npl_household_with_its_loans():
    counts = sync(
        DEC,
        [
            loan("B1", 1, balance="30000.00"),
            loan("B1", 2, balance="80000.00", npl=False, dpd=0, unit="HB0201"),
            loan("B2", 1, collateral="90000.00"),
            loan("B3", 1, npl=False, dpd=70),
        ],
    )
    assert counts["opened"] == 2
    assert counts["opened_early_warning"] == 0
    case = open_case("B1")
    assert case.number == "B1-1"
    assert case.kind == CaseKind.NPL
    assert case.state == CaseState.OPENED
    assert case.npl_balance == Decimal("30000.00")
    assert case.balance == Decimal("110000.00")
    assert case.synced_as_of == DEC
    assert case.opened_on == DEC
    assert case.deadline == date(2020, 3, 31)  # investigate first, short tier: 3 months
    assert case.owner is None
    # The household's unit is the unit of its largest loan.
    assert case.household.unit.code == "HB0201"
    assert case.unit.code == "HB0201"
    assert set(case.loans.values_list("loan_id", flat=True)) == {"L-B1-1", "L-B1-2"}
    assert not Case.objects.filter(household__borrower_id="B3").exists()
    assert AuditRecord.objects.filter(action="cases_sync", reason="opened").count() == 2
    assert AuditRecord.objects.filter(action="cases_sync_run").count() == 1


@pytest.mark.usefixtures("units")
def test_a_second_run_on_the_same_snapshot_changes_nothing():
    rows = [loan("B1"), loan("B2", npl=False, dpd=65), loan("B3", status="written_off")]
    rows.append(loan("B3", 2))
    first = sync(DEC, rows, early_warning=True)
    assert first["opened"] == 3
    audit_before = AuditRecord.objects.count()
    state = list(Case.objects.order_by("pk").values())
    loans_state = list(CaseLoan.objects.order_by("pk").values())
    households = list(Household.objects.order_by("pk").values())

    second = sync(DEC, rows, early_warning=True)

    assert second["opened"] == second["updated"] == second["closed_total"] == 0
    assert second["unchanged"] == 3
    assert AuditRecord.objects.count() == audit_before + 1
    assert AuditRecord.objects.latest("id").action == "cases_sync_run"
    assert SyncRun.objects.count() == 2
    assert list(Case.objects.order_by("pk").values()) == state
    assert list(CaseLoan.objects.order_by("pk").values()) == loans_state
    assert list(Household.objects.order_by("pk").values()) == households


@pytest.mark.usefixtures("units")
@pytest.mark.parametrize(
    ("later_rows", "reason"),
    [
        ([loan("B1", status="repaid", npl=False, balance="0.00")], "repaid"),
        ([loan("B1", status="transferred", npl=False)], "transferred"),
        ([loan("B1", status="foreclosed", npl=False)], "foreclosed"),
        ([loan("B1", npl=False, dpd=0)], "upgraded"),
        # No row at all, though the case last saw its loan on the books.
        ([], None),
    ],
)
def test_closes_with_the_derived_reason(later_rows: list[dict[str, Any]], reason: str | None):
    sync(DEC, [loan("B1")])
    counts = sync(JAN, later_rows)
    case = Case.objects.get(number="B1-1")
    if reason is None:
        # The household vanished while its loan was still on the books: left alone.
        assert case.is_open
        assert counts["unchanged"] == 1
        return
    assert counts["closed"] == {reason: 1}
    assert case.state == CaseState.RESOLVED
    assert case.closed_on == JAN
    assert case.close_reason == reason
    assert case.npl_balance == Decimal("0.00")
    record = AuditRecord.objects.get(action="cases_sync", case=case, reason__startswith="updated")
    assert f"closed ({reason})" in record.reason
    assert record.after["close_reason"] == reason


@pytest.mark.usefixtures("units")
def test_a_written_off_case_stays_open_for_recovery():
    sync(DEC, [loan("B1")])
    counts = sync(JAN, [loan("B1", status="written_off", npl=False)])
    assert counts["kept_open_for_recovery"] == 1
    case = open_case("B1")
    assert case.written_off
    assert case.loans.get().status == "written_off"
    # The loan is gone from later snapshots; the case stays open.
    counts = sync(FEB, [])
    assert counts["kept_open_for_recovery"] == 1
    assert open_case("B1").written_off


@pytest.mark.usefixtures("units")
def test_an_open_legal_case_keeps_the_case_open_until_it_closes():
    sync(DEC, [loan("B1")])
    case = open_case("B1")
    holder = PersonFactory(roles=["legal"])
    legal = LegalCase.objects.create(
        case=case, holder=holder, court="Court", claim_amount=Decimal("1"), stage_since=DEC
    )
    counts = sync(JAN, [loan("B1", status="repaid", npl=False)])
    assert counts["kept_open_for_recovery"] == 1
    assert open_case("B1").pk == case.pk
    LegalCase.objects.filter(pk=legal.pk).update(stage=LegalStage.CLOSED)
    # The household no longer appears in the snapshot; its case closes on what it last saw.
    counts = sync(FEB, [])
    assert counts["closed"] == {"repaid": 1}
    assert Case.objects.get(pk=case.pk).closed_on == FEB


@pytest.mark.usefixtures("units")
def test_an_early_warning_case_becomes_the_npl_case():
    counts = sync(DEC, [loan("B1", npl=False, dpd=75)], early_warning=True)
    assert counts["opened_early_warning"] == 1
    case = open_case("B1")
    assert case.kind == CaseKind.EARLY_WARNING
    assert case.npl_balance == 0
    # Still 61-90 days: the case stays as it is, even when early warning is not asked for.
    counts = sync(JAN, [loan("B1", npl=False, dpd=85)])
    assert open_case("B1").kind == CaseKind.EARLY_WARNING
    counts = sync(FEB, [loan("B1", dpd=110)])
    assert counts["kind_changed"] == 1
    assert counts["opened"] == 0
    same = open_case("B1")
    assert same.pk == case.pk
    assert same.kind == CaseKind.NPL
    assert same.version == case.version + 1
    record = AuditRecord.objects.filter(case=same, action="cases_sync").latest("id")
    assert "kind changed" in record.reason
    assert record.before["kind"] == "early_warning"


@pytest.mark.usefixtures("units")
def test_a_cured_early_warning_case_closes_as_upgraded():
    sync(DEC, [loan("B1", npl=False, dpd=75)], early_warning=True)
    counts = sync(JAN, [loan("B1", npl=False, dpd=10)], early_warning=True)
    assert counts["closed"] == {"upgraded": 1}


@pytest.mark.usefixtures("units")
def test_a_household_npl_again_gets_a_new_linked_case():
    sync(DEC, [loan("B1")])
    sync(JAN, [loan("B1", npl=False, dpd=0)])
    counts = sync(FEB, [loan("B1", dpd=100)])
    assert counts["opened"] == 1
    first = Case.objects.get(number="B1-1")
    second = open_case("B1")
    assert second.number == "B1-2"
    assert second.previous_case == first
    assert second.opened_on == FEB
    assert list(second.loans.values_list("loan_id", flat=True)) == ["L-B1-1"]
    assert first.loans.get().is_npl is False  # the closed case keeps what it last saw


@pytest.mark.usefixtures("units")
def test_a_new_case_goes_to_the_person_whose_username_is_the_officer():
    officer = PersonFactory(user=UserFactory(username="HB0101-07"))
    sync(DEC, [loan("B1", officer="HB0101-07"), loan("B2", officer="nobody")])
    assert open_case("B1").owner == officer
    assert open_case("B2").owner is None


@pytest.mark.usefixtures("units")
def test_balance_changes_update_the_case_and_its_loans():
    sync(DEC, [loan("B1", balance="50000.00")])
    counts = sync(JAN, [loan("B1", balance="45000.00", dpd=150)])
    assert counts["updated"] == 1
    case = open_case("B1")
    assert case.npl_balance == Decimal("45000.00")
    assert case.synced_as_of == JAN
    assert case.loans.get().days_past_due == 150
    record = AuditRecord.objects.filter(case=case, action="cases_sync").latest("id")
    assert record.reason == "updated balances"
    assert record.before == {"npl_balance": "50000.00", "balance": "50000.00"}


@pytest.mark.usefixtures("units")
def test_sync_needs_the_sync_role_and_known_units():
    officer = PersonFactory(roles=["officer"])
    with pytest.raises(AccessDenied):
        cases_sync(actor=officer, as_of=DEC, loans=[loan("B1")])
    analyst = PersonFactory(roles=["risk_analyst"])
    cases_sync(actor=analyst, as_of=DEC, loans=[loan("B1")])
    with pytest.raises(InvalidAction, match="ZZ99"):
        sync(JAN, [loan("B2", unit="ZZ99")])
    assert not Household.objects.filter(borrower_id="B2").exists()


# -- on a synthetic branch ------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic_store(tmp_path_factory: pytest.TempPathFactory):
    """Three months of a small synthetic branch, imported into a store."""
    from npldesk.synth import generate
    from npldesk.tape.importer import ImportOptions, import_files
    from npldesk.tape.org import import_org
    from npldesk.tape.store import Store

    folder: Path = tmp_path_factory.mktemp("synth")
    result = generate(folder / "data", loans=3000, months=3, start=date(2019, 10, 1))
    store = Store(folder / "store")
    import_org(store, result.org_file)
    import_files(store, result.tape_files, ImportOptions())
    return store


def _session(store: Any) -> Any:
    from npldesk.analytics import Analytics, connect

    return Analytics(store=store, engine=connect("duckdb"))


def _casework_units(store: Any) -> None:
    from npldesk.casework.services import units_sync
    from npldesk.tape.org import load_org

    units_sync(
        actor=system_actor(),
        org_units=[
            {"code": u.code, "name": u.name, "parent": u.parent_code, "level": u.level}
            for u in load_org(store)
        ],
    )


@pytest.mark.django_db
def test_sync_on_a_synthetic_branch(synthetic_store: Any):
    _casework_units(synthetic_store)
    session = _session(synthetic_store)
    months = session.months()
    npl_households: dict[date, set[str]] = {}
    for as_of in months:
        snapshot = session.classified(as_of)
        npl = snapshot.filter((snapshot.status == "active") & snapshot.is_npl)
        npl_households[as_of] = {
            r["borrower_id"] for r in session.rows(npl.select("borrower_id").distinct())
        }
    for as_of in months:
        rows = loans_for_sync(None, as_of, session=session)
        counts = cases_sync(actor=system_actor(), as_of=as_of, loans=rows)
        open_npl = set(
            Case.objects.filter(closed_on__isnull=True, kind=CaseKind.NPL).values_list(
                "household__borrower_id", flat=True
            )
        )
        kept = set(
            Case.objects.filter(closed_on__isnull=True, written_off=True).values_list(
                "household__borrower_id", flat=True
            )
        )
        # Exactly one open case per household with an NPL loan on the books, plus the cases
        # kept open for recovery after a write-off.
        assert open_npl - kept == npl_households[as_of] - kept
        assert npl_households[as_of] <= open_npl
        assert counts["kept_open_for_recovery"] >= len(kept - npl_households[as_of])
        again = cases_sync(actor=system_actor(), as_of=as_of, loans=rows)
        assert again["opened"] == again["updated"] == again["closed_total"] == 0
        assert again["kind_changed"] == 0
    assert len(npl_households[months[-1]]) > 5
    assert Case.objects.filter(closed_on__isnull=False).exists()


@pytest.mark.usefixtures("units")
def test_the_sync_leaves_what_a_person_set_alone_and_moves_the_version_only_on_closing():
    sync(DEC, [loan("B1")])
    lead = PersonFactory(roles=["team_lead"])
    Case.objects.filter(number="B1-1").update(
        state=CaseState.INVESTIGATING, owner=lead, version=5, strategy="repayment_plan"
    )
    sync(JAN, [loan("B1", balance="40000.00")])
    case = Case.objects.get(number="B1-1")
    assert (case.state, case.owner, case.version, case.strategy) == (
        CaseState.INVESTIGATING,
        lead,
        5,
        "repayment_plan",
    )
    assert case.npl_balance == Decimal("40000.00")
    sync(FEB, [loan("B1", status="repaid", npl=False, balance="0.00")])
    case.refresh_from_db()
    assert (case.state, case.owner, case.version) == (CaseState.RESOLVED, lead, 6)


@pytest.mark.usefixtures("units")
def test_a_new_month_with_the_same_figures_is_stamped_without_an_audit_record():
    sync(DEC, [loan("B1")])
    records = AuditRecord.objects.count()
    counts = sync(JAN, [loan("B1")])
    assert counts["unchanged"] == 1 and counts["updated"] == 0
    assert AuditRecord.objects.count() == records + 1  # the run's own
    case = open_case("B1")
    assert case.synced_as_of == JAN
    assert case.loans.get().as_of == JAN
