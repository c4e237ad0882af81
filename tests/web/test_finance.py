"""The finance desk: write-offs prepared, reviewed and approved by three different people,
recoveries confirmed by someone other than who entered them, the month's reconciliation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from npldesk.casework import services
from npldesk.casework.models import AuditRecord, CaseLoan, Person, Recovery, WriteOff
from tests.casework.world import World

Sign = Callable[[Person], Client]


@pytest.fixture
def loss(world: World) -> CaseLoan:
    loan = world.case.loans.get()
    CaseLoan.objects.filter(pk=loan.pk).update(loan_class="loss")
    loan.refresh_from_db()
    return loan


def _added(before: int) -> list[str]:
    return [r.action for r in AuditRecord.objects.order_by("id")[before:]]


def _prepare(world: World, client: Client, loan: CaseLoan) -> WriteOff:
    before = AuditRecord.objects.count()
    client.post(
        "/finance/writeoffs/",
        {
            "case": world.case.number,
            "loan_id": loan.loan_id,
            "principal": "100000.00",
            "interest": "0",
            "reason": "borrower deceased, no estate",
            "prepared_on": timezone.localdate().isoformat(),
        },
    )
    assert _added(before) == ["writeoff_prepare"]
    return WriteOff.objects.get(loan_id=loan.loan_id)


def _decide(client: Client, writeoff: WriteOff, *, version: int | None = None) -> str:
    response = client.post(
        f"/finance/writeoffs/{writeoff.pk}/decide/",
        {"version": version or writeoff.version, "approve": "1", "note": "ok"},
        follow=True,
    )
    return response.content.decode()


def test_a_write_off_goes_through_three_different_people(
    world: World, loss: CaseLoan, client_for: Sign
) -> None:
    preparer = client_for(world.finance)
    desk = preparer.get("/finance/").context["desk"]
    assert [item.loan.loan_id for item in desk.to_prepare] == [loss.loan_id]
    writeoff = _prepare(world, preparer, loss)
    assert preparer.get("/finance/").context["desk"].to_prepare == []

    # Whoever prepared it does not review it: the service refuses, the page says why.
    text = _decide(preparer, writeoff)
    assert "different person" in text
    assert WriteOff.objects.get(pk=writeoff.pk).state == "prepared"

    reviewer = client_for(world.finance2)
    assert [w.pk for w in reviewer.get("/finance/").context["desk"].to_review] == [writeoff.pk]
    before = AuditRecord.objects.count()
    _decide(reviewer, writeoff)
    assert _added(before) == ["writeoff_decide"]
    writeoff.refresh_from_db()
    assert writeoff.state == "reviewed"

    leader = client_for(world.leader)
    assert [w.pk for w in leader.get("/finance/").context["desk"].to_approve] == [writeoff.pk]
    before = AuditRecord.objects.count()
    _decide(leader, writeoff)
    assert _added(before) == ["writeoff_decide"]
    assert WriteOff.objects.get(pk=writeoff.pk).state == "approved"


def test_a_stale_decision_gets_the_conflict_message(
    world: World, loss: CaseLoan, client_for: Sign
) -> None:
    writeoff = _prepare(world, client_for(world.finance), loss)
    stale = writeoff.version
    WriteOff.objects.filter(pk=writeoff.pk).update(version=stale + 1)
    before = AuditRecord.objects.count()
    text = _decide(client_for(world.finance2), writeoff, version=stale)
    assert "changed by someone else" in text
    assert WriteOff.objects.get(pk=writeoff.pk).state == "prepared"
    assert AuditRecord.objects.count() == before


def test_recoveries_wait_for_someone_other_than_who_entered_them(
    world: World, client_for: Sign
) -> None:
    entry = services.recovery_enter(
        actor=world.officer,
        case=world.case,
        loan_id=world.loan_id,
        received_on=date(2020, 1, 10),
        amount=Decimal("500.00"),
        source="borrower",
        note="",
    )
    client = client_for(world.finance)
    assert [r.pk for r in client.get("/finance/").context["desk"].to_confirm] == [entry.pk]
    before = AuditRecord.objects.count()
    client.post(f"/finance/recoveries/{entry.pk}/confirm/")
    assert _added(before) == ["recovery_confirm"]
    assert Recovery.objects.get(pk=entry.pk).confirmation.by_id == world.finance.pk
    assert client.get("/finance/").context["desk"].to_confirm == []


def test_only_finance_and_leaders_have_the_desk_and_nothing_outside_their_units(
    world: World, loss: CaseLoan, client_for: Sign
) -> None:
    for person in (world.officer, world.lead, world.legal, world.analyst, world.admin):
        assert client_for(person).get("/finance/").status_code == 404
        assert 'href="/finance/"' not in client_for(person).get("/worklist/").content.decode()
    assert 'href="/finance/"' in client_for(world.finance).get("/worklist/").content.decode()
    writeoff = _prepare(world, client_for(world.finance), loss)
    county = world.units["HB02"]
    from tests.casework.factories import PersonFactory

    elsewhere = PersonFactory(roles=["finance"], units=[county], user__password="!")
    client = client_for(elsewhere)
    assert client.get("/finance/").context["desk"].to_review == []
    response = client.post(
        f"/finance/writeoffs/{writeoff.pk}/decide/",
        {"version": writeoff.version, "approve": "1", "note": ""},
    )
    assert response.status_code == 404


def test_the_reconciliation_shows_the_figures_of_cases_reconcile(
    world: World, client_for: Sign, demo_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from npldesk.analytics.session import Analytics
    from npldesk.casework.reconcile import reconcile
    from npldesk.home import load_home

    monkeypatch.setenv("NPLDESK_HOME", str(demo_home))
    session = Analytics.for_home(load_home(str(demo_home)))
    month = session.months()[-1]
    expected = reconcile(session, month).as_dict()
    response = client_for(world.finance).get(f"/finance/?month={month.isoformat()}")
    shown = response.context["reconciliation"]
    assert shown.as_of == month and shown.result.as_dict() == expected
    cash = Decimal(expected["totals"]["tape_cash"])
    assert f"{cash:,.2f}" in response.content.decode()
