"""The demo's casework: people, teams, and a casework history that agrees with the loan tape.

``build_demo_casework`` runs after the synthetic tape is imported (``npldesk.demo.build``). It
syncs the units from the organisation file, creates the demo staff (one user per role, the leads of
the county branches, and every loan officer the tape names, so that cases get owners), the
clearing teams and a task force, then walks the months: the work of each month is entered
through the services, dated inside that month, and the month-end sync runs on its snapshot.

The tape is the truth the history follows:

- every loan's share of the NPL movement's ``cash`` line in a month (read from the analytics'
  movement itself, grouped by loan) is entered as a recovery from the borrower in that month,
  for its principal, so that the reconciliation of casework against the movement agrees;
  promises made before such a payment are kept, and repayment plans are agreed on payments the
  tape shows coming;
- a loan the tape writes off (its share of the movement's ``write_off`` line) has its write-off
  prepared, reviewed and approved in the month before its ``written_off`` row arrives; small
  recoveries follow on written-off loans;
- promises to households that then pay nothing are broken, and one repayment plan is agreed
  with a household that never pays again (breached).

Investigations, activities, disposal plans and legal cases are entered for a seeded sample of
the cases (``RICH_SHARE``): the whole history for every case would make the demo several
minutes longer. Recoveries and write-offs are entered for every case. Everything is drawn from
one seeded random generator: the same book gives the same history.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from django.db import transaction
from django.db.models import Count, Sum

from npldesk.casework import services, validation
from npldesk.casework.choices import (
    LEGAL_STAGE_ORDER,
    LEGAL_STRATEGIES,
    ActivityKind,
    CaseState,
    LegalStage,
    Outcome,
    PlanState,
    RecoverySource,
    RepaymentPlanKind,
    Role,
    Strategy,
    TeamKind,
)
from npldesk.casework.models import Case, CaseLoan, LegalCase, Person, Plan, Recovery, Team
from npldesk.casework.selectors import system_actor
from npldesk.core.months import month_label

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
# Share of cases that get the full history (investigation, activities, plan, legal case).
RICH_SHARE = 0.25
# Share of payments that a promise made a few days earlier announces.
PROMISED_SHARE = 0.3
# Share of recoveries a second person confirms (finance), and of written-off loans on which
# something is recovered in a month.
CONFIRMED_SHARE = 0.15
AFTER_WRITE_OFF_SHARE = 0.08
BREACHED_PLANS = 2

Progress = Callable[[str], None]


# The department each demo role works in (article point A12: departments work together).
ROLE_DEPARTMENT = {
    "officer": "retail",
    "team_lead": "retail",
    "legal": "legal",
    "finance": "finance",
    "risk_analyst": "risk",
    "leader": "office",
    "admin": "office",
}


# -- the people -----------------------------------------------------------------------------

# (username, name, roles, units): one per role; officers and leads work in county branches.
NAMED_STAFF: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("demo-officer", "周敏 (officer)", (Role.OFFICER,), ("HB01", "HB02")),
    ("lead-hb01", "陈强 (lead, 相山区)", (Role.TEAM_LEAD,), ("HB01",)),
    ("lead-hb02", "刘洋 (lead, 杜集区)", (Role.TEAM_LEAD,), ("HB02",)),
    ("lead-hb03", "杨磊 (lead, 烈山区)", (Role.TEAM_LEAD,), ("HB03",)),
    ("lead-hb04", "赵军 (lead, 濉溪县 and 经开区)", (Role.TEAM_LEAD,), ("HB04", "HB05")),
    ("demo-legal", "黄静 (legal)", (Role.LEGAL,), ("HB00",)),
    ("demo-finance", "吴芳 (finance)", (Role.FINANCE,), ("HB00",)),
    ("demo-finance-2", "徐丽 (finance, reviewer)", (Role.FINANCE,), ("HB00",)),
    ("demo-risk", "孙娜 (risk analyst)", (Role.RISK_ANALYST,), ("HB00",)),
    ("demo-leader", "胡建国 (leader)", (Role.LEADER,), ("HB00",)),
    ("demo-admin", "朱涛 (admin)", (Role.ADMIN,), ("HB00",)),
)
# Clearing teams (the article's four, assisting the county branches) and the task force.
CLEARING_TEAMS = (
    ("CT1", "第一清收组", "lead-hb01", ("HB01",)),
    ("CT2", "第二清收组", "lead-hb02", ("HB02",)),
    ("CT3", "第三清收组", "lead-hb03", ("HB03",)),
    ("CT4", "第四清收组", "lead-hb04", ("HB04", "HB05")),
)
TASK_FORCE = ("TF1", "党员清收突击队", "lead-hb01")
TASK_FORCE_CASES = 8


@dataclass(frozen=True)
class Credential:
    """A demo user and the password generated for them (shown once)."""

    username: str
    roles: tuple[str, ...]
    units: tuple[str, ...]
    password: str


@dataclass
class DemoCasework:
    """What ``build_demo_casework`` made."""

    credentials: list[Credential]
    sample_share: float
    counts: dict[str, int] = field(default_factory=dict)


# -- what the tape says will happen ---------------------------------------------------------


@dataclass(frozen=True)
class Payment:
    """A household's fall in NPL balance in one month: what it paid, loan by loan."""

    borrower_id: str
    on: date
    by_loan: tuple[tuple[str, Decimal], ...]

    @property
    def amount(self) -> Decimal:
        return sum((amount for _, amount in self.by_loan), ZERO)


