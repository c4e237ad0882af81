"""Selectors: scope beyond the unit (assigned cases, teams, legal holders), personal data
masked unless the person works the case (and every unmasked view recorded), the worklist's
order, and query-count baselines so that an N+1 shows up as a failing test."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from npldesk.casework import selectors
from npldesk.casework.errors import AccessDenied, NotFound
from npldesk.casework.models import (
    Activity,
    AuditRecord,
    Instalment,
    LegalCase,
    LegalStageEntry,
    Plan,
    PlanDecision,
    Promise,
    Recovery,
    RepaymentPlan,
    Unit,
)
from tests.casework.factories import PersonFactory, TeamFactory, case_with_loan

BASELINES = json.loads((Path(__file__).parent / "query_counts.json").read_text())
TODAY = date(2020, 3, 1)
pytestmark = pytest.mark.django_db


def test_an_officer_sees_cases_assigned_to_them_in_another_unit(units: dict[str, Unit]) -> None:
    officer = PersonFactory(roles=["officer"], units=[units["HB0101"]])
    elsewhere = case_with_loan(units["HB0201"], owner=officer)
    unassigned = case_with_loan(units["HB0201"])
    above = case_with_loan(units["HB01"])  # the county above the officer's sub-branch
    visible = set(selectors.case_list(officer).values_list("number", flat=True))
    assert elsewhere.number in visible
    assert unassigned.number not in visible
    assert above.number not in visible


def test_team_members_and_leaders_see_the_teams_cases(units: dict[str, Unit]) -> None:
    member = PersonFactory(roles=["officer"], units=[units["HB0101"]])
    team = TeamFactory(members=[member])
    team.leader.units.set([units["HB0101"]])
    case = case_with_loan(units["HB0201"], team=team)
    assert selectors.case_list(member).filter(pk=case.pk).exists()
    assert selectors.case_list(team.leader).filter(pk=case.pk).exists()
    assert selectors.case_list(member).count() == 1  # no duplicate rows from the team join


def test_legal_staff_see_cases_they_hold_and_legal_cases_of_their_units(
    units: dict[str, Unit],
) -> None:
    lawyer = PersonFactory(roles=["legal"], units=[units["HB01"]])
    plain = case_with_loan(units["HB0101"])
    litigated = case_with_loan(units["HB0101"], strategy="litigation_enforcement")
    held_elsewhere = case_with_loan(units["HB0201"])
    LegalCase.objects.create(
        case=held_elsewhere,
        holder=lawyer,
        court="Synthetic Court",
        claim_amount=Decimal("1"),
        stage_since=TODAY,
    )
    visible = set(selectors.case_list(lawyer).values_list("pk", flat=True))
    assert visible == {litigated.pk, held_elsewhere.pk}
    assert plain.pk not in visible


def test_counts_by_state_of_a_unit_are_the_cases_the_person_may_read_there(
    units: dict[str, Unit],
) -> None:
    lead = PersonFactory(roles=["team_lead"], units=[units["HB01"]])
    lawyer = PersonFactory(roles=["legal"], units=[units["HB01"]])
    officer = PersonFactory(roles=["officer"], units=[units["HB0201"]])
    case_with_loan(units["HB0101"], state="opened")
    case_with_loan(units["HB0101"], state="escalated", strategy="litigation_enforcement")
    case_with_loan(units["HB0101"], state="escalated", owner=officer)
    case_with_loan(units["HB0201"], state="opened")  # outside the subtree counted
    subtree = units["HB01"]

    # The lead reads the whole county: its cases counted from the unit index, with none of the
    # scope's other terms (the cases they own, their teams') read against each case.
    with CaptureQueriesContext(connection) as captured:
        counts = selectors.case_counts_by_state(lead, unit=subtree)
    assert (counts["opened"], counts["escalated"], sum(counts.values())) == (1, 2, 3)
    (counting,) = [q["sql"] for q in captured if "COUNT" in q["sql"]]
    assert "owner_id" not in counting and "team_id" not in counting
    assert "COUNT(*)" in counting  # no column outside the index: PostgreSQL reads it alone
    # Those who read only part of it still count only that part: the lawyer the case at law,
    # the officer of another branch the case they own there.
    assert sum(selectors.case_counts_by_state(lawyer, unit=subtree).values()) == 1
    assert selectors.case_counts_by_state(officer, unit=subtree)["escalated"] == 1
    assert sum(selectors.case_counts_by_state(officer, unit=subtree).values()) == 1


def test_an_inactive_person_sees_nothing(units: dict[str, Unit]) -> None:
    officer = PersonFactory(roles=["officer"], units=[units["HB"]], active=False)
    case_with_loan(units["HB0101"], owner=officer)
    assert not selectors.case_list(officer).exists()


def test_personal_data_is_masked_for_those_who_do_not_work_the_case(
    units: dict[str, Unit],
) -> None:
    owner = PersonFactory(roles=["officer"], units=[units["HB0101"]])
    colleague = PersonFactory(roles=["officer"], units=[units["HB0101"]])
    analyst = PersonFactory(roles=["risk_analyst"], units=[units["HB"]])
    case = case_with_loan(units["HB0101"], owner=owner)
    for reader in (colleague, analyst, owner):
        view = selectors.case_detail(reader, case.number).household
        assert view.masked
        assert view.id_number == "340602********1234"
        assert view.phones == "138****0000"
        assert "Synthetic" not in view.address
    for outsider in (colleague, analyst):
        with pytest.raises(AccessDenied, match="work the case"):
            selectors.case_detail(outsider, case.number, unmask=True)
    assert not AuditRecord.objects.exists()

    shown = selectors.case_detail(owner, case.number, unmask=True).household
    assert (shown.masked, shown.id_number, shown.phones) == (
        False,
        "340602199001011234",
        "13800000000",
    )
    record = AuditRecord.objects.get()
    assert (record.action, record.actor, record.case) == ("personal_data_view", owner, case)


def test_a_lead_of_the_unit_works_its_cases(units: dict[str, Unit]) -> None:
    lead = PersonFactory(roles=["team_lead"], units=[units["HB01"]])
    case = case_with_loan(units["HB0101"])
    assert selectors.case_detail(lead, case.number, unmask=True).household.masked is False


def test_a_case_out_of_scope_is_not_found(units: dict[str, Unit]) -> None:
    officer = PersonFactory(roles=["officer"], units=[units["HB0101"]])
    case = case_with_loan(units["HB0201"])
    with pytest.raises(NotFound, match=f"no case {case.number} that you may see"):
        selectors.case_detail(officer, case.number)


# The scope's terms for an officer: the cases they own, those of their teams.
_SCOPE_TERMS = re.compile(r'"owner_id" = \d|"casework_team_members"')


def test_a_case_is_read_by_its_number_and_checked_without_the_scope_when_its_unit_is_read_whole(
    units: dict[str, Unit],
) -> None:
    """The scope's terms (the person's teams, cases they own) are built and queried only for a
    case outside the units the person reads whole; out of scope is still not found."""
    officer = PersonFactory(roles=["officer"], units=[units["HB0101"]])
    TeamFactory(members=[officer])
    own_unit = case_with_loan(units["HB0101"])
    owned_elsewhere = case_with_loan(units["HB0201"], owner=officer)
    elsewhere = case_with_loan(units["HB0201"])
    selectors.case_detail(officer, own_unit.number)  # the person's units read once
    with CaptureQueriesContext(connection) as captured:
        assert selectors.case_detail(officer, own_unit.number).case == own_unit
        assert selectors.case_get(officer, own_unit.number) == own_unit
    assert not [q for q in captured if _SCOPE_TERMS.search(q["sql"])]
    with CaptureQueriesContext(connection) as captured:
        assert selectors.case_detail(officer, owned_elsewhere.number).case == owned_elsewhere
    assert [q for q in captured if _SCOPE_TERMS.search(q["sql"])]
    for number in (elsewhere.number, own_unit.number):
        with pytest.raises(NotFound, match=f"no case {number} that you may see"):
            selectors.case_get(
                PersonFactory(roles=["officer"], units=[units["HB02"]], active=False), number
            )
    with pytest.raises(NotFound, match=f"no case {elsewhere.number} that you may see"):
        selectors.case_detail(officer, elsewhere.number)


def test_case_list_filters(units: dict[str, Unit]) -> None:
    owner = PersonFactory(roles=["officer"], units=[units["HB"]])
    team = TeamFactory(code="CT9")
    in_county = case_with_loan(units["HB0101"], owner=owner, state="investigating", team=team)
    case_with_loan(units["HB0201"])
    system = selectors.system_actor()
    assert list(selectors.case_list(system, unit="HB01")) == [in_county]
    assert list(selectors.case_list(system, state="investigating")) == [in_county]
    assert list(selectors.case_list(system, owner=owner.user.username)) == [in_county]
    assert list(selectors.case_list(system, team="CT9")) == [in_county]
    assert selectors.case_list(system).count() == 2


def test_case_rows_show_a_page_of_cases_as_the_list_does(units: dict[str, Unit]) -> None:
    officer = PersonFactory(roles=["officer"], units=[units["HB0101"]], name="Officer Wang")
    late = case_with_loan(units["HB0101"], owner=officer, deadline=TODAY - timedelta(days=1))
    closed_late = case_with_loan(
        units["HB0101"], deadline=TODAY - timedelta(days=9), closed_on=TODAY
    )
    in_time = case_with_loan(units["HB0101"], deadline=TODAY, npl_balance=Decimal("1234.56"))
    page = selectors.case_list(selectors.system_actor()).order_by("number")
    rows = {row.number: row for row in selectors.case_rows(page, today=TODAY)}
    assert [rows[c.number].past_deadline for c in (late, closed_late, in_time)] == [
        True,
        False,
        False,
    ]
    row = rows[late.number]
    assert (row.unit_name, row.owner_name, row.state) == (
        units["HB0101"].name,
        "Officer Wang",
        late.state,
    )
    assert row.household_name != late.household.name  # masked
    assert row.household_name.startswith(late.household.name[0])
    assert rows[in_time.number].owner_name is None
    assert rows[in_time.number].npl_balance == Decimal("1234.56")


# -- the worklist ------------------------------------------------------------------------


def test_worklist_orders_by_what_needs_doing(units: dict[str, Unit]) -> None:
    officer = PersonFactory(roles=["officer"], units=[units["HB0101"]])
    recent = TODAY - timedelta(days=3)
    far = TODAY + timedelta(days=300)

    def case(**signals: Any) -> str:
        fields = {"owner": officer, "deadline": far, "last_contact_on": recent, **signals}
        return case_with_loan(units["HB0101"], **fields).number

    quiet = case()
    no_contact = case(last_contact_on=TODAY - timedelta(days=45))
    deadline = case(deadline=TODAY - timedelta(days=1))
    hearing = case(next_hearing_on=TODAY + timedelta(days=5))
    instalment = case(next_instalment_due=TODAY + timedelta(days=2))
    broken = case(broken_promises=1)
    not_mine = case_with_loan(units["HB0101"], broken_promises=3).number
    closed = case(broken_promises=2, closed_on=TODAY)

    listed = list(selectors.worklist(officer, today=TODAY))
    numbers = [c.number for c in listed]
    assert numbers == [broken, instalment, hearing, deadline, no_contact, quiet]
    assert not_mine not in numbers and closed not in numbers
    assert [selectors.worklist_reason(c) for c in listed] == [
        "broken_promise",
        "instalment_due",
        "hearing",
        "deadline",
        "no_contact",
        "in_hand",
    ]


def test_worklist_includes_team_cases(units: dict[str, Unit]) -> None:
    member = PersonFactory(roles=["officer"], units=[units["HB0101"]])
    team = TeamFactory(members=[member])
    case = case_with_loan(units["HB0201"], team=team)
    assert [c.pk for c in selectors.worklist(member, today=TODAY)] == [case.pk]
    assert [c.pk for c in selectors.worklist(team.leader, today=TODAY)] == [case.pk]


def test_a_worklist_page_is_the_head_of_the_whole_ranking(units: dict[str, Unit]) -> None:
    """Owned cases and team cases ranked apart, then together: a page is still the first cases
    of the whole worklist, whichever term they come from (one case is in both)."""
    officer = PersonFactory(roles=["officer"], units=[units["HB0101"]])
    team = TeamFactory(members=[officer])
    far = TODAY + timedelta(days=300)
    recent = TODAY - timedelta(days=3)
    signals: list[dict[str, Any]] = [
        {"broken_promises": 1},
        {"next_instalment_due": TODAY + timedelta(days=2)},
        {"deadline": TODAY - timedelta(days=1)},
        {"next_hearing_on": TODAY + timedelta(days=5)},
        {},
    ]
    for n, signal in enumerate(signals):
        fields = {"deadline": far, "last_contact_on": recent, **signal}
        case_with_loan(units["HB0101"], owner=officer, balance=f"{n + 1}000.00", **fields)
        case_with_loan(units["HB0201"], team=team, balance=f"{n + 1}500.00", **fields)
    case_with_loan(units["HB0101"], owner=officer, team=team, broken_promises=2)
    whole = [case.number for case in selectors.worklist(officer, today=TODAY, limit=None)]
    assert len(whole) == 11
    for limit in range(1, 12):
        page = [case.number for case in selectors.worklist(officer, today=TODAY, limit=limit)]
        assert page == whole[:limit]


def _postgresql_plan(sql: str, params: Any) -> str:
    """PostgreSQL's plan for ``sql`` as on a live table: its statistics read, its pages marked
    all-visible (``VACUUM``, which needs the test's writes committed), and reading the whole
    table ruled out (on the test's few cases it would, as it would not on the many thousand a
    team holds)."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) casework_case")
        with transaction.atomic():
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_the_worklist_ranks_a_person_s_cases_from_the_rank_indexes_alone(
    units: dict[str, Unit],
) -> None:
    """Each term (owned; of the person's teams) is ranked reading its index and no case's row:
    a column the ranking reads that the index lacks would make it read every case's row."""
    if connection.vendor != "postgresql":
        pytest.skip("a plan of PostgreSQL, the production database (SQLite's differs)")
    officer = PersonFactory(roles=["officer"], units=[units["HB0101"]])
    team = TeamFactory(members=[officer])
    case_with_loan(units["HB0101"], owner=officer)
    case_with_loan(units["HB0101"], team=team)
    query = selectors.worklist(officer, today=TODAY).query
    sql, params = query.get_compiler(connection=connection).as_sql()
    plan = _postgresql_plan(sql, params)
    assert "Index Only Scan using case_open_owner_rank_idx" in plan, plan
    assert "Index Only Scan using case_open_team_rank_idx" in plan, plan


