"""The one table of the web app's URLs, for the tests that walk every page.

Every named pattern of the resolver has an entry: how to build its arguments from the objects of
one unit (``Objects``), its method, whether it answers signed out, which roles use it and what
they get, and whether its object is a unit's, the bank's or one person's. A pattern without an
entry fails ``test_access_matrix``; a new page joins the tests by one line here. The access
matrix, the write audit and the language walk read this table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from npldesk.casework.choices import (
    ActivityKind,
    DocumentKind,
    JobKind,
    Outcome,
    Role,
    RunKind,
    Strategy,
)
from npldesk.casework.models import (
    Activity,
    Case,
    Document,
    Job,
    LegalCase,
    Milestone,
    Person,
    Plan,
    Recovery,
    ReminderDelivery,
    ReminderPack,
    Run,
    Team,
    Unit,
    UnitLegalDetails,
    WriteOff,
)
from npldesk.home import Home
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.org import import_org
from npldesk.tape.store import Store
from npldesk.web.roles import PAGE_ROLES
from tests.casework.factories import TeamFactory, case_with_loan
from tests.casework.world import person
from tests.tape_factory import loan_row, write_csv, write_org

ON = date(2019, 12, 31)
EVERY_ROLE = frozenset(Role.values)
# The administrator manages people, not cases: the case pages are not theirs.
CASE_ROLES = EVERY_ROLE - {Role.ADMIN}

# The roles of the pages with a gate of their own: the web app's one gate
# (``npldesk/web/roles.py``), so that a view guarded by another page's gate fails here.
TEAM_LEADS = PAGE_ROLES["teams"]
LEGAL = PAGE_ROLES["legal"]
FINANCE_DESK = PAGE_ROLES["finance"]
ADMINS = PAGE_ROLES["administration"]
DASHBOARD = PAGE_ROLES["dashboard"]
FIGURES = PAGE_ROLES["figures"]
REPORTS = PAGE_ROLES["reports"]
PLANNER = PAGE_ROLES["planner"]
# Who may import a month (``casework.services.jobs.ENQUEUERS``).
TAPE = PAGE_ROLES["tape"]
# Of the people of the case's county, those who work it (``access.works_case``): its officer
# (the owner) and the team lead of the units above it. The others who see the case do not see
# its household's personal data, and so not its documents.
WORK_THE_CASE = frozenset({Role.OFFICER, Role.TEAM_LEAD})

# What a request ends on: the page (200), a file (200, sent as an attachment), done (a redirect
# elsewhere than the sign-in page), not found (404: outside the person's scope, or a page or
# action their role never uses), or the sign-in page.
PAGE, FILE, DONE, NOT_FOUND, SIGN_IN = "page", "file", "done", "not found", "sign in"


@dataclass(frozen=True)
class Objects:
    """One unit's case and what hangs off it (a drafted document among them), for building
    the arguments of a URL; the unit's clearing team and one of its people; a tape upload and
    the month-end run (the bank's, not the unit's); the unit's reminder pack as delivered to
    one of its people."""

    unit: Unit
    case: Case
    plan: Plan
    milestone: Milestone
    recovery: Recovery
    legal: LegalCase
    writeoff: WriteOff
    document: Document
    team: Team
    staff: Person
    job: Job
    run: Run
    # The pack as delivered to the person asking (``asked_by``); to ``staff`` until then.
    delivery: ReminderDelivery
    deliveries: Mapping[str, ReminderDelivery]

    def asked_by(self, role: str) -> Objects:
        """These objects as the unit's person of ``role`` asks for them: the reminder pack is
        the one delivered to them."""
        return replace(self, delivery=self.deliveries[role])


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
    # What some of ``roles`` get in scope instead of ``answers``.
    by_role: Mapping[str, str] = field(default_factory=dict)
    # Its object is the bank's, not a unit's (a tape upload, a month-end run): another unit's
    # person's is answered as one's own.
    bank_wide: bool = False
    # Its object is one person's own (a reminder pack delivered to them): each role asks for
    # the one delivered to it; anyone else's, of its own unit or another, is not found.
    personal: bool = False
    # A fragment of a page that htmx swaps in, not a page of its own.
    fragment: bool = False

    @property
    def answers(self) -> str:
        """What a person of one of ``roles`` gets in scope."""
        if self.signed_in is not None:
            return self.signed_in
        return PAGE if self.method == "GET" else DONE

    def answers_to(self, role: str) -> str:
        """What a person of ``role`` (one of ``roles``) gets in scope."""
        return self.by_role.get(role, self.answers)

    @property
    def scoped(self) -> bool:
        """Another unit's object is not found."""
        return (self.kwargs is not None or self.query is not None) and not self.bank_wide


