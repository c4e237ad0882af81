"""The one table of the web app's URLs, for the tests that walk every page.

Every named pattern of the resolver has an entry: how to build its arguments from the objects of
one unit (``Objects``), its method, whether it answers signed out, and which roles use it. A
pattern without an entry fails ``test_access_matrix``; a new page joins the tests by one line
here. The access matrix, the write audit and the language walk read this table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from npldesk.casework.choices import Role, Strategy
from npldesk.casework.models import (
    Case,
    LegalCase,
    Milestone,
    Person,
    Plan,
    Recovery,
    Team,
    Unit,
    WriteOff,
)
from tests.casework.factories import TeamFactory, case_with_loan
from tests.casework.world import person

ON = date(2019, 12, 31)
EVERY_ROLE = frozenset(Role.values)
# The administrator manages people, not cases: the case pages are not theirs.
CASE_ROLES = EVERY_ROLE - {Role.ADMIN}

# The roles of the pages with a gate of their own (``npldesk/web/roles.py``).
TEAM_LEADS = frozenset({Role.TEAM_LEAD})
LEGAL = frozenset({Role.LEGAL})
FINANCE_DESK = frozenset({Role.FINANCE, Role.LEADER})
ADMINS = frozenset({Role.ADMIN})
DASHBOARD = frozenset({Role.LEADER, Role.RISK_ANALYST})
FIGURES = frozenset({Role.LEADER, Role.RISK_ANALYST, Role.TEAM_LEAD, Role.FINANCE})

# What a request ends on: the page (200), done (a redirect elsewhere than the sign-in page),
# not found (404: outside the person's scope, or a page or action their role never uses), or
# the sign-in page.
PAGE, DONE, NOT_FOUND, SIGN_IN = "page", "done", "not found", "sign in"


@dataclass(frozen=True)
class Objects:
    """One unit's case and what hangs off it, for building the arguments of a URL; the
    unit's clearing team and one of its people."""

    unit: Unit
    case: Case
    plan: Plan
    milestone: Milestone
    recovery: Recovery
    legal: LegalCase
    writeoff: WriteOff
    team: Team
    staff: Person


Build = Callable[[Objects], dict[str, Any]]


@dataclass(frozen=True)
class Url:
    """How to call one named URL.

    ``kwargs`` builds the path's arguments from a unit's objects and ``query`` a query string:
    a URL with either is scoped (another unit's objects are not found). ``signed_out``: what
    the signed-out get; ``signed_in``: what a person of one of ``roles`` gets (by default the
    page for a GET, done for a POST); anyone else signed in is told it is not found.
    """

    kwargs: Build | None = None
    query: Callable[[Objects], str] | None = None
    method: str = "GET"
    roles: frozenset[str] = EVERY_ROLE
    signed_out: str = SIGN_IN
    signed_in: str | None = None

    @property
    def answers(self) -> str:
        """What a person of one of ``roles`` gets in scope."""
        if self.signed_in is not None:
            return self.signed_in
        return PAGE if self.method == "GET" else DONE

    @property
    def scoped(self) -> bool:
        return self.kwargs is not None or self.query is not None


def _case(o: Objects) -> dict[str, Any]:
    """The case's number: the case pages' one argument."""
    return {"number": o.case.number}


def _with(name: str, pick: Callable[[Objects], Any]) -> Build:
    return lambda o: {"number": o.case.number, name: pick(o).pk}


POST = "POST"