# -- query counts ----------------------------------------------------------------------------


def _full_case(unit: Unit, officer: Any) -> str:
    """A case with a few of everything the detail page shows."""
    case = case_with_loan(unit, owner=officer)
    now = timezone.now()
    for n in range(3):
        activity = Activity.objects.create(
            case=case, kind="phone", occurred_on=TODAY, person=officer, outcome="promise"
        )
        Promise.objects.create(
            case=case, activity=activity, amount=Decimal("10"), made_on=TODAY, due_on=TODAY
        )
        plan = Plan.objects.create(
            case=case,
            strategy="repayment_plan",
            reason=f"plan {n}",
            target_amount=Decimal("1"),
            target_date=TODAY,
            proposed_by=officer,
            proposed_at=now,
        )
        PlanDecision.objects.create(plan=plan, decision="proposed", by=officer, at=now)
        repayment = RepaymentPlan.objects.create(
            case=case, kind="full", total=Decimal("2"), agreed_on=TODAY
        )
        for number in (1, 2):
            Instalment.objects.create(
                plan=repayment,
                number=number,
                due_on=TODAY + timedelta(days=number),
                amount=Decimal("1"),
            )
        legal = LegalCase.objects.create(
            case=case, holder=officer, court="Court", claim_amount=Decimal("1"), stage_since=TODAY
        )
        LegalStageEntry.objects.create(
            legal_case=legal, stage="preparing", entered_on=TODAY, by=officer
        )
        Recovery(
            case=case,
            loan_id="L",
            received_on=TODAY,
            amount=Decimal("1"),
            principal_part=Decimal("1"),
            source="borrower",
            entered_by=officer,
            entered_at=now,
        ).save(force_insert=True)
    return case.number


