"""One analytics session: a store, an engine and a rule set; hands out classified snapshots.

Metric functions take and return Ibis tables and know nothing of stores or engines; this
class is where months are looked up, missing ones named in clear errors, classification
brought up to date, and lineage (which snapshots a figure was computed from) collected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir

from npldesk.analytics.backend import Engine, connect
from npldesk.analytics.classify import (
    ClassifiedMonth,
    classified_view,
    ensure_classified,
    figures_view,
)
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.core.months import month_label, month_range
from npldesk.core.rules import RuleParams, params_from_config
from npldesk.home import Home
from npldesk.tape.store import Store

CLASSIFIED = "classified"
FIGURES = "figures"


@dataclass
class Analytics:
    """Classified snapshots of one store, on one engine, under one rule set."""

    store: Store
    engine: Engine
    params: RuleParams = field(default_factory=RuleParams)
    progress: Callable[[str], None] | None = None
    _classified: dict[date, ClassifiedMonth] = field(default_factory=dict)
    _tables: dict[tuple[str, date], ir.Table] = field(default_factory=dict)
    _views: dict[str, tuple[tuple[date, ...], ir.Table]] = field(default_factory=dict)

    @classmethod
    def for_home(
        cls,
        home: Home,
        *,
        backend: str | None = None,
        rule_set: str | None = None,
        threads: int | None = None,
    ) -> Analytics:
        """A session on the home's store; ``threads`` caps DuckDB's threads (a web worker uses
        one, so that several workers share the machine's cores instead of each taking all)."""
        return cls(
            store=Store(home.store_path),
            engine=connect(backend or home.backend, threads=threads),
            params=params_from_config(home.config, rule_set),
        )

    # -- months ------------------------------------------------------------------------

    def months(self) -> list[date]:
        return self.store.months()

    def require_month(self, as_of: date, *, what: str | None = None) -> date:
        """``as_of`` if it is imported; an error naming ``what`` it is and what is imported."""
        if as_of not in set(self.months()):
            available = self.months()
            span = (
                translatable(
                    "imported: {first} to {last}",
                    first=month_label(available[0]),
                    last=month_label(available[-1]),
                )
                if available
                else translatable("no month is imported yet")
            )
            raise UsageError(
                translatable(
                    "{what} {month} is not imported ({span})",
                    what=what or translatable("month"),
                    month=month_label(as_of),
                    span=span,
                )
            )
        return as_of

    def require_span(self, start: date, end: date) -> list[date]:
        """Every month from ``start`` to ``end``; a gap is an error naming the missing months."""
        wanted = list(month_range(start, end))
        have = set(self.months())
        missing = [m for m in wanted if m not in have]
        if missing:
            raise UsageError(
                translatable(
                    "months missing between {start} and {end}: {missing}",
                    start=month_label(start),
                    end=month_label(end),
                    missing=", ".join(month_label(m) for m in missing),
                )
            )
        return wanted

    # -- tables ------------------------------------------------------------------------

    def classified(self, as_of: date) -> ir.Table:
        """The classified snapshot of ``as_of`` (classifying what is not yet classified): every
        column of the raw snapshot with its classification, the session's view filtered on the
        month. For lists and cases, which show the loans; figures read ``figures``."""
        return self._month(CLASSIFIED, as_of)

    def classified_span(self, months: list[date]) -> ir.Table:
        """Several classified snapshots as one table (lists over time)."""
        return self._span(CLASSIFIED, months)

    def figures(self, as_of: date) -> ir.Table:
        """The classified snapshot of ``as_of`` with ``FIGURE_COLUMNS`` only (the key, status,
        the columns figures are summed and grouped by, the classification): read from the
        derived files alone, without the join back to the raw snapshot that ``classified``
        needs. What asset quality, movement, migration and vintages take."""
        return self._month(FIGURES, as_of)

    def figures_span(self, months: list[date]) -> ir.Table:
        """``figures`` of several months as one table (vintage curves, migration exits)."""
        return self._span(FIGURES, months)

    def _month(self, kind: str, as_of: date) -> ir.Table:
        if as_of not in self._classified:  # a month classified in this session is imported
            self.require_month(as_of)
            self._classify_upto(as_of)
        if (kind, as_of) not in self._tables:
            every = self._every(kind)
            self._tables[kind, as_of] = every.filter(every.as_of == ibis.literal(as_of))
        return self._tables[kind, as_of]

    def _span(self, kind: str, months: list[date]) -> ir.Table:
        if not months:
            raise UsageError(translatable("no month to read"))
        missing = sorted(set(months) - set(self.months()))
        if missing:
            self.require_month(missing[0])  # the error names it and what is imported
        self._classify_upto(max(months))
        every = self._every(kind)
        wanted = sorted(set(months))
        if wanted == sorted(self._classified):
            return every
        return every.filter(every.as_of.isin([ibis.literal(m) for m in wanted]))

    def _classify_upto(self, as_of: date) -> None:
        if as_of in self._classified:
            return
        latest = max(self.months())
        upto = max(as_of, max(self._classified, default=as_of))
        self._classified.update(
            ensure_classified(
                self.store,
                self.engine,
                self.params,
                upto=min(upto, latest),
                progress=self.progress,
            )
        )

    def _every(self, kind: str) -> ir.Table:
        """Every month classified so far, as one view of the engine: for ``FIGURES`` the
        derived files, for ``CLASSIFIED`` the raw snapshots joined with them by loan and month.
        A month's table is this view filtered on ``as_of`` (the engine reads that month's files
        only): every query of the session then names one view rather than repeating the join
        and the decoding, which Ibis would compile afresh for each question."""
        months = tuple(sorted(self._classified))
        held = self._views.get(kind)
        if held is None or held[0] != months:
            derived = self.engine.read_parquet(
                [self.store.path / self._classified[m].classified for m in months]
            )
            if kind == FIGURES:
                expr = figures_view(derived, self.params)
            else:
                snapshots = self.store.snapshot_paths()  # one read of the manifest
                snapshot = self.engine.read_parquet([snapshots[m] for m in months])
                expr = classified_view(snapshot, derived, self.params, span=True)
            # A new name each time: tables handed out earlier keep the view they were given.
            self._views[kind] = (months, self.engine.create_view(kind, expr))
            for key in [k for k in self._tables if k[0] == kind]:
                del self._tables[key]
        return self._views[kind][1]

    def org(self) -> ir.Table:
        path = self.store.org_path()
        if path is None:
            raise UsageError(
                translatable("no organisation file imported: `npldesk org import FILE` first")
            )
        return self.engine.read_parquet([path])

    def rows(self, expr: ir.Table) -> list[dict[str, Any]]:
        return self.engine.to_rows(expr)

    def lineage(self, months: list[date]) -> list[dict[str, Any]]:
        """The snapshots behind a figure: month, source file, its SHA-256, import id."""
        entries = {entry.as_of: entry for entry in self.store.snapshots()}
        return [
            {
                "as_of": as_of.isoformat(),
                "source": entries[as_of].source,
                "sha256": entries[as_of].sha256,
                "import_id": entries[as_of].import_id,
            }
            for as_of in months
            if as_of in entries
        ]
