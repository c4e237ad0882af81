"""The gap to double reduction and the mix of levers that closes it (``docs/planner.md``).

Pure arithmetic on exact decimals: no engine, no database. Amounts are worked in fen, so the
required reduction is the least whole number of fen that makes both conditions strictly true.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.core.money import FEN

LEVERS = ("cash", "upgrade", "write_off", "transfer")
# Levers that take the balance off the books (the book shrinks with the NPL); an upgrade moves
# it to a performing class and the book keeps it.
LEAVE_THE_BOOKS = frozenset({"cash", "write_off", "transfer"})
DEFAULT_PRICE_RATIO = Decimal("0.30")


def _fen(amount: Decimal) -> int:
    return int((amount / FEN).to_integral_value())


def required_reduction(
    npl_balance: Decimal, balance: Decimal, baseline_npl: Decimal, baseline_balance: Decimal
) -> Decimal | None:
    """The least ``x`` (whole fen) with ``N − x < B0`` and ``(N − x) / (T − x) < r0``, where
    ``N``, ``T`` are the forecast NPL balance and book, ``B0`` the baseline NPL balance and
    ``r0 = B0 / T0`` the baseline ratio; 0 when the forecast already meets both. ``None`` when
    no reduction can: a baseline without NPL (nothing is below zero) or without a book."""
    n, t, b0, t0 = _fen(npl_balance), _fen(balance), _fen(baseline_npl), _fen(baseline_balance)
    if t0 <= 0 or b0 <= 0:
        return None
    below_balance = n - b0 + 1 if n >= b0 else 0
    # (n − x) / (t − x) < b0 / t0  ⇔  (n − x)·t0 < b0·(t − x)  ⇔  x·(t0 − b0) > n·t0 − b0·t
    # (t − x > 0 throughout: x never passes n, and n ≤ t).
    excess = n * t0 - b0 * t
    if excess < 0:
        below_ratio = 0
    elif t0 == b0:  # a baseline that was all NPL: any x < t keeps the ratio at 1, not below
        return None
    else:
        below_ratio = excess // (t0 - b0) + 1
    x = max(below_balance, below_ratio)
    if x > n:
        return None
    return Decimal(x) * FEN


def meets_both(
    npl_balance: Decimal, balance: Decimal, baseline_npl: Decimal, baseline_balance: Decimal
) -> bool:
    """Double reduction: NPL balance below the baseline's and ratio below the baseline ratio
    (compared exactly, cross-multiplied)."""
    if balance <= 0 or baseline_balance <= 0:
        return False
    return npl_balance < baseline_npl and npl_balance * baseline_balance < (baseline_npl * balance)


@dataclass(frozen=True)
class Lever:
    """One lever of a unit: what it can take out beyond business as usual, what the mix
    proposes, and the loss per yuan the bank bears on it."""

    name: str
    capacity: Decimal
    loss_rate: Decimal
    proposed: Decimal = Decimal("0.00")

    @property
    def expected_loss(self) -> Decimal:
        return (self.proposed * self.loss_rate).quantize(FEN)


@dataclass(frozen=True)
class Mix:
    """The proposed mix of one unit: the levers in ``LEVERS`` order and whether they close
    the gap."""

    required: Decimal | None
    levers: dict[str, Lever]
    closes_gap: bool

    @property
    def proposed(self) -> Decimal:
        return sum((lever.proposed for lever in self.levers.values()), Decimal(0))

    def applied(self, npl_balance: Decimal, balance: Decimal) -> tuple[Decimal, Decimal]:
        """The year-end NPL balance and book after the proposed mix."""
        leaving = sum(
            (lever.proposed for lever in self.levers.values() if lever.name in LEAVE_THE_BOOKS),
            Decimal(0),
        )
        return npl_balance - self.proposed, balance - leaving


def loss_rates(price_ratio: Decimal, recovery_after_write_off: Decimal) -> dict[str, Decimal]:
    """Loss per yuan: cash and upgrade 0, transfer ``1 − price ratio``, write-off ``1 − the
    recovery rate after write-off``."""
    if not Decimal(0) <= price_ratio <= Decimal(1):
        raise UsageError(
            translatable(
                "--price-ratio {price_ratio} must lie between 0 and 1", price_ratio=str(price_ratio)
            )
        )
    return {
        "cash": Decimal(0),
        "upgrade": Decimal(0),
        "write_off": Decimal(1) - recovery_after_write_off,
        "transfer": Decimal(1) - price_ratio,
    }


def propose_mix(
    required: Decimal | None, capacities: dict[str, Decimal], rates: dict[str, Decimal]
) -> Mix:
    """The mix that takes out ``required`` at the least expected loss: the cheapest lever
    first, each up to its capacity (ties in ``LEVERS`` order). ``closes_gap`` is false where
    the capacities together fall short, or where no reduction can close it (``None``)."""
    order = sorted(LEVERS, key=lambda name: (rates[name], LEVERS.index(name)))
    left = Decimal(0) if required is None else required
    proposed: dict[str, Decimal] = {}
    for name in order:
        take = min(left, max(capacities.get(name, Decimal(0)), Decimal(0)))
        proposed[name] = take.quantize(FEN)
        left -= proposed[name]
    levers = {
        name: Lever(
            name,
            max(capacities.get(name, Decimal(0)), Decimal(0)).quantize(FEN),
            rates[name],
            proposed[name],
        )
        for name in LEVERS
    }
    return Mix(required, levers, closes_gap=required is not None and left <= 0)
