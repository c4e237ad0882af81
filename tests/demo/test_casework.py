"""The demo's casework on a small synthetic book: staff for every role, a history dated inside
the synthetic months, and money that agrees with the tape (recoveries against the movement's
cash line, write-offs approved before the tape writes the loan off).

Built once for the module inside a transaction that is rolled back at the end, so the other
casework tests see an empty database.

Marked slow: the history of every case of a 3,000-loan book over 24 months is about a minute
of one core, and a smaller book no longer shows every kind of work (at 1,000 loans no legal case
reaches its last stage and nothing is recovered after a write-off). The demo's build and rebuild
run on a tiny book in test_build.py, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Sum

from npldesk.analytics.session import Analytics
from npldesk.casework.choices import (
    LegalStage,
    PromiseState,
    RepaymentPlanState,
    Role,
    WriteOffState,
)
from npldesk.casework.models import (
    Activity,
    Case,
    CaseLoan,
    Investigation,
    LegalStageEntry,
    Person,
    Promise,
    Recovery,
    RepaymentPlan,
    Team,
    WriteOff,
)
from npldesk.demo.casework import build_demo_casework, casework_summary
from npldesk.home import Home, create_home
from npldesk.reports.figures import movement_report
from npldesk.synth import generate
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.org import import_org
from npldesk.tape.store import Store

pytestmark = pytest.mark.slow

MONTHS = 24
DEMO_LOANS = 3000


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory,
    django_db_setup: None,
    django_db_blocker: Any,
) -> Iterator[dict[str, Any]]:
    """A small synthetic book imported into a home and its demo casework built (every case
    with the full history, so that a small book still shows every kind of work)."""
    folder = tmp_path_factory.mktemp("demo-casework")
    home: Home = create_home(folder / "home")[0]
    data = generate(folder / "data", loans=DEMO_LOANS, months=MONTHS)
    store = Store(home.store_path)
    import_org(store, data.org_file)
    import_files(store, data.tape_files, ImportOptions())
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            built = build_demo_casework(home, rich_share=1.0)
            yield {"home": home, "built": built, "months": store.months()}
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def built(demo: dict[str, Any], db: None) -> dict[str, Any]:
    return demo


def test_staff_one_per_role_and_officers_and_leads_in_more_than_one_unit(built):
    people = list(Person.objects.prefetch_related("units"))
    for role in Role.values:
        assert any(role in person.roles for person in people), role
    officer_units = {
        u.code for p in people if Role.OFFICER in p.roles for u in p.units.all() if len(u.code) == 4
    }
    lead_units = {u.code for p in people if Role.TEAM_LEAD in p.roles for u in p.units.all()}
    assert len(officer_units) >= 2 and len(lead_units) >= 2
    assert Person.objects.get(user__username="demo-officer").units.count() == 2
    # The tape's officers own the cases.
    assert not Case.objects.filter(owner__isnull=True).exists()
    credentials = built["built"].credentials
    staff = [p for p in people if p.user.get_username() != "system"]  # the system actor
    assert len(credentials) == len(staff)
    assert all(len(c.password) >= 16 for c in credentials)
    kinds = set(Team.objects.values_list("kind", flat=True))
    assert kinds == {"clearing_team", "task_force"}
    assert Case.objects.filter(team__kind="task_force").exists()


def test_every_legal_stage_promises_kept_and_broken_and_a_breached_plan(built):
    summary = casework_summary()
    assert set(summary["legal_stages"]) == set(LegalStage.values)
    states = set(Promise.objects.values_list("state", flat=True))
    assert {PromiseState.KEPT, PromiseState.BROKEN} <= states
    assert RepaymentPlan.objects.filter(state=RepaymentPlanState.BREACHED).exists()
    assert RepaymentPlan.objects.filter(state=RepaymentPlanState.COMPLETED).exists()
    assert Investigation.objects.exists() and Activity.objects.exists()


def test_write_offs_approved_before_the_tape_and_recoveries_after_write_off(built):
    written_off = CaseLoan.objects.filter(status="written_off")
    assert written_off.exists()
    for loan in written_off:
        writeoff = WriteOff.objects.get(case=loan.case, loan_id=loan.loan_id)
        assert writeoff.state == WriteOffState.APPROVED
        # Approved in the month the tape's written_off row belongs to, before its month-end.
        assert writeoff.approved_on is not None and writeoff.approved_on <= loan.as_of
        assert writeoff.decisions.count() == 3
    assert Recovery.objects.filter(after_write_off=True).exists()
    assert casework_summary()["recovered_after_write_off"] != "0.00"


def test_history_is_dated_inside_the_synthetic_months(built):
    months: list[date] = built["months"]
    first, last = months[0].replace(day=1), months[-1]

    def inside(on: date | None) -> bool:
        return on is None or first <= on <= last

    for case in Case.objects.all():
        dates = [case.opened_on, case.closed_on]
        dates += list(case.activities.values_list("occurred_on", flat=True))
        dates += list(case.investigations.values_list("investigated_on", flat=True))
        dates += list(case.promises.values_list("made_on", flat=True))
        dates += list(case.recoveries.values_list("received_on", flat=True))
        dates += list(case.repayment_plans.values_list("agreed_on", flat=True))
        dates += list(case.writeoffs.values_list("prepared_on", flat=True))
        dates += list(case.writeoffs.values_list("approved_on", flat=True))
        dates += list(
            LegalStageEntry.objects.filter(legal_case__case=case).values_list(
                "entered_on", flat=True
            )
        )
        assert all(inside(on) for on in dates), (case.number, dates)
        # Work on a case happens after the sync opened it.
        worked = [d for d in dates[2:] if d is not None]
        assert all(on > case.opened_on for on in worked), case.number


def test_every_npl_household_of_the_last_month_has_one_open_case(built):
    session = Analytics.for_home(built["home"])
    last = session.classified(built["months"][-1])
    npl = last.filter(last.is_npl & (last.status == "active")).select("borrower_id").distinct()
    households = {row["borrower_id"] for row in session.rows(npl)}
    assert households
    open_cases: dict[str, int] = {}
    for borrower_id in Case.objects.filter(closed_on__isnull=True).values_list(
        "household__borrower_id", flat=True
    ):
        open_cases[borrower_id] = open_cases.get(borrower_id, 0) + 1
    assert all(open_cases.get(household) == 1 for household in households)


def test_recoveries_on_the_books_reconcile_with_the_movement_cash_line(built):
    session = Analytics.for_home(built["home"])
    for month in built["months"][1:]:
        cash = movement_report(session, month, period="month").total.cash
        start = month.replace(day=1)
        entered = Recovery.objects.filter(
            after_write_off=False, received_on__gte=start, received_on__lte=month
        ).aggregate(total=Sum("principal_part"))["total"] or Decimal("0.00")
        assert entered == cash, month