@dataclass(frozen=True)
class WriteOffRow:
    """A loan the tape writes off in a month, and the principal it takes off the books."""

    borrower_id: str
    loan_id: str
    principal: Decimal


@dataclass
class Tape:
    """Per month, the payments and write-offs the tape shows (from the step into that month)."""

    payments: dict[date, list[Payment]]
    write_offs: dict[date, list[WriteOffRow]]
    npl_at_end: set[str]

    def paid_in(self, borrower_id: str, months: list[date]) -> bool:
        return any(p.borrower_id == borrower_id for m in months for p in self.payments.get(m, []))

    def future_payments(self, borrower_id: str, after: date) -> list[Payment]:
        return sorted(
            (
                p
                for m, ps in self.payments.items()
                if m > after
                for p in ps
                if p.borrower_id == borrower_id
            ),
            key=lambda p: p.on,
        )

    def written_off_later(self, borrower_id: str, after: date) -> bool:
        return any(
            w.borrower_id == borrower_id
            for m, ws in self.write_offs.items()
            if m > after
            for w in ws
        )


def _read_tape(session: Any, months: list[date], rng: random.Random) -> Tape:
    """Each month's payments and write-offs, loan by loan, as the NPL movement counts them.

    A loan's share of the movement's ``cash`` line (``npl_movement_step`` grouped by loan, the
    function every report uses; docs/figures.md, "NPL movement") is what its household paid on
    it that month, and its share of ``write_off`` the principal its write-off takes off the
    books. Both lines count loans NPL the month before only, whose household that snapshot names.
    """
    from npldesk.analytics.movement import npl_movement_step

    payments: dict[date, list[Payment]] = {}
    write_offs: dict[date, list[WriteOffRow]] = {}
    for before_month, month in pairwise(months):
        previous = session.classified(before_month)
        step = npl_movement_step(previous, session.classified(month), by="loan_id")
        moved = step.filter((step.cash > 0) | (step.write_off > 0))
        households = previous.select(_loan=previous.loan_id, borrower_id=previous.borrower_id)
        joined = moved.inner_join(households, moved.key == households._loan)
        rows = session.rows(
            joined.select(
                loan_id=joined.key,
                borrower_id=joined.borrower_id,
                cash=joined.cash,
                write_off=joined.write_off,
            ).order_by(["borrower_id", "loan_id"])
        )
        by_household: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
        month_write_offs = []
        for row in rows:
            cash = Decimal(row["cash"]).quantize(CENT)
            if cash > 0:
                by_household[row["borrower_id"]].append((row["loan_id"], cash))
            principal = Decimal(row["write_off"]).quantize(CENT)
            if principal > 0:
                month_write_offs.append(WriteOffRow(row["borrower_id"], row["loan_id"], principal))
        first = before_month + timedelta(days=1)
        payments[month] = [
            Payment(borrower, _day_in(rng, first, month, low=8), tuple(loans))
            for borrower, loans in sorted(by_household.items())
        ]
        write_offs[month] = month_write_offs
    last = session.classified(months[-1])
    npl = last.filter(last.is_npl & (last.status == "active")).select("borrower_id").distinct()
    npl_at_end = {row["borrower_id"] for row in session.rows(npl)}
    return Tape(payments, write_offs, npl_at_end)


def _day_in(rng: random.Random, first: date, last: date, *, low: int = 1, high: int = 31) -> date:
    """A day of the month from ``first`` to ``last`` (its end), between days low and high."""
    low_day = first + timedelta(days=low - 1)
    high_day = min(last, first + timedelta(days=high - 1))
    if low_day > high_day:
        low_day = first
    return low_day + timedelta(days=rng.randrange((high_day - low_day).days + 1))


# -- the build ------------------------------------------------------------------------------


