"""Groups of loans for figures (``docs/figures.md`` §2, §3): organisation unit rolled up the
tree, product, officer, borrower type, or the whole book.

``resolve_grouping`` turns what a user asked for (``--by``, ``--level``) into a ``Grouping``:
the tape column, and for units the rollup table the metric functions join.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir

from npldesk.analytics.org import rollup_table, units_at_level
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.tape.org import OrgUnit

# What a user may type after --by, and the tape column each one groups by.
GROUP_COLUMNS: dict[str, str] = {
    "org_unit": "org_unit",
    "product": "product",
    "officer": "officer_id",
    "officer_id": "officer_id",
    "borrower_type": "borrower_type",
}
GROUP_CHOICES = ("org_unit", "product", "officer", "borrower_type")
KEY = "key"


def group_column(by: str | None) -> str | None:
    """The tape column behind ``by`` (``officer`` → ``officer_id``); ``None`` is the whole book."""
    if by is None:
        return None
    try:
        return GROUP_COLUMNS[by]
    except KeyError:
        raise UsageError(
            translatable(
                "unknown group {by!r}; group by one of: {known}",
                by=by,
                known=", ".join(GROUP_CHOICES),
            )
        ) from None


def tree_order(units: list[OrgUnit]) -> list[OrgUnit]:
    """Units depth first from the root, children in the order of the organisation file."""
    children: dict[str | None, list[OrgUnit]] = {}
    for unit in units:
        children.setdefault(unit.parent_code, []).append(unit)
    ordered: list[OrgUnit] = []
    pending = list(reversed(children.get(None, [])))
    while pending:
        unit = pending.pop()
        ordered.append(unit)
        pending.extend(reversed(children.get(unit.code, [])))
    seen = {u.code for u in ordered}
    return ordered + [u for u in units if u.code not in seen]


@dataclass(frozen=True)
class Grouping:
    """How one report groups loans: the tape column, and for units the tree and the level."""

    column: str | None
    units: list[OrgUnit] = field(default_factory=list)
    level: str | None = None

    @property
    def rolled_up(self) -> bool:
        """True when groups are organisation units that include every unit below them."""
        return self.column == "org_unit"

    def rollup(self) -> ir.Table | None:
        """(``org_unit``, ``unit``) pairs for the units shown (``None`` unless by unit)."""
        if not self.rolled_up:
            return None
        table = rollup_table(self.units)
        if self.level is None:
            return table
        codes = [u.code for u in units_at_level(self.units, self.level)]
        return table.filter(table.unit.isin(codes))

    def shown_units(self) -> list[OrgUnit]:
        """The units that get a row: all of them, or those of the level asked for, tree order."""
        return units_at_level(tree_order(self.units), self.level)

    def name_of(self, key: str | None) -> str | None:
        """A unit's name; other groups are named by their key."""
        if self.rolled_up:
            return next((u.name for u in self.units if u.code == key), key)
        return key


def resolve_grouping(by: str | None, level: str | None, units: list[OrgUnit]) -> Grouping:
    """Check ``by`` and ``level`` against what exists; a clear ``UsageError`` when they don't."""
    column = group_column(by)
    if level is not None and column != "org_unit":
        raise UsageError(translatable("--level applies only to --by org_unit"))
    if column != "org_unit":
        return Grouping(column)
    if not units:
        raise UsageError(
            translatable("no organisation file imported: `npldesk org import FILE` first")
        )
    levels = sorted({u.level for u in units})
    if level is not None and level not in levels:
        raise UsageError(
            translatable(
                "unknown level {level!r}; levels in the organisation file: {levels}",
                level=level,
                levels=", ".join(levels),
            )
        )
    return Grouping(column, units, level)


def group_key(table: ir.Table, column: str | None) -> ir.StringValue:
    """The group key of each row: the column's value, or NULL for the whole book."""
    if column is None:
        return ibis.null("string")
    value: ir.StringValue = table[column]
    return value
