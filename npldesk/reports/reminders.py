"""Risk reminders (docs/reports.md, "Risk reminders"): one pack per unit and month, delivered
to the unit's people in the web app's inbox and noticed by e-mail.

A pack holds, for the unit and every unit below it: its new NPLs (``npldesk list new-npl``) and
its early-warning loans (``npldesk list early-warning``), cut by unit as the lists' ``--unit``
cuts them; its open cases past their deadline, with broken promises or a breached repayment
plan; its legal alerts: stages stalled and limitation or enforcement clocks within 60 days
(``selectors.reminder_case_items``). Each section carries a short instruction line.

The pack keeps codes, amounts and dates, and no name but a masked one: names are shown to
each reader through the masking rules that apply to them (``selectors.reminder_pack_view``),
and the e-mail carries counts and a link to the pack, never personal data.

Delivering is idempotent: a unit whose pack for the month has reached every one of its people
is skipped, so a month-end run resumed or repeated delivers nothing twice (an e-mail notice is
marked sent once the SMTP server accepted it; see ``docs/adr/0018-risk-reminders.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from npldesk.analytics.lists import run_list
from npldesk.analytics.org import units_below
from npldesk.analytics.session import Analytics
from npldesk.casework import selectors, services
from npldesk.casework.models import Person, ReminderPack, Unit
from npldesk.core.errors import DataError, UsageError
from npldesk.core.i18n import translatable
from npldesk.core.months import previous_month_end
from npldesk.home import Home
from npldesk.reports.labels import Label, _
from npldesk.reports.mail import MailSettings, mail_settings, send_notices
from npldesk.reports.pii import mask_name
from npldesk.tape.org import load_org

SECTIONS = selectors.REMINDER_SECTIONS
LOAN_SECTIONS = ("new_npl", "early_warning")
# What a loan item keeps of a list row (no personal column).
LOAN_FIELDS = (
    "loan_id",
    "borrower_id",
    "org_unit",
    "officer_id",
    "product",
    "principal_balance",
    "days_past_due",
    "class",
)
CLOCK_WINDOW_DAYS = selectors.LEGAL_CLOCK_DAYS

SECTION_TITLES: Mapping[str, Label] = {
    "new_npl": _("New NPLs this month"),
    "early_warning": _("Early-warning loans"),
    "deadline_past": _("Cases past their deadline"),
    "broken_promise": _("Broken promises"),
    "plan_breached": _("Breached repayment plans"),
    "legal_stall": _("Legal cases stalled"),
    "legal_clock": _("Limitation and enforcement clocks within 60 days"),
}
SECTION_INSTRUCTIONS: Mapping[str, Label] = {
    "new_npl": _(
        "Open each household's case this week: investigate, propose a plan, set the first visit."
    ),
    "early_warning": _(
        "Contact each borrower before the loan turns NPL: agree a payment or a repayment plan."
    ),
    "deadline_past": _(
        "Bring each case to a decision: resolve it, or have the team lead set a new deadline "
        "with a reason."
    ),
    "broken_promise": _(
        "Call the household within three days, record why the promise failed and escalate "
        "an unwilling payer."
    ),
    "plan_breached": _(
        "Visit the household, collect the late instalment or renegotiate; a second breach "
        "goes to law."
    ),
    "legal_stall": _("Push the court for the next step, or record why the stage cannot move."),
    "legal_clock": _(
        "Act before the last day: a receipted demand or an acknowledgement restarts limitation; "
        "apply for enforcement in time."
    ),
}


@dataclass(frozen=True)
class BuiltPack:
    """One unit's pack, as built: its sections' items and their counts."""

    unit: Unit
    sections: dict[str, list[dict[str, Any]]]

    @property
    def counts(self) -> dict[str, int]:
        return {name: len(self.sections.get(name, [])) for name in SECTIONS}


@dataclass
class ReminderResult:
    """What a delivery did: packs kept, people reached, e-mails sent, units skipped."""

    packs: int = 0
    delivered: int = 0
    mailed: int = 0
    skipped: int = 0
    units: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "packs": self.packs,
            "delivered": self.delivered,
            "mailed": self.mailed,
            "skipped": self.skipped,
            "units": self.units,
        }


def _loan_rows(session: Analytics, as_of: date) -> dict[str, list[dict[str, Any]]]:
    """The two loan lists of the month, whole (cut by unit per pack)."""
    found: dict[str, list[dict[str, Any]]] = {"new_npl": [], "early_warning": []}
    months = set(session.months())
    if previous_month_end(as_of) in months:
        found["new_npl"] = [
            _loan(row)
            for row in run_list(session, "new-npl", as_of, start=previous_month_end(as_of)).rows
        ]
    found["early_warning"] = [_loan(row) for row in run_list(session, "early-warning", as_of).rows]
    return found


def _loan(row: Mapping[str, Any]) -> dict[str, Any]:
    item = {name: row.get(name) for name in LOAN_FIELDS}
    item["household"] = item["borrower_id"]
    # Shown only when the household has no case (whoever works a case sees its full name).
    item["masked_name"] = mask_name(row.get("borrower_name")) or ""
    item["principal_balance"] = str(item["principal_balance"])
    return item


def build_packs(
    session: Analytics,
    as_of: date,
    *,
    actor: Person,
    today: date,
    unit: str | None = None,
) -> list[BuiltPack]:
    """The packs of every unit (or of ``unit`` only), each with exactly the loans of the unit
    and the units below it and the open cases of that subtree."""
    session.require_month(as_of)
    org = load_org(session.store)
    units = list(selectors.units_visible(actor).order_by("path"))
    if unit is not None:
        units = [u for u in units if u.code == unit]
        if not units:
            raise UsageError(
                translatable(
                    "unknown unit {code!r}: `npldesk cases sync` brings the units in", code=unit
                )
            )
    loans = _loan_rows(session, as_of)
    cases = selectors.reminder_case_items(actor, today=today)
    known = {u.code for u in org}
    packs = []
    for each in units:
        below = set(units_below(org, each.code)) if each.code in known else {each.code}
        sections: dict[str, list[dict[str, Any]]] = {
            name: [row for row in loans[name] if row["org_unit"] in below] for name in LOAN_SECTIONS
        }
        for name in SECTIONS[len(LOAN_SECTIONS) :]:
            sections[name] = [
                c.item for c in cases if c.section == name and c.unit_path.startswith(each.path)
            ]
        packs.append(BuiltPack(each, sections))
    return packs


def deliver_reminders(
    home: Home,
    session: Analytics,
    as_of: date,
    *,
    actor: Person,
    today: date,
    unit: str | None = None,
    mail: MailSettings | None = None,
    progress: Callable[[str], None] | None = None,
) -> ReminderResult:
    """Build the packs of ``as_of`` and deliver each to its unit's people, then send the
    e-mail notices not sent yet (when ``[mail]`` is configured). A unit whose pack already
    reached all its people is skipped: nothing is written twice."""
    say = progress or (lambda _message: None)
    settings = mail if mail is not None else mail_settings(home)
    result = ReminderResult()
    for built in build_packs(session, as_of, actor=actor, today=today, unit=unit):
        people = selectors.reminder_recipients(actor, built.unit)
        pack: ReminderPack | None = selectors.reminder_pack_find(actor, built.unit, as_of)
        reached = set() if pack is None else {d.person_id for d in pack.deliveries.all()}
        missing = [p for p in people if p.pk not in reached]
        if pack is None or missing:
            say(f"reminders {built.unit.code}: {len(missing)} people")
            pack = services.reminder_pack_deliver(
                actor=actor,
                unit=built.unit,
                as_of=as_of,
                built_on=today,
                counts=built.counts,
                sections=built.sections,
                people=missing,
            )
            result.packs += 1
            result.delivered += len(missing)
        else:
            result.skipped += 1
        mailed = 0
        if settings is not None:
            pending = selectors.reminder_deliveries_unmailed(actor, pack)
            sent = send_notices(settings, pack, pending)
            if sent.accepted:
                services.reminder_pack_mailed(actor=actor, pack=pack, mailed=sent.accepted)
                mailed = len(sent.accepted)
            if sent.problem:
                raise DataError(sent.problem)
        result.mailed += mailed
        result.units.append(
            {
                "unit": built.unit.code,
                "counts": pack.counts,
                "people": len(people),
                "mailed": mailed,
            }
        )
    return result


def section_title(name: str) -> Label:
    return SECTION_TITLES[name]


def section_instruction(name: str) -> Label:
    return SECTION_INSTRUCTIONS[name]