def _case(o: Objects) -> dict[str, Any]:
    """The case's number: the case pages' one argument."""
    return {"number": o.case.number}


def _with(name: str, pick: Callable[[Objects], Any]) -> Build:
    return lambda o: {"number": o.case.number, name: pick(o).pk}


def _unit(o: Objects) -> str:
    """The figures pages' scope: the unit asked for."""
    return f"unit={o.unit.code}"


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
    "web:case_document": Url(kwargs=_case, method=POST, roles=CASE_ROLES),
    "web:case_document_download": Url(
        kwargs=lambda o: {"number": o.case.number, "document_id": o.document.pk, "fmt": "pdf"},
        roles=CASE_ROLES,
        signed_in=FILE,
        # Sent back to the case with the reason, as when they ask for its personal data.
        by_role=dict.fromkeys(CASE_ROLES - WORK_THE_CASE, DONE),
    ),
    "web:case_writeoff": Url(kwargs=_case, method=POST, roles=CASE_ROLES),
    "web:case_writeoff_decide": Url(
        kwargs=_with("writeoff_id", lambda o: o.writeoff), method=POST, roles=CASE_ROLES
    ),
    "web:teams": Url(roles=TEAM_LEADS),
    "web:team": Url(kwargs=lambda o: {"code": o.team.code}, roles=TEAM_LEADS),
    "web:team_reassign": Url(kwargs=lambda o: {"code": o.team.code}, method=POST, roles=TEAM_LEADS),
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
    "web:admin_legal_details": Url(roles=ADMINS),
    "web:admin_unit_legal_details": Url(kwargs=lambda o: {"code": o.unit.code}, roles=ADMINS),
    "web:dashboard": Url(query=_unit, roles=DASHBOARD),
    "web:quality": Url(query=_unit, roles=FIGURES),
    "web:movement": Url(query=_unit, roles=FIGURES),
    "web:migration": Url(query=_unit, roles=FIGURES),
    "web:loan_list": Url(kwargs=lambda o: {"name": "new-npl"}, query=_unit, roles=FIGURES),
    "web:reports": Url(query=_unit, roles=REPORTS),
    "web:planner": Url(query=_unit, roles=PLANNER),
    "web:tape": Url(roles=TAPE),
    # An empty form: the page again with its errors (400).
    "web:tape_upload": Url(method=POST, roles=TAPE),
    "web:tape_job": Url(kwargs=lambda o: {"job_id": o.job.pk}, roles=TAPE, bank_wide=True),
    "web:tape_job_progress": Url(
        kwargs=lambda o: {"job_id": o.job.pk}, roles=TAPE, bank_wide=True, fragment=True
    ),
    "web:tape_run": Url(
        kwargs=lambda o: {"month": f"{o.run.as_of:%Y-%m}"}, roles=TAPE, bank_wide=True
    ),
    "web:inbox_pack": Url(kwargs=lambda o: {"delivery_id": o.delivery.pk}, personal=True),
    "web:inbox_read": Url(
        kwargs=lambda o: {"delivery_id": o.delivery.pk}, method=POST, personal=True
    ),
    "web:inbox_acknowledge": Url(
        kwargs=lambda o: {"delivery_id": o.delivery.pk}, method=POST, personal=True
    ),
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


def unit_objects(unit: Unit, people: Mapping[str, Person], home: Home) -> Objects:
    """A case in ``unit`` owned by the officer of ``people`` with a proposed plan and its
    milestone, a recovery, a legal case, a prepared write-off and a drafted document (its files
    in ``home``), and a clearing team of the unit; a tape upload of the risk analyst's and the
    month-end run of ``ON``; the unit's reminder pack, naming the case, delivered to each of
    ``people`` (test data, made directly)."""
    staff = people[Role.OFFICER]
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
    analyst = people[Role.RISK_ANALYST]
    job = Job.objects.create(
        kind=JobKind.TAPE_IMPORT,
        parameters={"name": f"{unit.code}.csv", "as_of": None, "mapping": None},
        created_by=analyst,
        created_at=now,
    )
    # One run a month for the whole bank: the units' objects share it.
    run, _ = Run.objects.get_or_create(
        kind=RunKind.MONTH_END, as_of=ON, defaults={"started_at": now, "started_by": analyst}
    )
    deliveries = _deliver(unit, case, people)
    return Objects(
        unit=unit,
        case=case,
        plan=plan,
        milestone=milestone,
        recovery=recovery,
        legal=legal,
        writeoff=writeoff,
        document=_document(case, staff, home),
        team=team,
        staff=staff,
        job=job,
        run=run,
        delivery=deliveries[Role.OFFICER],
        deliveries=deliveries,
    )


