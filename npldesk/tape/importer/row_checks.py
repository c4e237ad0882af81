"""Stage 2, row checks: every rule one row breaks, and the rules across the rows of a month.

On the fast path one query asks whether any rule is broken at all; only then are the rows
numbered (the general path) and each problem reported with its file, row, column and value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from npldesk.core.errors import Problem
from npldesk.core.i18n import marker as _
from npldesk.core.months import month_label
from npldesk.tape.checks import (
    CONTROL_RULE,
    ID_RULE,
    ID_RULE_ROWS,
    id_numbers_valid,
    texts_clean,
)
from npldesk.tape.convert import quote, sentinel_condition, sql_string
from npldesk.tape.importer.staging import StageOnStaging, Staging, with_canonical
from npldesk.tape.schema import BORROWER_TYPES, COLUMN_NAMES, COLUMNS, Kind

TEXT_BATCH = 256 * 1024


@dataclass(frozen=True)
class RowCheckResult:
    """The months the staged rows hold (problems, if any, are in the staging's list)."""

    months: list[date]


class RowChecks(StageOnStaging):
    """The row rules and the cross-row rules over the staged table."""

    def fast_path_clean(self, org_codes: set[str]) -> bool:
        """True when no rule can be broken: every row rule on the typed values (and the
        sentinels of values that did not convert), and the cross-row rules."""
        tests = []
        id_rule = False
        for staged in self.staged:
            # The ID-number check digit is asked in numpy below: in SQL it cost more than every
            # other rule together.
            id_rule = id_rule or any(c.rule == ID_RULE for c in staged.checks)
            # So is the control-character rule: a regular expression on every text cell.
            rules = [
                c.on_values
                for c in staged.checks
                if not c.in_scan and c.rule not in (ID_RULE, CONTROL_RULE)
            ]
            rules += [
                condition
                for c in staged.compiled
                if (condition := sentinel_condition(c.column)) is not None
            ]
            # Each condition once (a money column's rule and its sentinel are the same test);
            # no COALESCE: in a WHERE clause an unknown (NULL) condition selects nothing.
            tests.append(
                f"(_file = {staged.index} AND ("
                + " OR ".join(f"({r})" for r in dict.fromkeys(rules))
                + "))"
            )
        units = ", ".join(sql_string(code) for code in sorted(org_codes)) or "NULL"
        # One pass for the row rules and the units; grouped passes for the cross-row rules.
        if self.exists(
            "SELECT 1 FROM staged WHERE "
            + " OR ".join(tests)
            + f" OR org_unit IS NULL OR org_unit NOT IN ({units})"
        ):
            return False
        if not self.texts_clean():
            return False
        if id_rule and not id_numbers_valid(
            self.con.sql(f"SELECT id_number FROM staged WHERE {ID_RULE_ROWS}")
            .to_arrow_table()
            .column(0)
        ):
            return False
        # Grouped by the key's hash, not its text (a fifth faster): equal keys have equal
        # hashes, so every group of the rule lies within one group here, and two keys that
        # share a hash only send the import to the general path, which groups by the text.
        # Every borrower_type is one of BORROWER_TYPES or NULL here (the enum rule above), so
        # counting which of them a borrower has counts its distinct types, and is cheaper.
        types_present = " + ".join(
            f"CAST(bool_or(borrower_type = {sql_string(t)}) AS INTEGER)" for t in BORROWER_TYPES
        )
        return not (
            self.exists("SELECT 1 FROM staged GROUP BY as_of, hash(loan_id) HAVING count(*) > 1")
            or self.exists(
                f"SELECT 1 FROM staged GROUP BY as_of, hash(borrower_id) HAVING {types_present} > 1"
            )
            or self.exists("SELECT 1 FROM staged GROUP BY as_of HAVING count(DISTINCT _file) > 1")
        )

    def texts_clean(self) -> bool:
        """No text value of the staged rows holds a control character (``CONTROL_RULE``),
        asked of the bytes a batch of rows at a time."""
        texts = ", ".join(quote(c.name) for c in COLUMNS if c.kind is Kind.TEXT)
        reader = self.con.sql(f"SELECT {texts} FROM staged").to_arrow_reader(TEXT_BATCH)
        if reader is None:
            return True
        return all(texts_clean(column) for batch in reader for column in batch.columns)

    def flag_value_rules(self) -> None:
        """Test the rules on typed values over the staged files, and add their rows to the flag."""
        parts = []
        for staged in self.staged:
            rules = " OR ".join(
                f"COALESCE({c.on_values}, false)" for c in staged.checks if not c.in_scan
            )
            parts.append(f"(_file = {staged.index} AND ({rules}))")
        self.con.execute(
            "CREATE OR REPLACE TEMP VIEW flagged AS SELECT _file, _row FROM staged "
            f"WHERE _bad OR {' OR '.join(parts)}"
        )

    def report_row_problems(self) -> None:
        self.flag_value_rules()
        bad_files = self.con.execute(
            "SELECT _file, count(*) FROM flagged GROUP BY _file"
        ).fetchall()
        if not bad_files:
            return
        order = {name: i for i, name in enumerate(COLUMN_NAMES)}
        for file_index, _count in bad_files:
            staged = self.staged[file_index]
            labels = {c.name: c.source_label for c in staged.compiled}
            found: list[tuple[int, int, Problem]] = []
            # One more scan of the file keeps only the flagged rows, with their text values;
            # every rule is then asked on those rows alone.
            bad = f"bad{file_index}"
            self.con.execute(
                f"CREATE TEMP TABLE {bad} AS SELECT * FROM {staged.view} WHERE _row IN "
                f"(SELECT _row FROM flagged WHERE _file = {file_index})"
            )
            # How many rows each rule refuses, in one scan of the flagged rows; the rows
            # themselves are read only for the rules that refuse some (a file has dozens of
            # rules and a refused file breaks a few).
            counts = (
                self.con.execute(
                    "SELECT "
                    + ", ".join(
                        f"count(*) FILTER (WHERE COALESCE({check.condition}, false))"
                        for check in staged.checks
                    )
                    + f" FROM {bad}"
                ).fetchone()
                if staged.checks
                else None
            )
            for check, total in zip(staged.checks, counts or (), strict=True):
                count = int(total)
                if not count:
                    continue
                limit = self.options.max_problems
                rows = self.con.execute(
                    f"SELECT _row, CAST({check.show} AS VARCHAR) FROM {bad} "
                    f"WHERE COALESCE({check.condition}, false) ORDER BY _row LIMIT {limit}"
                ).fetchall()
                for row_number, value in rows:
                    found.append(
                        (
                            row_number,
                            order.get(check.column, len(order)),
                            Problem(
                                check.rule,
                                with_canonical(check.message, check.column, labels),
                                staged.source.path.name,
                                row_number,
                                labels.get(check.column, check.column),
                                value,
                            ),
                        )
                    )
                self.problems.extend_count(count - len(rows))
            found.sort(key=lambda item: (item[0], item[1]))
            for _row, _col, problem in found:
                self.problems.add(problem)

    def check_cross_rows(self, org_codes: set[str]) -> None:
        """The rules across rows, reported row by row (general path)."""
        # Cheap grouped tests first; the row-by-row reports (windows, sorts) only when needed.
        if self.exists(
            "SELECT 1 FROM staged WHERE loan_id IS NOT NULL GROUP BY as_of, loan_id "
            "HAVING count(*) > 1"
        ):
            self._report_duplicates()
        if self.exists(
            "SELECT 1 FROM staged WHERE borrower_id IS NOT NULL GROUP BY as_of, borrower_id "
            "HAVING count(DISTINCT borrower_type) > 1"
        ):
            self._report_mixed_types()
        self._check_units_and_months(org_codes)

    def _report_duplicates(self) -> None:
        self.add_rows(
            "loan_id.unique",
            "loan_id",
            _("appears more than once in the snapshot (first at row {detail})"),
            "SELECT _file, _row, loan_id, first_row FROM (SELECT _file, _row, loan_id, "
            "row_number() OVER (PARTITION BY as_of, loan_id ORDER BY _file, _row) AS n, "
            "min(_row) OVER (PARTITION BY as_of, loan_id) AS first_row FROM staged "
            "WHERE loan_id IS NOT NULL AND as_of IS NOT NULL) WHERE n > 1",
        )

    def _report_mixed_types(self) -> None:
        self.add_rows(
            "borrower_type.consistent",
            "borrower_type",
            _(
                "differs from the borrower's other loans in this snapshot "
                "({detail} at their first row)"
            ),
            "SELECT _file, _row, borrower_type, first_type FROM (SELECT _file, _row, "
            "borrower_type, first_value(borrower_type) OVER (PARTITION BY as_of, borrower_id "
            "ORDER BY _file, _row) AS first_type FROM staged WHERE borrower_id IS NOT NULL "
            "AND borrower_type IS NOT NULL) WHERE borrower_type <> first_type",
        )

    def _check_units_and_months(self, org_codes: set[str]) -> None:
        codes = self.con.execute("SELECT DISTINCT org_unit FROM staged").fetchall()
        unknown = sorted(c[0] for c in codes if c[0] is not None and c[0] not in org_codes)
        if unknown:
            listed = ", ".join(sql_string(c) for c in unknown)
            self.add_rows(
                "org_unit.known",
                "org_unit",
                _("no unit with this code in the organisation file"),
                f"SELECT _file, _row, org_unit, NULL FROM staged WHERE org_unit IN ({listed})",
            )
        months = self.con.execute(
            "SELECT as_of, list(DISTINCT _file ORDER BY _file) FROM staged WHERE as_of IS NOT NULL "
            "GROUP BY as_of HAVING count(DISTINCT _file) > 1"
        ).fetchall()
        for as_of, files in months:
            names = [self.staged[i].source.path.name for i in files]
            self.problems.add(
                Problem(
                    "as_of.one_source",
                    f"month {month_label(as_of)} is in more than one file ({', '.join(names)}); "
                    "import each month from one file",
                    names[-1],
                    column="as_of",
                )
            )


def check_rows(staging: Staging, org_codes: set[str]) -> RowCheckResult:
    """Run every row and cross-row rule; report each broken rule by row (general path)."""
    checks = RowChecks(staging)
    if staging.needs_row_numbers():
        staging.write_general()
    else:
        staging.write_fast()
        if not checks.fast_path_clean(org_codes):
            staging.progress("finding the rows that break a rule")
            staging.write_general()
    if staging.general:
        checks.report_row_problems()
        checks.check_cross_rows(org_codes)
    months = [
        row[0]
        for row in staging.con.execute(
            "SELECT DISTINCT as_of FROM staged WHERE as_of IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]
    return RowCheckResult(months)
