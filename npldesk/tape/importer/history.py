"""Stage 3, history checks: each imported month against the month before it.

The month before is the latest earlier month, staged in the same import or stored. Exit
amounts are checked (and, when the mapping says so, filled) against last month's balances;
changed loan terms, loans that come back after leaving, missing months and unexplained exits
are warnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from npldesk.core.errors import Problem, Severity
from npldesk.core.i18n import marker as _
from npldesk.core.money import format_money
from npldesk.core.months import (
    month_end,
    month_label,
    month_range,
    previous_month_end,
    shift_month_end,
)
from npldesk.tape.convert import sql_string
from npldesk.tape.importer.staging import StageOnStaging, Staging
from npldesk.tape.schema import EXIT_STATUSES
from npldesk.tape.store import Store


@dataclass(frozen=True)
class HistoryResult:
    """Per month imported: how many rows each cross-snapshot warning concerns."""

    warning_counts: dict[date, dict[str, int]]
    # Months the whole-book check would have refused, imported because the exits were accepted.
    accepted_exits: tuple[date, ...] = ()


class HistoryChecks(StageOnStaging):
    """The checks of staged months against the months before them."""

    def __init__(self, staging: Staging, store: Store) -> None:
        super().__init__(staging)
        self.store = store

    def attach_previous(self, months: list[date]) -> None:
        """``prior``: the rows of every month just before an imported month (staged or stored)."""
        wanted = {previous_month_end(m) for m in months} - set(months)
        stored = [
            str(self.store.snapshot_paths()[m]) for m in sorted(wanted) if m in self.store.months()
        ]
        # Of the staged rows, only a month that another staged month looks back on (last
        # month's balances) or forward to (the unexplained-exits warning) can match anything.
        staged_months = set(months)
        needed = sorted(
            {previous_month_end(m) for m in months} & staged_months
            | {m for m in months if shift_month_end(m, 1) in staged_months}
        )
        in_needed = ", ".join(f"DATE {sql_string(m.isoformat())}" for m in needed) or "NULL"
        parts = [
            "SELECT as_of, loan_id, principal_balance, status, origination_date, "
            f"original_amount FROM staged WHERE as_of IN ({in_needed})"
        ]
        if stored:
            parts.append(
                "SELECT as_of, loan_id, principal_balance, status, origination_date, "
                f"original_amount FROM read_parquet({_sql_list(stored)})"
            )
        self.con.execute("CREATE OR REPLACE TEMP TABLE history AS " + " UNION ALL ".join(parts))

    def fill_exit_from_previous(self) -> None:
        exits = ", ".join(sql_string(s) for s in EXIT_STATUSES)
        self.con.execute(
            "UPDATE staged_table SET exit_amount = h.principal_balance FROM history h "
            f"WHERE staged_table.status IN ({exits}) AND staged_table.exit_amount IS NULL "
            "AND h.loan_id = staged_table.loan_id "
            "AND h.as_of = last_day(staged_table.as_of - INTERVAL 1 MONTH)"
        )
        self.add_rows(
            "terminal.exit_amount_required",
            "exit_amount",
            _(
                "required on written_off, transferred and foreclosed rows, and the "
                "loan has no balance last month to take it from"
            ),
            f"SELECT _file, _row, NULL, NULL FROM staged WHERE status IN ({exits}) "
            "AND exit_amount IS NULL",
        )

    def check_exits(self) -> bool:
        """Exit amounts against last month's balances; False when one is too large (then, in
        the fast path, the caller gets the row numbers and asks again)."""
        exits = ", ".join(sql_string(s) for s in EXIT_STATUSES)
        sql = (
            "SELECT s._file, s._row, CAST(s.exit_amount AS VARCHAR), "
            "CAST(h.principal_balance AS VARCHAR) FROM staged s JOIN history h "
            "ON h.loan_id = s.loan_id AND h.as_of = last_day(s.as_of - INTERVAL 1 MONTH) "
            f"WHERE s.status IN ({exits}) AND s.exit_amount > h.principal_balance"
        )
        if not self.exists(sql):
            return True
        if self.general:
            self.add_rows(
                "terminal.exit_amount_exceeds_previous",
                "exit_amount",
                _("more than the loan's balance last month ({detail})"),
                sql,
            )
        return False

    def cross_snapshot_warnings(self, months: list[date]) -> dict[date, dict[str, int]]:
        """Warnings, not errors: changed loan terms, missing months, unexplained exits."""
        counts: dict[date, dict[str, int]] = {m: {} for m in months}
        checks = {
            "origination_date": "origination_date changed since last month (was {previous})",
            "original_amount": "original_amount changed since last month (was {previous})",
        }
        changed = " OR ".join(f"s.{c} IS DISTINCT FROM h.{c}" for c in checks)
        # A loan that left the books last month (a terminal row) has a row again.
        returned = "h.status <> 'active'"
        if not self.general and self.exists(
            "SELECT 1 FROM staged s JOIN history h ON h.loan_id = s.loan_id "
            f"AND h.as_of = last_day(s.as_of - INTERVAL 1 MONTH) WHERE {changed} OR {returned}"
        ):
            self.write_general()  # the warnings name their rows
        rows = self.con.execute(
            "SELECT s.as_of, s._file, s._row, s.loan_id, h.status FROM staged s JOIN history h "
            "ON h.loan_id = s.loan_id AND h.as_of = last_day(s.as_of - INTERVAL 1 MONTH) "
            f"WHERE {returned} ORDER BY s._file, s._row"
        ).fetchall()
        for as_of, file_index, row_number, loan_id, status in rows:
            counts[as_of]["returned_after_exit"] = counts[as_of].get("returned_after_exit", 0) + 1
            file_name, label = self.file_label(file_index, "loan_id")
            self.warnings.add(
                Problem(
                    "exit.returned",
                    f"the loan left the books in {month_label(previous_month_end(as_of))} "
                    f"({status}) and has a row again: its figures count it as a new loan",
                    file_name,
                    row_number,
                    label,
                    loan_id,
                    Severity.WARNING,
                )
            )
        for column, message in checks.items():
            rows = self.con.execute(
                f"SELECT s.as_of, s._file, s._row, CAST(s.{column} AS VARCHAR), "
                f"CAST(h.{column} AS VARCHAR) FROM staged s JOIN history h "
                "ON h.loan_id = s.loan_id "
                "AND h.as_of = last_day(s.as_of - INTERVAL 1 MONTH) "
                f"WHERE s.{column} IS DISTINCT FROM h.{column} ORDER BY s._file, s._row"
            ).fetchall()
            for as_of, file_index, row_number, value, previous in rows:
                counts[as_of][f"{column}_changed"] = counts[as_of].get(f"{column}_changed", 0) + 1
                file_name, label = self.file_label(file_index, column)
                self.warnings.add(
                    Problem(
                        f"{column}.changed",
                        message.format(previous=previous),
                        file_name,
                        row_number,
                        label,
                        value,
                        Severity.WARNING,
                    )
                )
        exits = self.con.execute(
            "SELECT last_day(h.as_of + INTERVAL 1 MONTH) AS m, count(*), "
            "sum(h.principal_balance), list(h.loan_id ORDER BY h.loan_id)[1:20] "
            "FROM history h WHERE h.status = 'active' "
            "AND last_day(h.as_of + INTERVAL 1 MONTH) IN (SELECT DISTINCT as_of FROM staged) "
            "AND NOT EXISTS (SELECT 1 FROM staged s WHERE s.loan_id = h.loan_id "
            "AND s.as_of = last_day(h.as_of + INTERVAL 1 MONTH)) GROUP BY m"
        ).fetchall()
        for as_of, count, balance, examples in exits:
            counts[as_of]["unexplained_exits"] = int(count)
            self.warnings.add(
                Problem(
                    "exit.unexplained",
                    f"{count} loan(s) on the books in {month_label(previous_month_end(as_of))} "
                    f"have no row in {month_label(as_of)} (balance {format_money(balance)}); "
                    f"for example {', '.join(examples)}",
                    column="loan_id",
                    severity=Severity.WARNING,
                )
            )
        all_months = sorted(set(self.store.months()) | set(months))
        if all_months:
            expected = list(month_range(all_months[0], all_months[-1]))
            missing = [m for m in expected if m not in set(all_months)]
            if missing:
                self.warnings.add(
                    Problem(
                        "month.missing",
                        "month(s) missing in the sequence: "
                        + ", ".join(month_label(m) for m in missing[:24])
                        + (f" and {len(missing) - 24} more" if len(missing) > 24 else ""),
                        severity=Severity.WARNING,
                    )
                )
        return counts


@dataclass(frozen=True)
class BookComparison:
    """One imported month against the latest earlier month (staged or stored): how many of
    that month's loans on book have no row at all in this one, and in which units."""

    month: date
    previous: date
    on_book: int
    exits: int
    units: tuple[tuple[str, int, int], ...]  # (unit, exits, loans on book there), most first

    def exceeds(self, limit: Decimal) -> bool:
        return self.on_book > 0 and Decimal(self.exits) > limit * self.on_book