def _count(run: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as queries:
        run()
    return len(queries)


@pytest.mark.parametrize("size", [2, 8])
def test_query_counts_do_not_grow_with_the_rows(units: dict[str, Unit], size: int) -> None:
    officer = PersonFactory(roles=["officer", "team_lead"], units=[units["HB"]])
    team = TeamFactory(members=[officer])
    team.units.set([units["HB01"]])
    numbers = [_full_case(units["HB0101"], officer) for _ in range(size)]
    bare = case_with_loan(units["HB0101"], owner=officer).number
    officer = type(officer).objects.get(pk=officer.pk)  # no cached unit paths

    shown: list[Any] = []

    def render_list() -> None:
        for case in selectors.case_list(officer):
            shown.append((case.household.borrower_id, case.unit.code, case.owner.user.username))
            shown.append(case.team and case.team.code)

    system = selectors.system_actor()

    def render_detail() -> None:
        detail = selectors.case_detail(system, numbers[0])
        for plan in detail.plans:
            shown.extend(m.owner.user.username for m in plan.milestones.all())
            shown.extend(d.by.user.username for d in plan.decisions.all())
        for repayment in detail.repayment_plans:
            shown.extend(repayment.instalments.all())
        for legal in detail.legal_cases:
            shown.extend(s.by.user.username for s in legal.stages.all())
        for activity in detail.activities:
            shown.append(activity.person.user.username)
        for recovery in detail.recoveries:
            shown.append(recovery.entered_by.user.username)

    def render_worklist() -> None:
        for case in selectors.worklist(officer, today=TODAY):
            shown.append((case.household.borrower_id, case.unit.code))

    def render_teams() -> None:
        for listed in selectors.teams_visible(officer):
            shown.append(listed.leader.user.username)

    def render_recoveries() -> None:
        for recovery in selectors.recoveries_visible(officer):
            shown.append(recovery.case.number)

    measured = {
        "case_list": _count(render_list) - 1,  # the person's unit paths, read once
        "case_detail": _count(render_detail),
        "worklist": _count(render_worklist),
        "teams_visible": _count(render_teams),
        "recoveries_visible": _count(render_recoveries),
        # A case with nothing but its loans: the parts it lacks cost no query.
        "case_detail_bare": _count(lambda: selectors.case_detail(system, bare)),
    }
    assert measured == BASELINES
    assert len(shown) > size