# The web app's URLs by name. Namespaces not listed under EXCLUDED must all be here.
URLS: dict[str, Url] = {
    "web:login": Url(signed_out=PAGE, signed_in=DONE),
    # Signing out ends on the sign-in page, whoever asks.
    "web:logout": Url(method=POST, signed_in=SIGN_IN),
    "web:password_change": Url(),
    "web:password_change_done": Url(),
    "web:set_language": Url(method=POST, signed_out=DONE),
    "web:health": Url(signed_out=PAGE),
    "web:home": Url(),
    "web:worklist": Url(),
    "web:inbox": Url(),
    "web:cases": Url(query=lambda o: f"unit={o.unit.code}"),
    "web:case": Url(kwargs=_case, roles=CASE_ROLES),
    "web:case_personal_data": Url(kwargs=_case, method=POST, roles=CASE_ROLES),
    "web:case_activity": Url(kwargs=_case, method=POST, roles=CASE_ROLES),
    "web:case_investigation": Url(kwargs=_case, method=POST, roles=CASE_ROLES),
    "web:case_plan": Url(kwargs=_case, method=POST, roles=CASE_ROLES),
    "web:case_plan_decide": Url(
        kwargs=_with("plan_id", lambda o: o.plan), method=POST, roles=CASE_ROLES
    ),
    "web:case_milestone_done": Url(
        kwargs=_with("milestone_id", lambda o: o.milestone), method=POST, roles=CASE_ROLES
    ),
    "web:case_assign": Url(kwargs=_case, method=POST, roles=CASE_ROLES),
    "web:case_override": Url(kwargs=_case, method=POST, roles=CASE_ROLES),
    "web:case_close": Url(kwargs=_case, method=POST, roles=CASE_ROLES),
    "web:case_recovery": Url(kwargs=_case, method=POST, roles=CASE_ROLES),
    "web:case_recovery_confirm": Url(
        # Its form is empty, so the service's refusal of the other roles shows here.
        kwargs=_with("recovery_id", lambda o: o.recovery),
        method=POST,
        roles=frozenset({Role.TEAM_LEAD, Role.FINANCE}),
    ),
    "web:case_recovery_reverse": Url(
        kwargs=_with("recovery_id", lambda o: o.recovery), method=POST, roles=CASE_ROLES
    ),
    "web:case_repayment_plan": Url(kwargs=_case, method=POST, roles=CASE_ROLES),
    "web:case_legal_open": Url(kwargs=_case, method=POST, roles=CASE_ROLES),
    "web:case_legal_advance": Url(
        kwargs=_with("legal_id", lambda o: o.legal), method=POST, roles=CASE_ROLES
    ),
    "web:case_writeoff": Url(kwargs=_case, method=POST, roles=CASE_ROLES),
    "web:case_writeoff_decide": Url(
        kwargs=_with("writeoff_id", lambda o: o.writeoff), method=POST, roles=CASE_ROLES
    ),
    "web:teams": Url(roles=TEAM_LEADS),
    "web:team": Url(kwargs=lambda o: {"code": o.team.code}, roles=TEAM_LEADS),
    "web:legal": Url(roles=LEGAL),
    "web:finance": Url(roles=FINANCE_DESK),
    # The form names the case: a case outside the person's scope is refused by the form.
    "web:finance_writeoff_prepare": Url(method=POST, roles=FINANCE_DESK),
    "web:finance_writeoff_decide": Url(
        kwargs=lambda o: {"writeoff_id": o.writeoff.pk}, method=POST, roles=FINANCE_DESK
    ),
    "web:finance_recovery_confirm": Url(
        # Its form is empty, so the service's refusal of leaders shows here.
        kwargs=lambda o: {"recovery_id": o.recovery.pk},
        method=POST,
        roles=frozenset({Role.FINANCE}),
    ),
    "web:admin": Url(roles=ADMINS),
    "web:admin_person_create": Url(method=POST, roles=ADMINS),
    "web:admin_person": Url(
        kwargs=lambda o: {"username": o.staff.user.get_username()}, roles=ADMINS
    ),
    "web:admin_teams": Url(roles=ADMINS),
    "web:admin_team": Url(kwargs=lambda o: {"code": o.team.code}, roles=ADMINS),
    "web:admin_policy": Url(roles=ADMINS),
    "web:dashboard": Url(query=lambda o: f"unit={o.unit.code}", roles=DASHBOARD),
    "web:quality": Url(query=lambda o: f"unit={o.unit.code}", roles=FIGURES),
    "web:movement": Url(query=lambda o: f"unit={o.unit.code}", roles=FIGURES),
}