def build_demo_casework(
    home: Any,
    *,
    seed: int = 20191231,
    rich_share: float = RICH_SHARE,
    progress: Progress | None = None,
) -> DemoCasework:
    """Build the demo's casework in ``home`` (tape imported, Django set up on its database).

    ``rich_share`` of the cases get investigations, activities, plans and legal cases.
    """
    from npldesk.analytics.session import Analytics
    from npldesk.casework.sync import cases_sync, loans_for_sync, units_from_store

    say = progress or (lambda _message: None)
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    session = Analytics.for_home(home)
    months = session.months()
    units_from_store(home.store_path, actor=system_actor())
    say("creating the demo staff and teams")
    credentials, people = _create_people(session, months, rng)
    with transaction.atomic():
        teams = _create_teams(people, months[0])
    say("reading what the tape will show")
    tape = _read_tape(session, months, rng)
    history = History(
        rng=rng, people=people, teams=teams, tape=tape, months=months, rich_share=rich_share
    )
    for index, month in enumerate(months):
        say(f"casework {month_label(month)}")
        # One transaction per month: the services nest in it (savepoints), and a month costs
        # one commit (one disk flush) rather than one per service call.
        with transaction.atomic():
            if index:
                history.work_month(months[index - 1], month)
            rows = loans_for_sync(home, month, session=session)
            cases_sync(actor=people["demo-risk"], as_of=month, loans=rows)
            history.after_sync(month)
    services.cases_judge(actor=people["demo-risk"], today=months[-1])
    return DemoCasework(credentials, rich_share, dict(history.counts))


def _officers(session: Any, months: list[date]) -> list[tuple[str, str]]:
    """Every officer the tape names, with the unit of their loans."""
    import ibis

    tables = [session.figures(m).select("officer_id", "org_unit") for m in months]
    both = ibis.union(*tables, distinct=True) if len(tables) > 1 else tables[0].distinct()
    officers = both.filter(both.officer_id.notnull() & (both.officer_id != ""))
    grouped = officers.group_by("officer_id").aggregate(org_unit=officers.org_unit.min())
    return [(r["officer_id"], r["org_unit"]) for r in session.rows(grouped.order_by("officer_id"))]


def _create_people(
    session: Any, months: list[date], rng: random.Random
) -> tuple[list[Credential], dict[str, Person]]:
    import secrets

    wanted: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = list(NAMED_STAFF)
    wanted += [
        (officer, f"客户经理 {officer}", (Role.OFFICER,), (unit,))
        for officer, unit in _officers(session, months)
    ]
    credentials, people = [], {}
    with transaction.atomic():
        for username, name, roles, units in wanted:
            password = secrets.token_urlsafe(12)
            people[username] = services.person_create(
                actor=system_actor(),
                username=username,
                name=name,
                roles=list(roles),
                unit_codes=list(units),
                password=password,
                department_codes=sorted({ROLE_DEPARTMENT[role] for role in roles}),
            )
            credentials.append(Credential(username, roles, units, password))
    return credentials, people


def _create_teams(people: dict[str, Person], first_month: date) -> dict[str, Team]:
    start = first_month.replace(day=1)
    officers_by_county: dict[str, list[Person]] = defaultdict(list)
    for username, person in people.items():
        if person.has_role(Role.OFFICER) and "-" in username and username[:2] == "HB":
            officers_by_county[username[:4]].append(person)
    teams = {}
    for code, name, leader, counties in CLEARING_TEAMS:
        members = [p for county in counties for p in officers_by_county[county]]
        if "HB01" in counties or "HB02" in counties:
            members.append(people["demo-officer"])
        teams[code] = services.team_create(
            actor=system_actor(),
            code=code,
            name=name,
            kind=TeamKind.CLEARING_TEAM,
            leader=people[leader],
            members=members,
            unit_codes=list(counties),
            active_from=start,
        )
    code, name, leader = TASK_FORCE
    volunteers = [officers_by_county[c][0] for c in sorted(officers_by_county)[:4]]
    teams[code] = services.team_create(
        actor=system_actor(),
        code=code,
        name=name,
        kind=TeamKind.TASK_FORCE,
        leader=people[leader],
        members=[people["demo-officer"], *volunteers],
        # The task force works the counties its volunteers come from (members are chosen from
        # the units a team works in).
        unit_codes=[county for *_, counties in CLEARING_TEAMS for county in counties],
        active_from=start,
    )
    return teams


# -- the months -----------------------------------------------------------------------------

# A household's conduct in the sample, drawn once from what the tape shows of it.
PAYER, PARTLY, UNWILLING, UNREACHABLE, UNABLE = (
    "payer",
    "partly",
    "unwilling",
    "unreachable",
    "unable",
)
PERSONA_STRATEGY = {
    PAYER: Strategy.NEGOTIATED_REPAYMENT,
    PARTLY: Strategy.REPAYMENT_PLAN,
    UNWILLING: Strategy.LAWYERS_LETTER_LITIGATION,
    UNREACHABLE: Strategy.TRACE_AND_LITIGATE,
    UNABLE: Strategy.LITIGATION_ENFORCEMENT,
}
# Final legal stage a legal case is walked to, round-robin, so that every stage is present.
LEGAL_TARGETS = LEGAL_STAGE_ORDER


