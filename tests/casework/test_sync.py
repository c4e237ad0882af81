"""The month-end sync: cases opened, updated and closed from the snapshot
(docs/casework-rules.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Q
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from npldesk.casework.choices import CaseKind, CaseState, LegalStage
from npldesk.casework.errors import AccessDenied, InvalidAction
from npldesk.casework.models import (
    AuditRecord,
    Case,
    CaseLoan,
    Household,
    LegalCase,
    SyncRun,
    Unit,
)
from npldesk.casework.selectors import system_actor
from npldesk.casework.sync import cases_sync, loans_for_sync, month_end_sync, months_to_sync
from npldesk.core.months import month_range
from tests.casework.factories import PersonFactory, TeamFactory, UserFactory

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
        ([], "unexplained_exit"),
    ],
)
def test_closes_with_the_derived_reason(later_rows: list[dict[str, Any]], reason: str):
    sync(DEC, [loan("B1")])
    counts = sync(JAN, later_rows)
    case = Case.objects.get(number="B1-1")
    assert counts["closed"] == {reason: 1}
    assert case.state == CaseState.RESOLVED
    assert case.closed_on == JAN
    assert case.close_reason == reason
    assert case.npl_balance == Decimal("0.00")
    record = AuditRecord.objects.get(action="cases_sync", case=case, reason__contains="closed")
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


def _session(store: Any, **params: Any) -> Any:
    from npldesk.analytics import Analytics, connect
    from npldesk.core.rules import RuleParams

    return Analytics(store=store, engine=connect("duckdb"), params=RuleParams(**params))


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


# -- months skipped: the sync replays them ---------------------------------------------------


@pytest.mark.usefixtures("units")
def test_an_unexplained_exit_closes_a_case_and_keeps_what_the_loan_owed():
    analyst = PersonFactory(roles=["risk_analyst"])
    rows = [loan("B1", 1), loan("B1", 2, npl=False, dpd=0)]
    rows[0]["overdue_interest"] = Decimal("1200.00")
    cases_sync(actor=analyst, as_of=DEC, loans=rows)
    first = open_case("B1").loans.get(loan_id="L-B1-1")
    assert (first.overdue_interest, first.owed, first.owed_as_of) == (
        Decimal("1200.00"),
        Decimal("51200.00"),
        DEC,
    )
    # The NPL loan has no row in January; the household's other loan is still on the books.
    counts = cases_sync(actor=analyst, as_of=JAN, loans=[loan("B1", 2, npl=False, dpd=0)])
    assert counts["closed"] == {"upgraded": 1}
    gone = CaseLoan.objects.get(loan_id="L-B1-1")
    assert (gone.status, gone.principal_balance, gone.as_of) == ("unexplained_exit", 0, JAN)
    assert (gone.owed, gone.owed_as_of) == (Decimal("51200.00"), DEC)
    # A household whose every loan vanished closes as an unexplained exit.
    cases_sync(actor=analyst, as_of=FEB, loans=[loan("B2")])
    counts = cases_sync(actor=analyst, as_of=MAR, loans=[])
    assert counts["closed"] == {"unexplained_exit": 1}
    case = Case.objects.get(number="B2-1")
    assert (case.closed_on, case.close_reason, case.npl_balance) == (MAR, "unexplained_exit", 0)


@pytest.mark.usefixtures("units")
def test_one_month_at_a_time_follows_the_last_synced_month():
    analyst = PersonFactory(roles=["risk_analyst"])
    cases_sync(actor=analyst, as_of=DEC, loans=[loan("B1")])
    with pytest.raises(InvalidAction, match="sync 2020-01 to 2020-02 before 2020-03"):
        cases_sync(actor=analyst, as_of=MAR, loans=[])
    cases_sync(actor=analyst, as_of=JAN, loans=[loan("B1")])
    with pytest.raises(InvalidAction, match="last synced from 2020-01: syncing the earlier"):
        cases_sync(actor=analyst, as_of=DEC, loans=[loan("B1")])
    assert open_case("B1").synced_as_of == JAN
    assert SyncRun.objects.count() == 2


@pytest.mark.parametrize(
    ("last", "as_of", "expected"),
    [
        (None, MAR, [MAR]),
        (JAN, JAN, [JAN]),
        (JAN, FEB, [FEB]),
        (DEC, MAR, [JAN, FEB, MAR]),
    ],
)
def test_the_months_a_sync_replays(last: date | None, as_of: date, expected: list[date]):
    assert months_to_sync(as_of, last=last, stored=[DEC, JAN, FEB, MAR]) == expected


def test_a_month_missing_from_the_store_stops_the_sync_naming_it():
    with pytest.raises(InvalidAction, match="2020-01, 2020-02 are not imported"):
        months_to_sync(MAR, last=DEC, stored=[DEC, MAR])
    with pytest.raises(InvalidAction, match="last synced from 2020-02: syncing the earlier"):
        months_to_sync(JAN, last=FEB, stored=[DEC, JAN, FEB])


@pytest.mark.usefixtures("units")
def test_a_new_case_goes_to_its_units_one_clearing_team():
    analyst = PersonFactory(roles=["risk_analyst"])
    units = {u.code: u for u in Unit.objects.all()}
    county = TeamFactory(kind="clearing_team", units=[units["HB01"]])
    TeamFactory(kind="task_force", units=[units["HB0101"]])  # not a clearing team
    TeamFactory(kind="clearing_team", units=[units["HB02"]])
    TeamFactory(kind="clearing_team", units=[units["HB0201"]])  # HB0201 has two
    TeamFactory(kind="clearing_team", units=[units["HB01"]], active_to=date(2019, 6, 30))
    cases_sync(actor=analyst, as_of=DEC, loans=[loan("B1"), loan("B2", unit="HB0201"), loan("B3")])
    assert open_case("B1").team == county
    assert open_case("B2").team is None


def _tape(seed: int) -> list[dict[str, str]]:
    """Seven months of a few households whose loans do everything the tape allows: stay NPL,
    cure, turn NPL (again), get repaid, transferred, foreclosed or written off, or vanish
    without a terminal row."""
    import random

    from tests.tape_factory import loan_row

    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    state: dict[int, tuple[str, int]] = {}  # loan number -> (borrower, balance in yuan)
    npl: dict[int, bool] = {}
    for n in range(1, 25):
        # Loans 1 to 8 in households of two, the others one to a household.
        household = (n + 1) // 2 if n <= 8 else n
        state[n] = (f"B{household:06d}", rng.choice([20_000, 50_000, 80_000]))
        npl[n] = rng.random() < 0.6
    npl[9] = True  # an NPL household whose one loan vanishes in the fourth month
    for as_of in SEVEN_MONTHS:
        vanished = False
        for n, (borrower, balance) in list(state.items()):
            fate = rng.random()
            if n == 9 and as_of == SEVEN_MONTHS[3]:
                fate = 0.15
            unit = "HB0101" if int(borrower[1:]) % 3 else "HB0201"
            common = {"borrower_id": borrower, "org_unit": unit}
            if as_of != SEVEN_MONTHS[0] and fate < 0.12 and npl[n]:
                status = rng.choice(["repaid", "transferred", "foreclosed", "written_off"])
                extra = {} if status == "repaid" else {"exit_amount": f"{balance}.00"}
                rows.append(
                    loan_row(
                        n,
                        as_of,
                        **common,
                        status=status,
                        principal_balance="0.00",
                        overdue_principal="0.00",
                        days_past_due=0,
                        **extra,
                    )
                )
                del state[n]
                continue
            if as_of != SEVEN_MONTHS[0] and fate < 0.2 and not vanished and len(state) >= 10:
                # No row from now on: an unexplained exit (one a month, well below the share
                # of the book that import takes for a partial file).
                del state[n]
                vanished = True
                continue
            if fate < (0.4 if npl[n] else 0.28):
                npl[n] = not npl[n]
            balance = max(1_000, balance - rng.choice([0, 0, 1_000, 5_000]))
            state[n] = (borrower, balance)
            values: dict[str, Any] = {"principal_balance": f"{balance}.00", **common}
            if npl[n]:
                values |= {
                    "days_past_due": 120,
                    "overdue_principal": f"{balance}.00",
                    "overdue_interest": "300.00",
                    "reported_class": "substandard",
                }
            rows.append(loan_row(n, as_of, **values))
    return rows


SEVEN_MONTHS = list(month_range(date(2019, 7, 31), date(2020, 1, 31)))


@pytest.fixture(scope="module")
def seven_months(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """Stores of seven months of a small tape each (three seeds)."""
    from npldesk.tape.importer import ImportOptions, import_files
    from npldesk.tape.org import import_org
    from npldesk.tape.store import Store
    from tests.tape_factory import write_csv, write_org

    stores = []
    for seed in (1, 2, 3):
        folder: Path = tmp_path_factory.mktemp(f"seven-{seed}")
        store = Store(folder / "store")
        import_org(store, write_org(folder / "org.csv"))
        import_files(store, [write_csv(folder / "tape.csv", _tape(seed))], ImportOptions())
        stores.append(store)
    return stores


def _outcome() -> dict[str, tuple[Any, ...]]:
    return {
        case.number: (case.opened_on, case.closed_on, case.close_reason, case.kind, case.team_id)
        for case in Case.objects.all()
    }


def _npl_households(session: Any, as_of: date) -> set[str]:
    snapshot = session.classified(as_of)
    npl = snapshot.filter((snapshot.status == "active") & snapshot.is_npl)
    return {r["borrower_id"] for r in session.rows(npl.select("borrower_id").distinct())}


# What syncing every month gives, by store and last month (the same in every example).
EVERY_MONTH: dict[tuple[int, int], Any] = {}


@pytest.mark.django_db
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    store_index=st.integers(0, 2),
    synced=st.lists(st.booleans(), min_size=5, max_size=5),
    last=st.integers(1, 6),
)
def test_syncing_with_months_skipped_gives_what_syncing_every_month_gives(
    seven_months: list[Any], store_index: int, synced: list[bool], last: int
):
    from django.db import transaction

    from npldesk.casework.services import units_sync
    from npldesk.tape.org import load_org

    store = seven_months[store_index]
    if not Unit.objects.exists():
        units_sync(
            actor=PersonFactory(roles=["admin"]),
            org_units=[
                {"code": u.code, "name": u.name, "parent": u.parent_code, "level": u.level}
                for u in load_org(store)
            ],
        )
    analyst = PersonFactory(roles=["risk_analyst"])
    # A cured loan leaves NPL after two clean months, so households are upgraded within the
    # seven months too.
    session = _session(store, probation_months=2)
    first, final = SEVEN_MONTHS[0], SEVEN_MONTHS[last]
    # The months synced besides the first and the last: the others are skipped.
    between = [m for m, keep in zip(SEVEN_MONTHS[1:last], synced, strict=False) if keep]

    def run(months: list[date]) -> tuple[dict[str, tuple[Any, ...]], set[str], set[str]]:
        with transaction.atomic():
            month_end_sync(None, first, actor=analyst, session=session)
            # A lawsuit on the largest case keeps it open whatever its loans do.
            sued = Case.objects.order_by("-npl_balance", "number").first()
            LegalCase.objects.create(
                case=sued, holder=analyst, court="Court", claim_amount=1, stage_since=first
            )
            for month in months:
                month_end_sync(None, month, actor=analyst, session=session)
            kept = set(
                Case.objects.filter(closed_on__isnull=True)
                .filter(Q(written_off=True) | Q(pk=sued.pk))
                .values_list("household__borrower_id", flat=True)
            )
            open_households = list(
                Case.objects.filter(closed_on__isnull=True).values_list(
                    "household__borrower_id", flat=True
                )
            )
            assert len(open_households) == len(set(open_households))
            outcome = _outcome()
            transaction.set_rollback(True)
        return outcome, set(open_households), kept

    key = (store_index, last)
    if key not in EVERY_MONTH:
        EVERY_MONTH[key] = run(SEVEN_MONTHS[1 : last + 1])
    every, every_open, kept = EVERY_MONTH[key]
    skipping, skipping_open, _ = run([*between, final])
    assert skipping == every
    assert skipping_open == every_open
    # One open case per NPL household, plus those kept open for recovery after a write-off or
    # for an open legal case.
    assert every_open == _npl_households(session, final) | kept


# -- text the two databases would store differently ----------------------------------------


@pytest.mark.usefixtures("units")
@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        (
            "borrower_name",
            "名" * 201,
            "household B2: its name is 201 characters long, more than the 200",
        ),
        ("phone", "1" * 201, "household B2: its phones is 201 characters long"),
        ("officer_id", "x" * 65, "case loan L-B2-1: its officer_id is 65 characters long"),
        ("borrower_name", "Wang\x00Wei", "household B2: its name holds a NUL character"),
    ],
)
def test_text_longer_than_casework_keeps_is_refused_on_every_database(
    column: str, value: str, message: str
):
    analyst = PersonFactory(roles=["risk_analyst"])
    cases_sync(actor=analyst, as_of=DEC, loans=[loan("B1")])
    bad = loan("B2")
    bad[column] = value
    with pytest.raises(InvalidAction, match=message):
        cases_sync(actor=analyst, as_of=JAN, loans=[loan("B1"), bad])
    assert not Household.objects.filter(borrower_id="B2").exists()
    assert open_case("B1").synced_as_of == DEC


@pytest.mark.usefixtures("units")
@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        (
            "borrower_name",
            "名" * 201,
            "household B1: its name is 201 characters long, more than the 200",
        ),
        ("officer_id", "x" * 65, "case loan L-B1-1: its officer_id is 65 characters long"),
        ("borrower_name", "Wang\x00Wei", "household B1: its name holds a NUL character"),
    ],
)
def test_text_a_known_household_or_loan_changes_to_is_refused_on_every_database(
    column: str, value: str, message: str
) -> None:
    """The same refusal when the text arrives in a later month for a household and a loan
    casework already keeps (written back by the update, not the insert)."""
    sync(DEC, [loan("B1")])
    changed = loan("B1")
    changed[column] = value
    with pytest.raises(InvalidAction, match=message):
        sync(JAN, [changed])
    assert Household.objects.get(borrower_id="B1").name == "Household B1"
    assert CaseLoan.objects.get(loan_id="L-B1-1").officer_id == "HB0101-01"
    assert open_case("B1").synced_as_of == DEC


@pytest.mark.usefixtures("units")
def test_a_phone_the_field_has_no_room_for_leaves_the_numbers_a_person_entered():
    analyst = PersonFactory(roles=["risk_analyst"])
    cases_sync(actor=analyst, as_of=DEC, loans=[loan("B1")])
    entered = ",".join(f"139{n:08d}" for n in range(16))  # 191 characters
    Household.objects.filter(borrower_id="B1").update(phones=entered)
    moved = loan("B1")
    moved["phone"] = "13700000000"
    cases_sync(actor=analyst, as_of=JAN, loans=[moved])
    assert Household.objects.get(borrower_id="B1").phones == entered


@pytest.mark.usefixtures("units")
def test_a_loan_first_seen_off_the_books_owed_nothing_casework_saw():
    analyst = PersonFactory(roles=["risk_analyst"])
    cases_sync(
        actor=analyst,
        as_of=DEC,
        loans=[loan("B1", 1), loan("B1", 2, status="repaid", npl=False, balance="0.00")],
    )
    repaid = CaseLoan.objects.get(loan_id="L-B1-2")
    assert (repaid.owed, repaid.owed_as_of) == (Decimal("0.00"), None)
    assert CaseLoan.objects.get(loan_id="L-B1-1").owed == Decimal("50000.00")
