"""A small casework world for service tests: one person per role around a case in HB0101."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from npldesk.casework import services
from npldesk.casework.choices import Strategy
from npldesk.casework.models import Case, Person, Plan, Unit
from tests.casework.factories import PersonFactory, case_with_loan

OPENED = date(2019, 12, 31)


@dataclass
class World:
    units: dict[str, Unit]
    officer: Person
    officer2: Person
    lead: Person
    lead2: Person
    finance: Person
    finance2: Person
    leader: Person
    legal: Person
    analyst: Person
    admin: Person
    outsider: Person  # a lead of the other county: sees nothing of HB01's cases
    case: Case

    @property
    def loan_id(self) -> str:
        return str(self.case.loans.get().loan_id)

    def fresh(self) -> Case:
        """The case as the database has it now."""
        return Case.objects.get(pk=self.case.pk)


def at(day: date, hour: int = 10) -> datetime:
    """A moment on ``day`` within the contact hours (local time) for a call or visit."""
    return datetime.combine(day, time(hour))


def person(role: str, unit: Unit) -> Person:
    # An unusable password: hashing a real one for every person makes each test seconds slower.
    staff: Person = PersonFactory(roles=[role], units=[unit], user__password="!")
    return staff


def build_world(units: dict[str, Unit]) -> World:
    officer = person("officer", units["HB01"])
    return World(
        units=units,
        officer=officer,
        officer2=person("officer", units["HB01"]),
        lead=person("team_lead", units["HB01"]),
        lead2=person("team_lead", units["HB01"]),
        finance=person("finance", units["HB"]),
        finance2=person("finance", units["HB"]),
        leader=person("leader", units["HB"]),
        legal=person("legal", units["HB"]),
        analyst=person("risk_analyst", units["HB"]),
        admin=person("admin", units["HB"]),
        outsider=person("team_lead", units["HB02"]),
        case=case_with_loan(units["HB0101"], owner=officer),
    )


def propose_plan(world: World, *, milestones: bool = False) -> Plan:
    """A repayment-plan strategy proposed by the case's officer (with one visit to make)."""
    plan: Plan = services.plan_propose(
        actor=world.officer,
        case=world.case,
        strategy=Strategy.REPAYMENT_PLAN,
        reason="r",
        target_amount=Decimal(1),
        target_date=OPENED,
        milestones=[("visit", world.officer, OPENED)] if milestones else [],
    )
    return plan


def settle(world: World, *, on: date) -> Case:
    """The case closed by its lead as settled on ``on``; the world's case object reloaded."""
    case = world.fresh()
    services.case_close(
        actor=world.lead,
        case=case,
        version=case.version,
        reason="settled",
        closed_on=on,
        note="paid in full",
    )
    world.case.refresh_from_db()
    return world.case