def _document(case: Case, author: Person, home: Home) -> Document:
    """A demand notice drafted from ``case``: its record, its activity and its files."""
    activity = Activity.objects.create(
        case=case,
        kind=ActivityKind.DOCUMENT,
        occurred_on=ON,
        person=author,
        outcome=Outcome.DRAFTED,
    )
    document = Document.objects.create(
        case=case,
        kind=DocumentKind.DEMAND_NOTICE,
        as_of=ON,
        snapshot_as_of=ON,
        generated_by=author,
        generated_at=timezone.now(),
        activity=activity,
    )
    files = {
        fmt: f"documents/{case.number}/{document.pk}-demand_notice-{ON.isoformat()}.{fmt}"
        for fmt in ("docx", "pdf")
    }
    for name in files.values():
        (home.path / name).parent.mkdir(parents=True, exist_ok=True)
        (home.path / name).write_bytes(b"drafted")
    Document.objects.filter(pk=document.pk).update(files=files)
    document.files = files
    return document


def _deliver(unit: Unit, case: Case, people: Mapping[str, Person]) -> dict[str, ReminderDelivery]:
    """The unit's pack for ``ON``, naming ``case`` past its deadline, delivered to each of
    ``people``: role → their delivery."""
    item = {
        "case": case.number,
        "household": case.household.borrower_id,
        "npl_balance": str(case.npl_balance),
        "owner": case.owner.name if case.owner else "",
        "deadline": "2020-01-05",
    }
    pack = ReminderPack.objects.create(
        unit=unit,
        as_of=ON,
        built_on=ON,
        built_at=timezone.now(),
        counts={"deadline_past": 1},
        sections={"deadline_past": [item]},
    )
    return {
        role: ReminderDelivery.objects.create(pack=pack, person=member, delivered_at=pack.built_at)
        for role, member in people.items()
    }


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
    # The records a bulk service leaves after its first: one per further object it changes,
    # then its run's.
    more: tuple[str, ...] = ()
    # What the write needs beyond the unit's objects, made in the web's home first.
    prepare: Callable[[Objects, Home], None] | None = None


def _day(on: date) -> str:
    return on.isoformat()


def _case_on_the_tape(o: Objects, home: Home) -> None:
    """What a document states, for ``o.case``: its loan in the December snapshot of ``home``'s
    store, and the legal details of its unit."""
    store = Store(home.store_path)
    import_org(store, write_org(home.path / "org_units.csv"), user="tester")
    household = o.case.household
    row = loan_row(
        1,
        ON,
        loan_id=o.case.loans.get().loan_id,
        borrower_id=household.borrower_id,
        org_unit=o.unit.code,
        days_past_due="120",
        reported_class="substandard",
    )
    import_files(store, [write_csv(home.path / "december.csv", [row])], ImportOptions())
    UnitLegalDetails.objects.create(
        unit=o.unit, legal_name="某某农村商业银行", address="濉溪路1号", legal_representative="赵六"
    )


# Every POST URL of the table that writes: one service call, one audit record (a bulk service:
# one per object it changes and one for its run). (Signing out and choosing the language write
# nothing of the casework.)
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
    "web:case_document": Write(
        Role.OFFICER,
        lambda o, d: {"kind": DocumentKind.DEMAND_NOTICE, "as_of": _day(d)},
        "document_generate",
        prepare=_case_on_the_tape,
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
    "web:team_reassign": Write(
        Role.TEAM_LEAD,
        lambda o, d: {
            "cases": [f"{o.case.number}:{o.case.version}"],
            "owner": o.staff.user.get_username(),
            "team": o.team.code,
            "reason": "workload",
        },
        "case_reassign_bulk",
        more=("case_reassign_bulk_run",),
    ),
    "web:tape_upload": Write(
        Role.RISK_ANALYST,
        lambda o, d: {"file": SimpleUploadedFile("2020-01.csv", b"as_of,loan_id\n", "text/csv")},
        "job_enqueue",
    ),
    "web:inbox_read": Write(Role.OFFICER, lambda o, d: {}, "reminder_delivery_read"),
    "web:inbox_acknowledge": Write(Role.OFFICER, lambda o, d: {}, "reminder_delivery_acknowledge"),
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