# URLs checked by their own view tests (named here) rather than by the matrix, each for every
# role that uses it, one that does not and a unit outside the person's scope: bulk reassignment
# writes one audit record per case it moves and one for the run, which the one-call-one-record
# write audit below does not describe; the others joined the web app after this table and are
# to move into URLS above with their objects built per unit.
OWN_TESTS: dict[str, str] = {
    "web:team_reassign": "tests/web/test_teams.py",
    "web:case_document": "tests/web/test_documents.py",
    "web:case_document_download": "tests/web/test_documents.py",
    "web:admin_legal_details": "tests/web/test_documents.py",
    "web:admin_unit_legal_details": "tests/web/test_documents.py",
    "web:tape": "tests/web/test_tape.py",
    "web:tape_upload": "tests/web/test_tape.py",
    "web:tape_job": "tests/web/test_tape.py",
    "web:tape_job_progress": "tests/web/test_tape.py",
    "web:tape_run": "tests/web/test_tape.py",
    "web:migration": "tests/web/test_migration.py",
    "web:loan_list": "tests/web/test_lists.py",
    "web:reports": "tests/web/test_reports.py",
    # A delivery is one person's: everyone else (whatever their role) is told it is not found.
    "web:inbox_pack": "tests/web/test_inbox.py",
    "web:inbox_read": "tests/web/test_inbox.py",
    "web:inbox_acknowledge": "tests/web/test_inbox.py",
    "web:planner": "tests/web/test_planner.py",
}

# Namespaces with their own tests: Django's admin (tests/casework/test_admin*.py) and the API
# (tests/web/api/test_access.py, its matrix built from the served schema).
EXCLUDED = frozenset({"admin", "api-v1"})


