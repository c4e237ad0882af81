"""A casework world for the legal board's clocks: six cases at law in HB0101 whose loans the tape
dates, each showing one way a limitation clock runs, and a tape of two month-ends in a home.

On ``TODAY`` (Friday 1 April 2022):

- ``judged``, the world's case: its loan matured on 30 June 2019, so its limitation runs out on
  Thursday 30 June 2022, 90 days away; its judgment took effect on 3 February 2020 and its
  enforcement deadline passed on Thursday 3 February 2022.
- ``two_loans``: one loan matured on Sunday 31 March 2019 (in December's snapshot only): its
  limitation ran out yesterday; the other on 15 January 2020, ending on Monday 16 January 2023
  (the 15th is a Sunday).
- ``filed``: a lawsuit filed on 2 March 2020 stopped its limitation (no last day).
- ``lawsuit_ended``: an earlier lawsuit, filed on 5 February 2020 and closed on 1 June 2020,
  stopped its limitation and set it going again: it runs out on Thursday 1 June 2023.
- ``restarted``: a lawyer's letter that reached the borrower on 2 March 2020, then a partial
  payment on 10 April 2020: it runs out on Monday 10 April 2023.
- ``undated``: its loan is in no snapshot: no limitation is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from npldesk.casework import services
from npldesk.casework.choices import Strategy
from npldesk.casework.models import Case, CaseLoan, LegalCase
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.org import import_org
from npldesk.tape.store import Store
from tests.casework.factories import case_with_loan
from tests.casework.legaldocs_world import judged_legal_case
from tests.casework.world import World, at
from tests.tape_factory import loan_row, write_csv, write_org

TODAY = date(2022, 4, 1)
DECEMBER = date(2019, 12, 31)
JANUARY = date(2020, 1, 31)
OPENED = date(2020, 2, 1)


@dataclass
class BoardCases:
    judged: Case
    two_loans: Case
    filed: Case
    lawsuit_ended: Case
    restarted: Case
    undated: Case

    def by_name(self) -> dict[str, Case]:
        return dict(vars(self))


def tape_with_maturities(home: Path, maturities: dict[str, tuple[date, bool]]) -> None:
    """The loans in December's and January's snapshots of ``home``'s store, by loan id: their
    maturity, and whether January's snapshot has them too."""
    store = Store(home / "store")
    import_org(store, write_org(home / "org_units.csv"), user="tester")
    rows: dict[date, list[dict[str, str]]] = {DECEMBER: [], JANUARY: []}
    for n, (loan_id, (maturity, in_january)) in enumerate(sorted(maturities.items()), start=1):
        for month in (DECEMBER, JANUARY) if in_january else (DECEMBER,):
            rows[month].append(
                loan_row(
                    n,
                    month,
                    loan_id=loan_id,
                    maturity_date=maturity.isoformat(),
                    days_past_due="200",
                    reported_class="doubtful",
                )
            )
    files = [write_csv(home / f"{month.isoformat()}.csv", found) for month, found in rows.items()]
    # Loans in December's snapshot only left the books without a terminal row: accepted.
    import_files(store, files, ImportOptions(accept_exits=True))


def _at_law(world: World, loan_id: str) -> Case:
    case = case_with_loan(
        world.units["HB0101"],
        owner=world.officer,
        loan_id=loan_id,
        strategy=Strategy.LITIGATION_ENFORCEMENT,
    )
    return case


def _open(world: World, case: Case) -> LegalCase:
    legal_case: LegalCase = services.legal_case_open(
        actor=world.legal,
        case=case,
        court="濉溪县人民法院",
        claim_amount=Decimal("50000.00"),
        opened_on=OPENED,
    )
    return legal_case


def _advance(world: World, legal_case: LegalCase, stage: str, on: date) -> LegalCase:
    legal_case.refresh_from_db()
    advanced: LegalCase = services.legal_case_advance(
        actor=world.legal,
        legal_case=legal_case,
        version=legal_case.version,
        stage=stage,
        entered_on=on,
    )
    return advanced


def board_cases(world: World, home: Path, monkeypatch: pytest.MonkeyPatch) -> BoardCases:
    """The six cases at law of the module's docstring, their tape in ``home`` (the home the
    process reads: ``NPLDESK_HOME``)."""
    monkeypatch.setenv("NPLDESK_HOME", str(home))
    judged_legal_case(world)
    cases = BoardCases(
        judged=world.case,
        two_loans=_at_law(world, "LB-1"),
        filed=_at_law(world, "LC-1"),
        lawsuit_ended=_at_law(world, "LD-1"),
        restarted=_at_law(world, "LE-1"),
        undated=_at_law(world, "LF-1"),
    )
    CaseLoan.objects.create(
        case=cases.two_loans,
        loan_id="LB-2",
        org_unit="HB0101",
        is_npl=True,
        as_of=DECEMBER,
        owed=Decimal("50000.00"),
        owed_as_of=DECEMBER,
    )
    tape_with_maturities(
        home,
        {
            world.loan_id: (date(2019, 6, 30), True),
            "LB-1": (date(2019, 3, 31), False),
            "LB-2": (date(2020, 1, 15), True),
            "LC-1": (date(2019, 1, 31), True),
            "LD-1": (date(2018, 12, 31), True),
            "LE-1": (date(2018, 12, 31), True),
        },
    )
    _open(world, cases.two_loans)
    _advance(world, _open(world, cases.filed), "filed", date(2020, 3, 2))
    earlier = _advance(world, _open(world, cases.lawsuit_ended), "filed", date(2020, 2, 5))
    _advance(world, earlier, "closed", date(2020, 6, 1))
    _open(world, cases.lawsuit_ended)
    _open(world, cases.restarted)
    services.activity_record(
        actor=world.officer,
        case=cases.restarted,
        kind="lawyers_letter",
        occurred_at=at(date(2020, 3, 2)),
        party="borrower",
        purpose="collection",
        outcome="contacted",
    )
    services.recovery_enter(
        actor=world.officer,
        case=cases.restarted,
        loan_id="LE-1",
        received_on=date(2020, 4, 10),
        amount=Decimal("100.00"),
        source="borrower",
    )
    _open(world, cases.undated)
    for case in cases.by_name().values():
        case.refresh_from_db()
    return cases