@dataclass
class CaseStory:
    """What the demo has done and means to do on one sampled case."""

    persona: str
    investigated: bool = False
    plan_state: str = ""
    legal_case_id: int | None = None
    legal_target: str = ""
    repayment_plan: bool = False


Event = tuple[date, int, Callable[[], None]]


@dataclass
class History:
    rng: random.Random
    people: dict[str, Person]
    teams: dict[str, Team]
    tape: Tape
    months: list[date]
    rich_share: float = RICH_SHARE
    stories: dict[int, CaseStory] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    legal_cases: int = 0
    breached: int = 0
    task_force_done: bool = False

    # -- helpers ---------------------------------------------------------------------------

    def lead_for(self, case: Case) -> Person:
        county = case.unit.code[:4]
        for _code, _name, leader, counties in CLEARING_TEAMS:
            if county in counties:
                return self.people[leader]
        return self.people["lead-hb01"]

    def worker(self, case: Case) -> Person:
        return case.owner if case.owner is not None else self.lead_for(case)

    def team_for(self, case: Case) -> Team | None:
        county = case.unit.code[:4]
        for code, _name, _leader, counties in CLEARING_TEAMS:
            if county in counties:
                return self.teams[code]
        return None

    # -- after each sync: new cases to teams, stories for the sample -----------------------

    def after_sync(self, month: date) -> None:
        new_cases = Case.objects.filter(opened_on=month).select_related(
            "unit", "owner", "household"
        )
        for case in new_cases.order_by("number"):
            if self.rng.random() >= self.rich_share or month == self.months[-1]:
                continue
            self.stories[case.pk] = CaseStory(self._persona(case.household.borrower_id, month))
            # The sampled cases are worked with the county's clearing team (the others keep
            # the owner the sync gave them, without a team).
            team = self.team_for(case)
            if team is not None:
                services.case_assign(
                    actor=self.lead_for(case),
                    case=case,
                    version=case.version,
                    owner=case.owner,
                    team=team,
                    reason="new NPL case to the county's clearing team",
                )
        if not self.task_force_done and month >= self.months[len(self.months) // 2]:
            self._task_force(month)

    def _persona(self, borrower_id: str, month: date) -> str:
        if self.tape.written_off_later(borrower_id, month):
            return UNABLE
        future = self.tape.future_payments(borrower_id, month)
        if len(future) >= 2:
            return PAYER if self.rng.random() < 0.5 else PARTLY
        if future:
            return PARTLY
        return UNWILLING if self.rng.random() < 0.6 else UNREACHABLE

    def _task_force(self, month: date) -> None:
        """The task force takes the largest open cases of unwilling or unreachable households."""
        hard = [
            pk for pk, story in self.stories.items() if story.persona in (UNWILLING, UNREACHABLE)
        ]
        cases = (
            Case.objects.filter(pk__in=hard, closed_on__isnull=True)
            .select_related("unit", "owner")
            .order_by("-npl_balance", "number")[:TASK_FORCE_CASES]
        )
        for case in cases:
            services.case_assign(
                actor=self.lead_for(case),
                case=case,
                version=case.version,
                owner=case.owner,
                team=self.teams[TASK_FORCE[0]],
                reason=f"hard case for the task force ({month_label(month)})",
            )
            self.counts["task_force_cases"] += 1
        self.task_force_done = True

    # -- the work of one month, before its sync --------------------------------------------

    def work_month(self, previous: date, month: date) -> None:
        first = previous + timedelta(days=1)
        events: list[Event] = []
        open_cases = {
            case.household.borrower_id: case
            for case in Case.objects.filter(closed_on__isnull=True).select_related(
                "household", "unit", "owner"
            )
        }
        paying = {payment.borrower_id for payment in self.tape.payments[month]}
        for payment in self.tape.payments[month]:
            case = open_cases.get(payment.borrower_id)
            if case is not None:
                events += self._payment_events(case, payment, first)
        for row in self.tape.write_offs[month]:
            case = open_cases.get(row.borrower_id)
            if case is not None:
                events += self._write_off_events(case, row, first, month)
        for case in open_cases.values():
            story = self.stories.get(case.pk)
            if story is not None:
                events += self._story_events(
                    case, story, first, month, case.household.borrower_id in paying
                )
        events += self._after_write_off_events(first, month)
        if not self.breached and month >= self.months[-4]:
            events += self._breached_plans(open_cases, first, month)
        for _on, _order, action in sorted(events, key=lambda e: (e[0], e[1])):
            action()

    def _event(self, on: date, action: Callable[[], None]) -> Event:
        self.counts["events"] += 1
        return (on, self.counts["events"], action)

    # payments: a promise before some of them, the recovery on the day, a confirmation

    def _payment_events(self, case: Case, payment: Payment, first: date) -> list[Event]:
        events = []
        worker = self.worker(case)
        story = self.stories.get(case.pk)
        # A household on a repayment plan pays its instalments; no promise competes for them.
        promised = story is None or not story.repayment_plan
        if promised and self.rng.random() < PROMISED_SHARE:
            made = max(first, payment.on - timedelta(days=self.rng.randint(3, 10)))

            def promise(case_pk: int = case.pk, on: date = made) -> None:
                services.activity_record(
                    actor=worker,
                    case=Case.objects.get(pk=case_pk),
                    kind=self.rng.choice([ActivityKind.PHONE, ActivityKind.VISIT]),
                    occurred_at=self._at(on),
                    outcome=Outcome.PROMISE,
                    notes="promised to pay",
                    promise_amount=payment.amount,
                    promise_due_on=payment.on,
                )
                self.counts["promises"] += 1

            events.append(self._event(made, promise))
        confirm = self.rng.random() < CONFIRMED_SHARE

        def pay(case_pk: int = case.pk) -> None:
            fresh = Case.objects.get(pk=case_pk)
            for loan_id, amount in payment.by_loan:
                recovery = services.recovery_enter(
                    actor=worker,
                    case=fresh,
                    loan_id=loan_id,
                    received_on=payment.on,
                    amount=amount,
                    principal_part=amount,
                    source=RecoverySource.BORROWER,
                    note="repayment seen in the month-end tape",
                )
                self.counts["recoveries"] += 1
                if confirm:
                    services.recovery_confirm(actor=self.people["demo-finance"], recovery=recovery)

        events.append(self._event(payment.on, pay))
        return events

    # write-offs: prepared, reviewed and approved before the tape's written_off row

    def _write_off_events(
        self, case: Case, row: WriteOffRow, first: date, month: date
    ) -> list[Event]:
        prepared = first + timedelta(days=2)

        def chain(case_pk: int = case.pk) -> None:
            fresh = Case.objects.get(pk=case_pk)
            writeoff = services.writeoff_prepare(
                actor=self.people["demo-finance"],
                case=fresh,
                loan_id=row.loan_id,
                principal=row.principal,
                interest=(row.principal * Decimal("0.08")).quantize(CENT),
                prepared_on=prepared,
                reason="recovery exhausted: borrower unable to repay, collateral insufficient",
            )
            writeoff = services.writeoff_decide(
                actor=self.people["demo-finance-2"],
                writeoff=writeoff,
                version=writeoff.version,
                approve=True,
                note="documents complete",
                on=prepared,
            )
            services.writeoff_decide(
                actor=self.people["demo-leader"],
                writeoff=writeoff,
                version=writeoff.version,
                approve=True,
                note="approved; the case stays open for recovery after write-off",
                on=min(month, prepared + timedelta(days=10)),
            )
            self.counts["writeoffs"] += 1

        return [self._event(prepared, chain)]

    def _after_write_off_events(self, first: date, month: date) -> list[Event]:
        loans = (
            CaseLoan.objects.filter(case__closed_on__isnull=True, status="written_off")
            .select_related("case__owner", "case__unit")
            .order_by("case__number", "loan_id")
        )
        events = []
        for loan in loans:
            if self.rng.random() >= AFTER_WRITE_OFF_SHARE:
                continue
            on = _day_in(self.rng, first, month, low=5, high=25)
            amount = Decimal(self.rng.randrange(200, 5000)).quantize(CENT)
            source = self.rng.choice(
                [
                    RecoverySource.BORROWER,
                    RecoverySource.GUARANTOR,
                    RecoverySource.COURT_ENFORCEMENT,
                ]
            )

            def recover(
                loan: CaseLoan = loan, on: date = on, amount: Decimal = amount, source: str = source
            ) -> None:
                case = Case.objects.get(pk=loan.case_id)
                # Never more than the written-off loan can still owe (casework refuses it).
                amount = min(amount, validation.recoverable(case, CaseLoan.objects.get(pk=loan.pk)))
                if amount <= 0:
                    return
                services.recovery_enter(
                    actor=self.worker(loan.case),
                    case=case,
                    loan_id=loan.loan_id,
                    received_on=on,
                    amount=amount,
                    principal_part=amount,
                    source=source,
                    note="recovered after write-off",
                )
                self.counts["recoveries_after_write_off"] += 1

            events.append(self._event(on, recover))
        return events

    def _breached_plans(self, open_cases: dict[str, Case], first: date, month: date) -> list[Event]:
        """Repayment plans with households the tape shows never paying again."""
        rest = [m for m in self.months if m >= month]
        candidates = [
            case
            for borrower, case in sorted(open_cases.items())
            if borrower in self.tape.npl_at_end
            and not self.tape.paid_in(borrower, rest)
            and not case.written_off
            and not (self.stories.get(case.pk) and self.stories[case.pk].repayment_plan)
        ][:BREACHED_PLANS]
        events = []
        agreed = first + timedelta(days=5)
        for case in candidates:
            share = (case.npl_balance / 10).quantize(CENT)
            dues = [agreed + timedelta(days=30 * n) for n in (1, 2, 3)]

            def agree(case: Case = case, share: Decimal = share, dues: list[date] = dues) -> None:
                services.repayment_plan_agree(
                    actor=self.worker(case),
                    case=Case.objects.get(pk=case.pk),
                    kind=RepaymentPlanKind.SETTLEMENT,
                    agreed_on=agreed,
                    instalments=[(due, share) for due in dues],
                    discount=(case.npl_balance * Decimal("0.7")).quantize(CENT),
                )
                self.counts["repayment_plans"] += 1

            events.append(self._event(agreed, agree))
            self.breached += 1
        return events

    # the sampled cases: investigation, contacts, plan, promises broken, legal case

    def _story_events(
        self, case: Case, story: CaseStory, first: date, month: date, pays: bool
    ) -> list[Event]:
        events: list[Event] = []
        worker = self.worker(case)
        rng = self.rng
        if not story.investigated:
            contact_on = _day_in(rng, first, month, low=1, high=4)
            outcome = Outcome.NO_ANSWER if story.persona == UNREACHABLE else Outcome.CONTACTED
            events.append(
                self._event(
                    contact_on,
                    self._activity(case, worker, ActivityKind.PHONE, contact_on, outcome),
                )
            )
            investigated_on = _day_in(rng, first, month, low=5, high=7)
            events.append(
                self._event(
                    investigated_on, self._investigation(case, worker, story, investigated_on)
                )
            )
            story.investigated = True
            propose_on = _day_in(rng, first, month, low=15, high=18)
            events.append(self._event(propose_on, self._proposal(case, worker, story, propose_on)))
            return events
        if story.plan_state == PlanState.PROPOSED:
            events.append(
                self._event(_day_in(rng, first, month, low=1, high=3), self._decision(case, story))
            )
        elif story.plan_state == PlanState.REJECTED:
            propose_on = _day_in(rng, first, month, low=4, high=6)
            events.append(self._event(propose_on, self._proposal(case, worker, story, propose_on)))
        # Contacts of the month, as the household behaves.
        kinds_outcomes = {
            PAYER: [(ActivityKind.PHONE, Outcome.CONTACTED)],
            PARTLY: [
                (ActivityKind.VISIT, Outcome.CONTACTED),
                (ActivityKind.NEGOTIATION, Outcome.CONTACTED),
            ],
            UNWILLING: [
                (ActivityKind.VISIT, Outcome.REFUSAL),
                (ActivityKind.PHONE, Outcome.DISPUTE),
            ],
            UNREACHABLE: [
                (ActivityKind.PHONE, Outcome.NO_ANSWER),
                (ActivityKind.SMS, Outcome.NO_ANSWER),
                (ActivityKind.ASSET_SEARCH, Outcome.CONTACTED),
            ],
            UNABLE: [
                (ActivityKind.VISIT, Outcome.CONTACTED),
                (ActivityKind.GUARANTOR_CONTACT, Outcome.REFUSAL),
            ],
        }[story.persona]
        kind, outcome = rng.choice(kinds_outcomes)
        on = _day_in(rng, first, month, low=7, high=12)
        events.append(self._event(on, self._activity(case, worker, kind, on, outcome)))
        if not pays and story.persona in (PARTLY, UNWILLING, UNABLE) and rng.random() < 0.3:
            made = _day_in(rng, first, month, low=2, high=6)
            due = made + timedelta(days=10)
            events.append(self._event(made, self._broken_promise(case, worker, made, due)))
        if (
            story.persona in (PAYER, PARTLY)
            and not story.repayment_plan
            and story.plan_state == PlanState.APPROVED
        ):
            future = self.tape.future_payments(case.household.borrower_id, month)
            if len(future) >= 2:
                agreed = _day_in(rng, first, month, low=20, high=24)
                story.repayment_plan = True
                events.append(
                    self._event(agreed, self._repayment_plan(case, worker, agreed, future[:6]))
                )
        if (
            story.persona in (UNWILLING, UNREACHABLE, UNABLE)
            and story.plan_state == PlanState.APPROVED
        ):
            events += self._legal_events(case, story, first, month)
        return events

    def _at(self, on: date) -> datetime:
        """A time within the contact hours (09:00-18:59), spread without drawing from the
        random stream (the demo's figures stay as they were)."""
        n = self.counts["activities"] + self.counts["promises"]
        return datetime.combine(on, time(9 + n % 10, (7 * n) % 60))

    def _activity(
        self, case: Case, worker: Person, kind: str, on: date, outcome: str
    ) -> Callable[[], None]:
        def record() -> None:
            services.activity_record(
                actor=worker,
                case=Case.objects.get(pk=case.pk),
                kind=kind,
                occurred_at=self._at(on),
                outcome=outcome,
            )
            self.counts["activities"] += 1

        return record

    def _broken_promise(
        self, case: Case, worker: Person, made: date, due: date
    ) -> Callable[[], None]:
        amount = max(Decimal("500.00"), (case.npl_balance * Decimal("0.05")).quantize(CENT))

        def record() -> None:
            services.activity_record(
                actor=worker,
                case=Case.objects.get(pk=case.pk),
                kind=ActivityKind.PHONE,
                occurred_at=self._at(made),
                outcome=Outcome.PROMISE,
                notes="promised a part payment",
                promise_amount=amount,
                promise_due_on=due,
            )
            self.counts["promises"] += 1

        return record

    def _investigation(
        self, case: Case, worker: Person, story: CaseStory, on: date
    ) -> Callable[[], None]:
        balance = case.npl_balance or Decimal("10000.00")
        # Means against the NPL balance: able (≥ 1), partly able (≥ 0.3) or unable.
        cover = {PAYER: 1.3, PARTLY: 0.5, UNWILLING: 1.2, UNREACHABLE: 0.2, UNABLE: 0.1}[
            story.persona
        ]
        means = balance * Decimal(str(cover))
        income = (means * Decimal("0.4") / 12).quantize(CENT)
        house = (means * Decimal("0.6")).quantize(CENT)
        rng = self.rng
        properties = [
            {
                "type": "house",
                "location": case.unit.name,
                "estimated_value": str(house),
                "encumbrances": "0",
            }
        ]
        family = rng.choice(
            ["married, two children", "married", "single", "widowed, one dependant"]
        )
        job = {
            PAYER: "business recovering",
            PARTLY: "business closed after losses",
            UNWILLING: "running a shop",
            UNREACHABLE: "left for work elsewhere",
            UNABLE: "unemployed, ill",
        }[story.persona]

        def record() -> None:
            services.investigation_record(
                actor=worker,
                case=Case.objects.get(pk=case.pk),
                investigated_on=on,
                monthly_income=income,
                properties=properties,
                family_status=family,
                dependants=rng.randint(0, 3),
                income_source="wages and small business",
                employment_state=job,
                contactability="reachable"
                if story.persona != UNREACHABLE
                else "phone off, not at home",
                notes="home visit and village committee",
            )
            self.counts["investigations"] += 1

        return record

    def _proposal(
        self, case: Case, worker: Person, story: CaseStory, on: date
    ) -> Callable[[], None]:
        strategy = PERSONA_STRATEGY[story.persona]
        story.plan_state = PlanState.PROPOSED

        def record() -> None:
            fresh = Case.objects.get(pk=case.pk)
            services.plan_propose(
                actor=worker,
                case=fresh,
                strategy=strategy,
                reason=f"{story.persona} household: {Strategy(strategy).label}",
                target_amount=fresh.npl_balance,
                target_date=fresh.deadline,
                milestones=[
                    ("contact the household and guarantors", worker, on + timedelta(days=14)),
                    ("agree repayment or file the claim", worker, on + timedelta(days=60)),
                ],
            )
            self.counts["plans"] += 1

        return record

    def _decision(self, case: Case, story: CaseStory) -> Callable[[], None]:
        approve = self.rng.random() >= 0.12
        story.plan_state = PlanState.APPROVED if approve else PlanState.REJECTED

        def record() -> None:
            plan = Plan.objects.filter(case_id=case.pk, state=PlanState.PROPOSED).first()
            if plan is None:
                return
            services.plan_decide(
                actor=self.lead_for(case),
                plan=plan,
                version=plan.version,
                approve=approve,
                note="approved" if approve else "investigate the guarantors first",
            )

        return record

    def _repayment_plan(
        self, case: Case, worker: Person, agreed: date, future: list[Payment]
    ) -> Callable[[], None]:
        dues = [(p.on, p.amount) for p in future if p.on > agreed]

        def record() -> None:
            if not dues:
                return
            current = Case.objects.get(pk=case.pk)
            # The tape's later payments: a full repayment when they cover the debt, else a
            # settlement for what they come to.
            full = sum((amount for _, amount in dues), Decimal(0)) >= current.balance
            services.repayment_plan_agree(
                actor=worker,
                case=current,
                kind=RepaymentPlanKind.FULL if full else RepaymentPlanKind.SETTLEMENT,
                agreed_on=agreed,
                instalments=dues,
            )
            self.counts["repayment_plans"] += 1

        return record

    def _legal_events(self, case: Case, story: CaseStory, first: date, month: date) -> list[Event]:
        legal = self.people["demo-legal"]
        on = _day_in(self.rng, first, month, low=10, high=20)
        if story.legal_case_id is None:
            if case.strategy not in LEGAL_STRATEGIES:
                return []
            story.legal_target = LEGAL_TARGETS[self.legal_cases % len(LEGAL_TARGETS)]
            self.legal_cases += 1

            def open_case() -> None:
                fresh = Case.objects.get(pk=case.pk)
                legal_case = services.legal_case_open(
                    actor=legal,
                    case=fresh,
                    court="淮北市相山区人民法院"
                    if case.unit.code.startswith("HB01")
                    else "濉溪县人民法院",
                    claim_amount=fresh.npl_balance or Decimal("1000.00"),
                    opened_on=on,
                    lawyer="安徽淮风律师事务所",
                    limitation_date=on + timedelta(days=3 * 365),
                )
                story.legal_case_id = legal_case.pk
                self.counts["legal_cases"] += 1

            return [self._event(on, open_case)]
        stage_order: list[str] = list(LEGAL_STAGE_ORDER)

        def advance() -> None:
            if story.legal_case_id is None:  # its opening failed to happen (case closed)
                return
            legal_case = LegalCase.objects.get(pk=story.legal_case_id)
            at, target = stage_order.index(legal_case.stage), stage_order.index(story.legal_target)
            if at >= target or on < legal_case.stage_since:
                return
            stage = stage_order[at + 1]
            if (
                stage == LegalStage.TERMINATED_UNRECOVERED
                and story.legal_target == LegalStage.CLOSED
            ):
                stage = LegalStage.CLOSED
            extra: dict[str, Any] = {}
            if stage == LegalStage.FILED:
                extra["court_case_number"] = f"(2019)皖0603民初{legal_case.pk:04d}号"
            if stage == LegalStage.HEARING:
                extra["next_hearing_on"] = on + timedelta(days=30)
            if stage == LegalStage.ENFORCEMENT:
                extra["seizure_expiry_date"] = on + timedelta(days=3 * 365)
            services.legal_case_advance(
                actor=legal,
                legal_case=legal_case,
                version=legal_case.version,
                stage=stage,
                entered_on=on,
                note=f"{LegalStage(stage).label}",
                **extra,
            )
            if stage == LegalStage.FILED:
                legal_case.refresh_from_db()
                services.legal_case_add_costs(
                    actor=legal,
                    legal_case=legal_case,
                    version=legal_case.version,
                    amount=Decimal("2350.00"),
                    note="court fee and lawyer's fee",
                )
            self.counts["legal_stage_moves"] += 1

        events = [self._event(on, advance)]
        if self.rng.random() < 0.3:
            visit_on = _day_in(self.rng, first, month, low=21, high=27)
            events.append(
                self._event(
                    visit_on,
                    self._activity(
                        case,
                        self.worker(case),
                        ActivityKind.COURT_VISIT,
                        visit_on,
                        Outcome.CONTACTED,
                    ),
                )
            )
        return events


# -- the summary ----------------------------------------------------------------------------


def casework_summary() -> dict[str, Any]:
    """Cases open and closed, by state, by strategy, legal stages and recoveries (for the demo)."""
    cases = Case.objects.all()
    open_cases = cases.filter(closed_on__isnull=True)
    recovered = Recovery.objects.aggregate(total=Sum("amount"))["total"] or ZERO
    after = (
        Recovery.objects.filter(after_write_off=True).aggregate(total=Sum("amount"))["total"]
        or ZERO
    )

    def tally(queryset: Any, column: str) -> dict[str, int]:
        rows = queryset.values(column).annotate(n=Count("id")).order_by(column)
        return {row[column]: row["n"] for row in rows}

    return {
        "cases": cases.count(),
        "open": open_cases.count(),
        "closed": cases.filter(closed_on__isnull=False).count(),
        "by_state": tally(open_cases, "state"),
        "by_strategy": tally(open_cases, "strategy"),
        "legal_stages": tally(LegalCase.objects.all(), "stage"),
        "recoveries": Recovery.objects.count(),
        "recovered": str(recovered),
        "recovered_after_write_off": str(after),
        "escalated": open_cases.filter(state=CaseState.ESCALATED).count(),
    }