def resolver_names() -> Iterator[str]:
    """Every named pattern of the resolver, with its namespaces (``web:case``)."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[str]:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                namespace = entry.namespace
                if namespace in EXCLUDED:
                    continue
                yield from walk(
                    entry.url_patterns, f"{prefix}{namespace}:" if namespace else prefix
                )
            elif isinstance(entry, URLPattern) and entry.name:
                yield f"{prefix}{entry.name}"

    yield from walk(get_resolver().url_patterns, "")


def unit_objects(unit: Unit, staff: Person) -> Objects:
    """A case in ``unit`` owned by ``staff`` with a proposed plan and its milestone, a
    recovery, a legal case and a prepared write-off, and a clearing team of the unit (test
    data, made directly)."""
    case = case_with_loan(unit, owner=staff)
    now = timezone.now()
    plan = Plan.objects.create(
        case=case,
        strategy=Strategy.REPAYMENT_PLAN,
        reason="r",
        target_amount=Decimal(1),
        target_date=ON,
        proposed_by=staff,
        proposed_at=now,
    )
    milestone = Milestone.objects.create(plan=plan, task="visit", owner=staff, due_on=ON)
    loan = case.loans.get().loan_id
    recovery = Recovery.objects.create(
        case=case,
        loan_id=loan,
        received_on=ON,
        amount=Decimal(10),
        principal_part=Decimal(10),
        source="borrower",
        entered_by=staff,
        entered_at=now,
    )
    legal = LegalCase.objects.create(
        case=case, holder=staff, court="court", claim_amount=Decimal(10), stage_since=ON
    )
    writeoff = WriteOff.objects.create(
        case=case,
        loan_id=loan,
        principal=Decimal(10),
        reason="r",
        prepared_by=staff,
        prepared_on=ON,
    )
    team = TeamFactory(leader=person(Role.TEAM_LEAD, unit), members=[staff], units=[unit])
    return Objects(unit, case, plan, milestone, recovery, legal, writeoff, team, staff)


def people_of(unit: Unit) -> dict[str, Person]:
    """One person of each role working in ``unit``."""
    return {role: person(role, unit) for role in Role.values}


@dataclass(frozen=True)
class Write:
    """A valid form for a POST URL, the role that sends it, and the audit action it leaves."""

    role: str
    data: Callable[[Objects, date], dict[str, Any]]
    action: str
    # On a case with its loan only (no legal case or write-off application in the way).
    bare: bool = False


def _day(on: date) -> str:
    return on.isoformat()


# Every POST URL of the table that writes: one service call, one audit record. (Signing out and
# choosing the language write nothing of the casework.)
NOT_WRITES = frozenset({"web:logout", "web:set_language"})
WRITES: dict[str, Write] = {
    "web:case_personal_data": Write(Role.OFFICER, lambda o, d: {}, "personal_data_view"),
    "web:case_activity": Write(
        Role.OFFICER,
        lambda o, d: {
            "kind": "visit",
            "outcome": "promise",
            "occurred_at": f"{_day(d)}T10:00",
            "party": "borrower",
            "purpose": "collection",
            "promise_amount": "1500.00",
            "promise_due_on": _day(d),
        },
        "activity_record",
    ),
    "web:case_investigation": Write(
        Role.OFFICER,
        lambda o, d: {
            "investigated_on": _day(d),
            "dependants": "1",
            **dict.fromkeys(
                (
                    "monthly_income",
                    "property_value",
                    "property_encumbrances",
                    "vehicles",
                    "deposits",
                    "business_assets",
                ),
                "0",
            ),
        },
        "investigation_record",
    ),
    "web:case_plan": Write(
        Role.OFFICER,
        lambda o, d: {
            "strategy": Strategy.REPAYMENT_PLAN,
            "reason": "pays from the harvest",
            "target_amount": "5000",
            "target_date": _day(d),
        },
        "plan_propose",
    ),
    "web:case_plan_decide": Write(
        Role.TEAM_LEAD,
        lambda o, d: {"version": o.plan.version, "approve": "1", "note": "agreed"},
        "plan_decide",
    ),
    "web:case_milestone_done": Write(
        Role.OFFICER, lambda o, d: {"done_on": _day(d)}, "milestone_complete"
    ),
    "web:case_assign": Write(
        Role.TEAM_LEAD,
        lambda o, d: {
            "version": o.case.version,
            "owner": o.case.owner.user.get_username() if o.case.owner else "",
            "team": "",
            "reason": "workload",
        },
        "case_assign",
    ),
    "web:case_override": Write(
        Role.TEAM_LEAD,
        lambda o, d: {"version": o.case.version, "tier": "long", "reason": "large balance"},
        "case_override",
    ),
    "web:case_close": Write(
        Role.TEAM_LEAD,
        lambda o, d: {
            "version": o.case.version,
            "reason": "settled",
            "closed_on": _day(d),
            "note": "paid in full",
        },
        "case_close",
        bare=True,
    ),
    "web:case_recovery": Write(
        Role.OFFICER,
        lambda o, d: {
            "loan_id": o.recovery.loan_id,
            "received_on": _day(d),
            "amount": "200.00",
            "source": "borrower",
        },
        "recovery_enter",
    ),
    "web:case_recovery_confirm": Write(Role.FINANCE, lambda o, d: {}, "recovery_confirm"),
    "web:case_recovery_reverse": Write(
        Role.FINANCE,
        lambda o, d: {"reversed_on": _day(d), "reason": "bounced"},
        "recovery_reverse",
    ),
    "web:case_repayment_plan": Write(
        Role.OFFICER,
        lambda o, d: {
            "kind": "full",
            "agreed_on": _day(d),
            "discount": "0",
            "instalments": f"{_day(d)} 100000",
        },
        "repayment_plan_agree",
    ),
    "web:case_legal_open": Write(
        Role.LEGAL,
        lambda o, d: {"court": "相山区人民法院", "claim_amount": "50000", "opened_on": _day(d)},
        "legal_case_open",
    ),
    "web:case_legal_advance": Write(
        Role.LEGAL,
        lambda o, d: {"version": o.legal.version, "stage": "filed", "entered_on": _day(d)},
        "legal_case_advance",
    ),
    "web:case_writeoff": Write(
        Role.FINANCE,
        lambda o, d: {
            "loan_id": o.case.loans.get().loan_id,
            "principal": "100.00",
            "interest": "0",
            "prepared_on": _day(d),
            "reason": "no assets",
        },
        "writeoff_prepare",
        bare=True,
    ),
    "web:case_writeoff_decide": Write(
        Role.FINANCE,
        lambda o, d: {"version": o.writeoff.version, "approve": "1", "note": "checked"},
        "writeoff_decide",
    ),
    "web:finance_writeoff_prepare": Write(
        Role.FINANCE,
        lambda o, d: {
            "case": o.case.number,
            "loan_id": o.case.loans.get().loan_id,
            "principal": "100.00",
            "interest": "0",
            "prepared_on": _day(d),
            "reason": "no assets",
        },
        "writeoff_prepare",
        bare=True,
    ),
    "web:finance_writeoff_decide": Write(
        Role.FINANCE,
        lambda o, d: {"version": o.writeoff.version, "approve": "1", "note": "checked"},
        "writeoff_decide",
    ),
    "web:finance_recovery_confirm": Write(Role.FINANCE, lambda o, d: {}, "recovery_confirm"),
    "web:admin_person_create": Write(
        Role.ADMIN,
        lambda o, d: {
            "username": "new-officer",
            "name": "新来的信贷员",
            "roles": ["officer"],
            "units": [o.unit.code],
        },
        "person_create",
    ),
}
