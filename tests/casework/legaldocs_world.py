"""A casework world with a home for legal documents: the world's case, its loan in two tape
snapshots, a guarantor, the bank unit's legal details, and a legal case with a judgment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from npldesk.casework import services
from npldesk.casework.choices import Strategy
from npldesk.casework.models import Case, Household, LegalCase
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.org import import_org
from npldesk.tape.store import Store
from tests.casework.factories import HouseholdFactory
from tests.casework.world import World
from tests.tape_factory import loan_row, write_csv, write_org

DECEMBER = date(2019, 12, 31)
JANUARY = date(2020, 1, 31)
# The January snapshot's figures for the case's loan (what the documents state, less recoveries).
PRINCIPAL = Decimal("95000.00")
INTEREST = Decimal("1234.56")
MATURITY = date(2019, 6, 30)
HOUSEHOLD_NAME = "王小明"
GUARANTOR_NAME = "李四"
BANK_NAME = "某某农村商业银行股份有限公司濉溪支行"
COURT = "濉溪县人民法院"


def import_tape(home: Path, world: World) -> Store:
    """The case's loan in the December and January snapshots of ``home``'s store."""
    store = Store(home / "store")
    import_org(store, write_org(home / "org_units.csv"), user="tester")
    borrower = world.case.household.borrower_id
    common = {
        "loan_id": world.loan_id,
        "borrower_id": borrower,
        "maturity_date": MATURITY.isoformat(),
        "days_past_due": "200",
        "reported_class": "doubtful",
        "collateral_type": "real_estate",
        "collateral_value": "300000.00",
    }
    files = [
        write_csv(
            home / "dec.csv",
            [
                loan_row(
                    1, DECEMBER, principal_balance="100000.00", overdue_interest="900.00", **common
                )
            ],
        ),
        write_csv(
            home / "jan.csv",
            [
                loan_row(
                    1,
                    JANUARY,
                    principal_balance=str(PRINCIPAL),
                    overdue_interest=str(INTEREST),
                    **common,
                )
            ],
        ),
    ]
    import_files(store, files, ImportOptions())
    return store


def legal_details(world: World) -> None:
    services.unit_legal_details_set(
        actor=world.admin,
        unit=world.units["HB"],
        legal_name=BANK_NAME,
        address="安徽省淮北市濉溪县濉溪路1号",
        legal_representative="赵六",
        phone="0561-6000000",
    )


def judged_legal_case(
    world: World, *, court_case_number: str = "（2020）皖0621民初100号"
) -> LegalCase:
    Case.objects.filter(pk=world.case.pk).update(strategy=Strategy.LITIGATION_ENFORCEMENT)
    world.case.refresh_from_db()
    legal_case = services.legal_case_open(
        actor=world.legal,
        case=world.case,
        court=COURT,
        claim_amount=Decimal("96234.56"),
        opened_on=date(2020, 2, 1),
        lawyer="安徽某某律师事务所 张律师",
    )
    judged: LegalCase = services.legal_case_advance(
        actor=world.legal,
        legal_case=legal_case,
        version=legal_case.version,
        stage="judgment",
        entered_on=date(2020, 2, 3),
        court_case_number=court_case_number,
        judgment_effective_on=date(2020, 2, 3),
    )
    world.case.refresh_from_db()
    return judged


def documents_world(world: World, home: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    """``world`` with the tape, a named household and guarantor, the bank's legal details and a
    judged legal case: every document can be drafted from its case."""
    monkeypatch.setenv("NPLDESK_HOME", str(home))
    import_tape(home, world)
    Household.objects.filter(pk=world.case.household_id).update(
        name=HOUSEHOLD_NAME, address="安徽省淮北市濉溪县某某村1号"
    )
    guarantor = HouseholdFactory(unit=world.units["HB0101"], name=GUARANTOR_NAME)
    world.case.household.guarantors.add(guarantor)
    legal_details(world)
    judged_legal_case(world)
    world.case.refresh_from_db()
    return world
