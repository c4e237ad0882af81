"""The organisation tree for figures: each unit with every unit above it, so that a unit's
figures include its own loans and those of every unit below it (``docs/figures.md`` §2)."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.tape.org import OrgUnit


def ancestors_of(units: list[OrgUnit]) -> dict[str, list[str]]:
    """Unit code → [itself, its parent, …, the root]."""
    parents = {u.code: u.parent_code for u in units}
    chains: dict[str, list[str]] = {}
    for unit in units:
        chain = [unit.code]
        parent = unit.parent_code
        while parent is not None and parent not in chain:
            chain.append(parent)
            parent = parents.get(parent)
        chains[unit.code] = chain
    return chains


def units_below(units: list[OrgUnit], code: str) -> list[str]:
    """The codes of unit ``code`` and every unit under it; a usage error for an unknown code."""
    if code not in {u.code for u in units}:
        raise UsageError(
            translatable(
                "unknown unit {code!r}; units: {known}",
                code=code,
                known=", ".join(u.code for u in units),
            )
        )
    return sorted(unit for unit, chain in ancestors_of(units).items() if code in chain)


def rollup_table(units: list[OrgUnit]) -> ir.Table:
    """(``org_unit``, ``unit``): join loans on ``org_unit`` and group by ``unit`` to roll up."""
    pairs = [(code, ancestor) for code, chain in ancestors_of(units).items() for ancestor in chain]
    return ibis.memtable(
        {"org_unit": [p[0] for p in pairs], "unit": [p[1] for p in pairs]},
        schema=ibis.schema({"org_unit": "string", "unit": "string"}),
    )


def units_at_level(units: list[OrgUnit], level: str | None) -> list[OrgUnit]:
    """The units of one level (``city_branch``, ``county_branch``, …), or all of them."""
    return [u for u in units if level is None or u.level == level]
