"""The planner's what-if options: the command line's (``npldesk plan``), as a GET form.

Every field is optional and falls back to the command line's default, so ``/planner/`` alone
is the month-end's plan and a changed field is a what-if. The bounds keep one request's work
finite on a shared server; the command line has no such bound.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from npldesk.analytics.forecast import DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_WINDOW
from npldesk.planner.levers import DEFAULT_PRICE_RATIO, LEVERS
from npldesk.planner.plan import PlanRequest

# What one web request may ask of the bootstrap and the history.
MAX_DRAWS = 10_000
MAX_WINDOW = 60
MAX_SEED = 2**32 - 1


def _money(text: Any) -> forms.DecimalField:
    """An amount in yuan, to the fen, not negative; empty: the planner's own."""
    return forms.DecimalField(
        label=text, required=False, max_digits=18, decimal_places=2, min_value=Decimal(0)
    )


class PlanForm(forms.Form):
    """The options of one plan; the capacities and the quota are the shown unit's."""

    as_of = forms.DateField(label=_("Month"), required=False, input_formats=["%Y-%m"])
    growth = forms.DecimalField(
        label=_("Annual growth of new lending"),
        required=False,
        max_digits=8,
        decimal_places=4,
        min_value=Decimal("-0.99"),
        max_value=Decimal(10),
    )
    window = forms.IntegerField(
        label=_("Months of history (K)"), required=False, min_value=1, max_value=MAX_WINDOW
    )
    draws = forms.IntegerField(
        label=_("Bootstrap draws"), required=False, min_value=1, max_value=MAX_DRAWS
    )
    seed = forms.IntegerField(label=_("Seed"), required=False, min_value=0, max_value=MAX_SEED)
    basis = forms.ChoiceField(
        label=_("Basis"),
        required=False,
        choices=[("class", _("five-class basis")), ("dpd", _("days-past-due basis"))],
    )
    seasonal_exits = forms.BooleanField(label=_("Seasonal exits"), required=False)
    price_ratio = forms.DecimalField(
        label=_("Transfer price ratio"),
        required=False,
        max_digits=7,
        decimal_places=4,
        min_value=Decimal(0),
        max_value=Decimal(1),
    )
    cash = _money(_("Cash recovery capacity"))
    upgrade = _money(_("Upgrade capacity"))
    write_off = _money(_("Write-off capacity"))
    transfer = _money(_("Transfer capacity"))
    quota = _money(_("Write-off quota"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # An empty field is the command line's default: say which.
        defaults = {
            "growth": "0",
            "window": str(DEFAULT_WINDOW),
            "draws": str(DEFAULT_DRAWS),
            "seed": str(DEFAULT_SEED),
            "price_ratio": f"{DEFAULT_PRICE_RATIO:f}",
        }
        for name, default in defaults.items():
            self.fields[name].widget.attrs["placeholder"] = default

    def month(self) -> date | None:
        """The month asked for, at its end (``None``: the latest imported)."""
        from npldesk.core.months import parse_month

        found: date | None = self.cleaned_data.get("as_of")
        return None if found is None else parse_month(f"{found:%Y-%m}")

    def plan_request(self, as_of: date, unit: str) -> PlanRequest:
        """The plan by unit from ``as_of`` with these options; the capacities and the quota
        apply to ``unit``'s row, the defaults elsewhere."""
        data: dict[str, Any] = self.cleaned_data
        overrides = {lever: data[lever] for lever in LEVERS if data.get(lever) is not None}
        quota = data.get("quota")
        return PlanRequest(
            as_of=as_of,
            by="org_unit",
            basis=data.get("basis") or "class",
            growth=data["growth"] if data.get("growth") is not None else Decimal(0),
            window=data.get("window") or DEFAULT_WINDOW,
            draws=data.get("draws") or DEFAULT_DRAWS,
            seed=DEFAULT_SEED if data.get("seed") is None else data["seed"],
            price_ratio=(
                DEFAULT_PRICE_RATIO if data.get("price_ratio") is None else data["price_ratio"]
            ),
            seasonal_exits=bool(data.get("seasonal_exits")),
            capacities={unit: overrides} if overrides else {},
            write_off_quotas={} if quota is None else {unit: quota},
        )