TOP_UNITS = 5


class WholeBookCheck(StageOnStaging):
    """A month whose loans vanish by the hundred without a terminal row looks like a partial
    export (one branch missing, a file cut short, a stray row dated another month): it is
    refused, naming both months, the count and the units most affected, unless the user
    accepts the exits (``docs/tape-import.md``, "unexplained exits")."""

    def __init__(self, staging: Staging, store: Store) -> None:
        super().__init__(staging)
        self.store = store

    def compare(self, months: list[date]) -> list[BookComparison]:
        # A date that is no month-end is reported by the row rules; it is no month to compare.
        # So is a row dated another month than --as-of says (as_of.mismatch).
        months = [m for m in months if month_end(m) == m]
        if self.options.as_of is not None:
            months = [m for m in months if m == month_end(self.options.as_of)]
        stored = self.store.snapshot_paths()
        pairs: list[tuple[date, date]] = []
        for month in months:
            earlier = [m for m in set(stored) | set(months) if m < month]
            if earlier:
                pairs.append((max(earlier), month))
        if not pairs:
            return []
        staged_months = set(months)
        # The month before is read from this import when it holds it (a --replace of it too).
        from_staged = sorted({p for p, _m in pairs if p in staged_months})
        from_store = sorted({p for p, _m in pairs if p not in staged_months})
        parts = []
        if from_staged:
            listed = ", ".join(f"DATE {sql_string(m.isoformat())}" for m in from_staged)
            parts.append(
                "SELECT as_of, loan_id, org_unit FROM staged "
                f"WHERE as_of IN ({listed}) AND status = 'active'"
            )
        if from_store:
            files = _sql_list([str(stored[m]) for m in from_store])
            parts.append(
                f"SELECT as_of, loan_id, org_unit FROM read_parquet({files}) "
                "WHERE status = 'active'"
            )
        values = ", ".join(
            f"(DATE {sql_string(p.isoformat())}, DATE {sql_string(m.isoformat())})"
            for p, m in pairs
        )
        # One pass, grouped by unit as it goes: months × units rows, whatever the book's size.
        by_unit = self.con.execute(
            "SELECT pairs.month, pairs.previous, b.org_unit, count(*), "
            "count(*) FILTER (WHERE s.loan_id IS NULL) "
            f"FROM (VALUES {values}) pairs(previous, month) "
            f"JOIN ({' UNION ALL '.join(parts)}) b ON b.as_of = pairs.previous "
            "LEFT JOIN (SELECT DISTINCT as_of, loan_id FROM staged) s "
            "ON s.as_of = pairs.month AND s.loan_id = b.loan_id GROUP BY ALL"
        ).fetchall()
        grouped: dict[tuple[date, date], list[tuple[str, int, int]]] = {}
        for month, previous, unit, on_book, gone in by_unit:
            grouped.setdefault((month, previous), []).append((str(unit), int(gone), int(on_book)))
        comparisons = []
        for (month, previous), units in sorted(grouped.items()):
            affected = sorted((u for u in units if u[1] > 0), key=lambda u: (-u[1], u[0]))
            comparisons.append(
                BookComparison(
                    month,
                    previous,
                    sum(u[2] for u in units),
                    sum(u[1] for u in units),
                    tuple(affected[:TOP_UNITS]),
                )
            )
        return comparisons

    def check(self, months: list[date]) -> tuple[date, ...]:
        """Report each month that looks partial; with --accept-exits, return them instead."""
        limit = self.options.unexplained_exits_limit
        partial = [c for c in self.compare(months) if c.exceeds(limit)]
        if self.options.accept_exits:
            return tuple(c.month for c in partial)
        for comparison in partial:
            self.problems.add(self._problem(comparison, limit))
        return ()

    def _problem(self, comparison: BookComparison, limit: Decimal) -> Problem:
        month, previous = month_label(comparison.month), month_label(comparison.previous)
        share = Decimal(100 * comparison.exits) / comparison.on_book
        units = ", ".join(f"{unit} ({exits} of {total})" for unit, exits, total in comparison.units)
        files = self.con.execute(
            "SELECT list(DISTINCT _file ORDER BY _file) FROM staged "
            f"WHERE as_of = DATE {sql_string(comparison.month.isoformat())}"
        ).fetchone()
        names = [self.staged[i].source.path.name for i in (files[0] if files else None) or []]
        return Problem(
            "exit.partial_month",
            f"{month} looks partial: {comparison.exits} of the {comparison.on_book} loans on "
            f"the books in {previous} have no row in {month} ({share:.1f} %, above the limit "
            f"of {limit * 100:.0f} %); units most affected: {units}. A month cut short, a "
            "branch left out or a row dated the wrong month looks like this; if these loans "
            "really left the books without a terminal row, import again with --accept-exits",
            names[0] if names else None,
            column="as_of",
            value=comparison.month.isoformat(),
        )


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join(sql_string(v) for v in values) + "]"


def check_history(staging: Staging, store: Store, months: list[date]) -> HistoryResult:
    """Exit amounts against last month and the whole-book check (problems), then the
    cross-snapshot warnings; the warnings are gathered only when no problem was found
    (nothing will be imported)."""
    checks = HistoryChecks(staging, store)
    checks.attach_previous(months)
    if any(
        s.mapping.columns.get("exit_amount") and s.mapping.columns["exit_amount"].previous_balance
        for s in staging.staged
    ):
        checks.fill_exit_from_previous()
    if not checks.check_exits() and not staging.general:
        staging.write_general()  # row numbers for the report
        checks.attach_previous(months)
        checks.check_exits()
    accepted = WholeBookCheck(staging, store).check(months)
    if staging.problems:
        return HistoryResult({})
    return HistoryResult(checks.cross_snapshot_warnings(months), accepted)
