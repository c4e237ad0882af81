"""What the casework can add to the business-as-usual forecast: the pipeline of open cases and
the recovery rates of the casework history (``docs/planner.md``).

Read through one selector (``casework.selectors.planner_pipeline``). A home without a casework
database, or with an empty one (tape only), has no pipeline: its cash lever is zero and the
plan says so; write-offs are then assumed to recover nothing afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from npldesk.core.i18n import translatable

if TYPE_CHECKING:
    from npldesk.casework.models import Person

RATE_PLACES = Decimal("0.000001")


def _rate(part: Decimal, whole: Decimal) -> Decimal | None:
    if whole <= 0:
        return None
    return min(max(part / whole, Decimal(0)), Decimal(1)).quantize(RATE_PLACES)


@dataclass(frozen=True)
class RecoveryRates:
    """Shares of money due that the casework history turned into cash; ``None`` where the
    history holds nothing to estimate from (the lever then counts nothing from that source)."""

    promise: Decimal | None = None
    instalment: Decimal | None = None
    enforcement: Decimal | None = None
    after_write_off: Decimal | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            name: None if value is None else f"{value:f}"
            for name, value in (
                ("promise", self.promise),
                ("instalment", self.instalment),
                ("enforcement", self.enforcement),
                ("after_write_off", self.after_write_off),
            )
        }


@dataclass(frozen=True)
class UnitCash:
    """Expected cash from one unit's pipeline by the year end, and the NPL balance of the
    loans it comes from (for what business as usual already expects of them)."""

    expected: Decimal = Decimal(0)
    npl_balance: Decimal = Decimal(0)


@dataclass(frozen=True)
class Pipeline:
    """The pipeline per unit code and the rates; ``available`` false for a tape-only home."""

    units: dict[str, UnitCash] = field(default_factory=dict)
    rates: RecoveryRates = field(default_factory=RecoveryRates)
    available: bool = False
    note: str | None = None


def no_pipeline(reason: str) -> Pipeline:
    return Pipeline(note=reason)


def read_pipeline(person: Person, *, as_of: date, until: date) -> Pipeline:
    """The casework pipeline from ``as_of`` to ``until`` as ``person`` may see it. The caller
    has set up Django; a database without casework tables reads as no pipeline."""
    from django.db import DatabaseError

    from npldesk.casework.selectors import planner_pipeline

    try:
        found = planner_pipeline(person, as_of=as_of, until=until)
    except DatabaseError as exc:
        return no_pipeline(
            translatable(
                "the casework database cannot be read ({exc}): pipeline levers are 0", exc=str(exc)
            )
        )
    history = found.history
    rates = RecoveryRates(
        promise=_rate(history.promise_paid, history.promised),
        instalment=_rate(history.instalments_paid, history.instalments_due),
        enforcement=_rate(history.enforcement_recovered, history.enforced_claims),
        after_write_off=_rate(history.recovered_after_write_off, history.written_off),
    )
    units = {
        code: UnitCash(
            expected=(
                unit.promises_due * (rates.promise or 0)
                + unit.instalments_due * (rates.instalment or 0)
                + unit.enforcement_claims * (rates.enforcement or 0)
            ).quantize(Decimal("0.01")),
            npl_balance=unit.npl_balance,
        )
        for code, unit in found.units.items()
    }
    if not units and not history.promised and not history.written_off:
        return Pipeline(
            rates=rates,
            note=translatable(
                "the casework database holds no open pipeline or history: pipeline levers are 0"
            ),
        )
    return Pipeline(units=units, rates=rates, available=True)
