"""Import: read → map → check → stage → commit, all or nothing.

One import takes one or more files (each holding one month or many) and commits every
snapshot they hold in a single manifest change. The files are read and converted in one
DuckDB scan each into a staged table together with a per-row failure flag; the details of
problems are gathered only if something failed, so a clean import does no work twice.
"""

from __future__ import annotations

import dataclasses
import glob
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from npldesk.core.errors import (
    DataError,
    NpldeskError,
    Problem,
    ProblemList,
    Severity,
    UsageError,
)
from npldesk.core.money import format_money
from npldesk.core.months import month_label, month_range, previous_month_end, shift_month_end
from npldesk.core.system import current_user, fsync_path
from npldesk.tape.checks import ID_RULE, ID_RULE_ROWS, RowCheck, id_numbers_valid, row_checks
from npldesk.tape.convert import (
    CompiledColumn,
    compile_mapping,
    quote,
    sentinel_condition,
    sql_string,
)
from npldesk.tape.mapping import ColumnRule, Mapping, SourceOptions, identity_mapping
from npldesk.tape.org import load_org
from npldesk.tape.readers import (
    SourceFile,
    has_blank_lines,
    inspect_bytes,
    open_source,
    reopen_decoded,
)
from npldesk.tape.schema import (
    BORROWER_TYPES,
    COLUMN_NAMES,
    COLUMNS,
    EXIT_STATUSES,
    SCHEMA_VERSION,
)
from npldesk.tape.store import Store, Transaction

Progress = Callable[[str], None]
_FLUSHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="npldesk-flush")
WARNING_EXAMPLES = 20


@dataclass
class SnapshotSummary:
    """What one committed snapshot holds."""

    as_of: date
    rows: int
    loans_on_book: int
    balance: str
    source: str
    replaced: bool


@dataclass
class ImportResult:
    import_id: str
    snapshots: list[SnapshotSummary]
    warnings: list[Problem] = field(default_factory=list)
    warning_total: int = 0


@dataclass(frozen=True)
class ImportOptions:
    mapping: Mapping | None = None
    as_of: date | None = None
    replace: bool = False
    join_files: dict[str, Path] = field(default_factory=dict)
    user: str | None = None
    max_problems: int = 1000
    memory_limit: str = "1GB"
    threads: int | None = None


def _connect(transaction: Transaction, options: ImportOptions) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"preserve_insertion_order": True})
    con.execute("SET enable_progress_bar = false")
    spill = transaction.staging / "spill"
    spill.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET memory_limit = {sql_string(options.memory_limit)}")
    con.execute(f"SET temp_directory = {sql_string(str(spill))}")
    if options.threads:
        con.execute(f"SET threads = {int(options.threads)}")
    return con


def _resolve_join(source: Path, pattern: str, name: str, given: dict[str, Path]) -> Path:
    if name in given:
        return given[name]
    matches = sorted(glob.glob(str(source.parent / pattern)))
    if len(matches) != 1:
        found = "no file" if not matches else f"{len(matches)} files"
        raise UsageError(
            f"the mapping joins {name!r} from {pattern!r} next to {source.name}, and {found} "
            f"matched; give it with --join {name}=FILE"
        )
    return Path(matches[0])


@dataclass
class StagedFile:
    """One input file after its scan: where its rows are and what they were read from."""

    index: int
    source: SourceFile
    joins: list[SourceFile]
    compiled: list[CompiledColumn]
    checks: list[RowCheck]
    view: str
    mapping: Mapping
    fast_file: Path | None = None


class Importer:
    """Runs one import inside a store transaction."""

    def __init__(
        self, store: Store, transaction: Transaction, options: ImportOptions, progress: Progress
    ) -> None:
        self.store = store
        self.transaction = transaction
        self.options = options
        self.progress = progress
        self.con = _connect(transaction, options)
        self.problems = ProblemList(limit=options.max_problems)
        self.warnings = ProblemList(limit=options.max_problems)
        self.staged: list[StagedFile] = []
        self.general = False
        self.flushes: list[Future[None]] = []

    # -- reading and converting ----------------------------------------------------------

    def stage_file(self, index: int, path: Path) -> StagedFile:
        options = self.options
        scratch = self.transaction.staging / "read"
        mapping = options.mapping
        source_options = mapping.source if mapping else SourceOptions()
        source = open_source(self.con, path, source_options, view=f"src{index}", staging=scratch)
        if mapping is None:
            mapping = identity_mapping(list(source.columns))
            unknown = [c for c in source.columns if c not in COLUMN_NAMES]
            missing = [
                c.name
                for c in COLUMNS
                if c.required
                and c.name not in source.columns
                and not (c.name == "as_of" and options.as_of)
            ]
            if missing:
                raise UsageError(
                    f"{path.name}: required column(s) {', '.join(missing)} not found; the file "
                    f"has {', '.join(source.columns)}. Name the columns as in the canonical tape "
                    "or give a mapping with --mapping"
                )
            for column in unknown:
                self.warnings.add(
                    Problem(
                        "column.unknown",
                        f"column {column!r} is not a canonical column and is ignored",
                        path.name,
                        column=column,
                        severity=Severity.WARNING,
                    )
                )
        available = {name: f"src.{quote(name)}" for name in source.columns}
        joins: list[SourceFile] = []
        join_sql = ""
        markers: dict[str, tuple[str, str]] = {}
        for j_index, join in enumerate(mapping.joins):
            join_path = _resolve_join(path, join.path, join.name, options.join_files)
            view = f"src{index}_j{j_index}"
            joined = open_source(
                self.con, join_path, join.source, view=view, staging=scratch, overlap=False
            )
            joins.append(joined)
            if join.right_on not in joined.columns:
                raise UsageError(
                    f"{join_path.name} (joined as {join.name!r}) has no column {join.right_on!r}"
                )
            if join.left_on not in source.columns:
                raise UsageError(
                    f"{path.name} has no column {join.left_on!r} to join {join.name!r} on"
                )
            # A key more than once is reported; the tape's rows are then checked against the
            # first row of each key, so that one import reports every problem of the files.
            first_of_each_key = (
                f" QUALIFY row_number() OVER (PARTITION BY TRIM({quote(join.right_on)}) "
                "ORDER BY _row) = 1"
                if self._check_join_keys(joined, join.right_on)
                else ""
            )
            alias = quote(join.name)  # `sql:` expressions write <join name>."<column>"
            wanted = join.columns or tuple(c for c in joined.columns if c != join.right_on)
            for column in wanted:
                if column not in joined.columns:
                    raise UsageError(
                        f"{join_path.name} (joined as {join.name!r}) has no column {column!r}"
                    )
                available[f"{join.name}.{column}"] = f"{alias}.{quote(column)}"
            join_sql += (
                f" LEFT JOIN (SELECT *, true AS _present FROM {view}{first_of_each_key}) {alias} "
                f"ON TRIM(src.{quote(join.left_on)}) = TRIM({alias}.{quote(join.right_on)})"
            )
            markers[join.name] = (f"COALESCE({alias}._present, false)", join.left_on)
        as_of_in_file = False
        if options.as_of is not None:
            as_of_rule = mapping.columns.get("as_of")
            as_of_in_file = as_of_rule is not None and as_of_rule.constant is None
            if not as_of_in_file:
                given = ColumnRule(canonical="as_of", constant=options.as_of.isoformat())
                mapping = dataclasses.replace(mapping, columns={**mapping.columns, "as_of": given})
        compiled = compile_mapping(mapping, available)
        exit_rule = mapping.columns.get("exit_amount")
        exit_from_previous = bool(exit_rule and exit_rule.previous_balance)
        checks = row_checks(
            compiled,
            as_of_given=options.as_of is not None,
            exit_from_previous=exit_from_previous,
            join_markers={
                name: (f"{quote('_j_' + name)}", key) for name, (_, key) in markers.items()
            },
        )
        if options.as_of is not None and as_of_in_file:
            checks.append(
                RowCheck(
                    "as_of.mismatch",
                    "as_of",
                    f"{quote('as_of')} <> DATE {sql_string(options.as_of.isoformat())}",
                    f"as_of: differs from --as-of {month_label(options.as_of)}",
                    quote("as_of__raw"),
                )
            )
        raw_list = ", ".join(f"{c.raw_sql} AS {quote(c.name + '__raw')}" for c in compiled)
        marker_list = "".join(
            f", {sql} AS {quote('_j_' + name)}" for name, (sql, _key) in markers.items()
        )
        value_list = ", ".join(
            f"CAST({c.value_sql} AS {c.column.sql_type}) AS {quote(c.name)}" for c in compiled
        )
        view = f"conv{index}"
        self.con.execute(
            f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT *, {value_list} FROM ("
            f"SELECT src._row, {raw_list}{marker_list} FROM {source.view} src{join_sql})"
        )
        # The fast path's view: no row numbers, a value that does not convert becomes a
        # sentinel that a value rule rejects (see convert.SENTINELS).
        fast_list = ", ".join(
            f"CAST({c.fast_value_sql} AS {c.column.sql_type}) AS {quote(c.name)}" for c in compiled
        )
        fast_inputs = ", ".join(
            f"{c.raw_sql} AS {quote(c.name + '__raw')}"
            if c.fast_text_sql is None
            else f"{c.fast_text_sql} AS {quote(c.name + '__text')}"
            for c in compiled
        )
        if not mapping.joins:
            self.con.execute(
                f"CREATE OR REPLACE TEMP VIEW fast{index} AS SELECT {fast_list} FROM ("
                f"SELECT {fast_inputs} FROM {source.view} src)"
            )
        staged = StagedFile(index, source, joins, compiled, checks, view, mapping)
        return staged

    def _check_join_keys(self, joined: SourceFile, key: str) -> bool:
        """Report each key the joined file holds more than once; True when there is one."""
        duplicates = self.con.execute(
            f"SELECT TRIM({quote(key)}) AS k, min(_row), max(_row), count(*) FROM {joined.view} "
            f"GROUP BY k HAVING count(*) > 1 ORDER BY min(_row) LIMIT {self.options.max_problems}"
        ).fetchall()
        for key_value, first, last, _count in duplicates:
            self.problems.add(
                Problem(
                    "join.key_unique",
                    f"{key} {key_value} appears more than once in a joined file "
                    f"(first at row {first})",
                    joined.path.name,
                    last,
                    key,
                    key_value,
                )
            )
        return bool(duplicates)

    # -- staging and checking ------------------------------------------------------------

    def needs_row_numbers(self) -> bool:
        """Joins and exit amounts taken from last month need the general path from the start."""
        return any(
            staged.mapping.joins
            or (
                staged.mapping.columns.get("exit_amount") is not None
                and staged.mapping.columns["exit_amount"].previous_balance
            )
            for staged in self.staged
        )

    def write_fast(self) -> None:
        """The fast path: one scan per file converts every row and writes it to Parquet exactly
        as the snapshot will store it, without row numbers (numbering rows costs the scan its
        parallelism). ``fast_path_clean`` then decides whether that can stand."""
        columns = ", ".join(quote(c) for c in COLUMN_NAMES)
        views = []
        for staged in self.staged:
            target = self.transaction.staging / "staged" / f"file{staged.index}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            copy = (
                f"COPY (SELECT {columns} FROM fast{staged.index}) TO {sql_string(str(target))} "
                "(FORMAT parquet)"
            )
            self._scan(staged, copy)
            staged.fast_file = target
            # Flushing the file to disk overlaps the checks; it is awaited before the file moves.
            self.flushes.append(_FLUSHER.submit(fsync_path, target))
            views.append(
                f"SELECT {columns}, CAST(NULL AS BIGINT) AS _row, false AS _bad, "
                f"{staged.index} AS _file FROM read_parquet({sql_string(str(target))})"
            )
        self.con.execute("CREATE OR REPLACE TEMP VIEW staged AS " + " UNION ALL ".join(views))
        self.general = False

    def _scan(self, staged: StagedFile, statement: str) -> None:
        """Run a statement that scans the file; read it again through Python when the byte
        check says DuckDB's reading cannot stand (not UTF-8 throughout, blank lines)."""
        try:
            self.con.execute(statement)
            stands = staged.source.settle()
        except duckdb.InvalidInputException:
            # DuckDB met bytes that are not UTF-8 beyond the first megabyte, or a broken line.
            staged.source.settle()
            stands = False
        if not stands:
            self.say_reading_again(staged)
            self.con.execute(statement)

    def _number_rows_right(self, staged: StagedFile, *, full_check: bool) -> None:
        """Before rows are numbered: a CSV that DuckDB would number wrongly (blank lines) or
        cannot read (not UTF-8 throughout) is read again through Python's decoder."""
        source = staged.source
        stands = source.settle()
        if stands and source.format == "csv" and (full_check or not source.blank_lines_checked):
            if full_check:
                _sha, encoding, blank = inspect_bytes(source.path, staged.mapping.source.encoding)
                stands = encoding == source.encoding and not blank
            else:
                stands = not has_blank_lines(source.path)
            source.blank_lines_checked = True
        if not stands:
            self.say_reading_again(staged)

    def fast_path_clean(self, org_codes: set[str]) -> bool:
        """True when no rule can be broken: every row rule on the typed values (and the
        sentinels of values that did not convert), and the cross-row rules."""
        tests = []
        id_rule = False
        for staged in self.staged:
            # The ID-number check digit is asked in numpy below: in SQL it cost more than every
            # other rule together.
            id_rule = id_rule or any(c.rule == ID_RULE for c in staged.checks)
            rules = [c.on_values for c in staged.checks if not c.in_scan and c.rule != ID_RULE]
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
        if self._any(
            "SELECT 1 FROM staged WHERE "
            + " OR ".join(tests)
            + f" OR org_unit IS NULL OR org_unit NOT IN ({units})"
        ):
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
            self._any("SELECT 1 FROM staged GROUP BY as_of, hash(loan_id) HAVING count(*) > 1")
            or self._any(
                f"SELECT 1 FROM staged GROUP BY as_of, hash(borrower_id) HAVING {types_present} > 1"
            )
            or self._any("SELECT 1 FROM staged GROUP BY as_of HAVING count(DISTINCT _file) > 1")
        )

    def write_general(self) -> None:
        """The general path: every row with its row number and a flag for the rules that need
        the source text, in a table the reports and the exit-amount fill can work on."""
        columns = ", ".join(quote(c) for c in COLUMN_NAMES)
        selects = []
        for staged in self.staged:
            flag = (
                " OR ".join(f"COALESCE({c.condition}, false)" for c in staged.checks if c.in_scan)
                or "false"
            )
            selects.append(
                f"SELECT {staged.index} AS _file, _row, {columns}, ({flag}) AS _bad "
                f"FROM {staged.view}"
            )
        statement = "CREATE OR REPLACE TEMP TABLE staged_table AS " + " UNION ALL ".join(selects)
        for staged in self.staged:
            self._number_rows_right(staged, full_check=False)
        try:
            self.con.execute(statement)
        except duckdb.InvalidInputException:
            # Bytes that are not UTF-8 beyond the first megabyte: find the file, read it again.
            for staged in self.staged:
                self._number_rows_right(staged, full_check=True)
            try:
                self.con.execute(statement)
            except duckdb.InvalidInputException:
                # A broken line: Python's reader names it (row and field count).
                for staged in self.staged:
                    if staged.source.format == "csv" and staged.source.pending is None:
                        self.say_reading_again(staged)
                self.con.execute(statement)
        self.con.execute("CREATE OR REPLACE TEMP VIEW staged AS SELECT * FROM staged_table")
        self.general = True

    def say_reading_again(self, staged: StagedFile) -> None:
        """Re-read a CSV through Python's decoder: not UTF-8 throughout, or blank lines."""
        self.progress(f"reading {staged.source.path.name} again ({staged.source.encoding})")
        options = staged.mapping.source
        staged.source = reopen_decoded(
            self.con, staged.source, options, staging=self.transaction.staging / "read"
        )

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
            for check in staged.checks:
                limit = self.options.max_problems
                rows = self.con.execute(
                    f"SELECT _row, CAST({check.show} AS VARCHAR) FROM {bad} "
                    f"WHERE COALESCE({check.condition}, false) ORDER BY _row LIMIT {limit}"
                ).fetchall()
                if not rows:
                    continue
                total = self.con.execute(
                    f"SELECT count(*) FROM {bad} WHERE COALESCE({check.condition}, false)"
                ).fetchone()
                count = int(total[0]) if total else len(rows)
                for row_number, value in rows:
                    found.append(
                        (
                            row_number,
                            order.get(check.column, len(order)),
                            Problem(
                                check.rule,
                                _with_canonical(check.message, check.column, labels),
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

    def _file_label(self, file_index: int, column: str) -> tuple[str, str]:
        staged = self.staged[file_index]
        labels = {c.name: c.source_label for c in staged.compiled}
        return staged.source.path.name, labels.get(column, column)

    def _add_rows(self, rule: str, column: str, message: str, sql: str) -> None:
        """Report rows from ``sql`` (selecting _file, _row, value, detail) under one rule."""
        limit = self.options.max_problems
        rows = self.con.execute(f"{sql} ORDER BY _file, _row LIMIT {limit}").fetchall()
        if not rows:
            return
        counted = self.con.execute(f"SELECT count(*) FROM ({sql})").fetchone()
        for file_index, row_number, value, detail in rows:
            file_name, label = self._file_label(file_index, column)
            text = _with_canonical(
                message.format(detail=detail, value=value), column, {column: label}
            )
            self.problems.add(Problem(rule, text, file_name, row_number, label, _text(value)))
        self.problems.extend_count((int(counted[0]) if counted else 0) - len(rows))

    def _any(self, sql: str) -> bool:
        found = self.con.execute(f"SELECT EXISTS ({sql})").fetchall()  # all: the result is done
        return bool(found and found[0][0])

    def check_cross_rows(self, org_codes: set[str]) -> None:
        """The rules across rows, reported row by row (general path)."""
        # Cheap grouped tests first; the row-by-row reports (windows, sorts) only when needed.
        if self._any(
            "SELECT 1 FROM staged WHERE loan_id IS NOT NULL GROUP BY as_of, loan_id "
            "HAVING count(*) > 1"
        ):
            self._report_duplicates()
        if self._any(
            "SELECT 1 FROM staged WHERE borrower_id IS NOT NULL GROUP BY as_of, borrower_id "
            "HAVING count(DISTINCT borrower_type) > 1"
        ):
            self._report_mixed_types()
        self._check_units_and_months(org_codes)

    def _report_duplicates(self) -> None:
        self._add_rows(
            "loan_id.unique",
            "loan_id",
            "appears more than once in the snapshot (first at row {detail})",
            "SELECT _file, _row, loan_id, first_row FROM (SELECT _file, _row, loan_id, "
            "row_number() OVER (PARTITION BY as_of, loan_id ORDER BY _file, _row) AS n, "
            "min(_row) OVER (PARTITION BY as_of, loan_id) AS first_row FROM staged "
            "WHERE loan_id IS NOT NULL AND as_of IS NOT NULL) WHERE n > 1",
        )

    def _report_mixed_types(self) -> None:
        self._add_rows(
            "borrower_type.consistent",
            "borrower_type",
            "differs from the borrower's other loans in this snapshot "
            "({detail} at their first row)",
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
            self._add_rows(
                "org_unit.known",
                "org_unit",
                "no unit with this code in the organisation file",
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

    # -- previous months -----------------------------------------------------------------

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
        self._add_rows(
            "terminal.exit_amount_required",
            "exit_amount",
            "required on written_off, transferred and foreclosed rows, and the "
            "loan has no balance last month to take it from",
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
        if not self._any(sql):
            return True
        if self.general:
            self._add_rows(
                "terminal.exit_amount_exceeds_previous",
                "exit_amount",
                "more than the loan's balance last month ({detail})",
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
        if not self.general and self._any(
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
            file_name, label = self._file_label(file_index, "loan_id")
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
                file_name, label = self._file_label(file_index, column)
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


def _with_canonical(message: str, column: str, labels: dict[str, str]) -> str:
    """Name the canonical column too when the file calls it something else."""
    label = labels.get(column, column)
    return message if label == column or column not in COLUMN_NAMES else f"{message} ({column})"


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join(sql_string(v) for v in values) + "]"


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def import_files(
    store: Store,
    files: list[Path],
    options: ImportOptions,
    *,
    progress: Progress | None = None,
) -> ImportResult:
    """Import every snapshot in ``files`` in one transaction; raise ``DataError`` with every
    problem found, leaving the store as it was, when any row breaks a rule."""
    say = progress or (lambda _message: None)
    if not files:
        raise UsageError("no file to import")
    for path in files:
        if not Path(path).is_file():
            raise UsageError(f"file not found: {path}")
    if options.as_of is not None and len(files) > 1:
        raise UsageError("--as-of names one month; give one file with it")
    try:
        return _import(store, files, options, say)
    except OSError as exc:
        # A full disk (ENOSPC), a file-size limit (EFBIG), a permission: nothing was committed.
        raise NpldeskError(
            f"the import could not write its files ({exc.strerror or exc}); the store is unchanged"
        ) from exc
    except duckdb.IOException as exc:
        raise NpldeskError(
            f"the import could not read or write a file ({_first_line(exc)}); "
            "the store is unchanged"
        ) from exc
    except duckdb.Error as exc:
        # Most often a mapping's `sql:` expression that DuckDB cannot run.
        raise UsageError(f"the import failed: {_first_line(exc)}; the store is unchanged") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _import(store: Store, files: list[Path], options: ImportOptions, say: Progress) -> ImportResult:
    with store.writing() as transaction:
        org = load_org(store)
        if not org:
            raise UsageError(
                "no organisation file imported yet: run `npldesk org import FILE` first "
                "(every loan's org_unit is checked against it)"
            )
        importer = Importer(store, transaction, options, say)
        try:
            for index, path in enumerate(files):
                say(f"reading {Path(path).name}")
                importer.staged.append(importer.stage_file(index, Path(path)))
            say("converting and checking rows")
            org_codes = {u.code for u in org}
            if importer.needs_row_numbers():
                importer.write_general()
            else:
                importer.write_fast()
                if not importer.fast_path_clean(org_codes):
                    say("finding the rows that break a rule")
                    importer.write_general()
            if importer.general:
                importer.report_row_problems()
                importer.check_cross_rows(org_codes)
            months = [
                r[0]
                for r in importer.con.execute(
                    "SELECT DISTINCT as_of FROM staged WHERE as_of IS NOT NULL ORDER BY 1"
                ).fetchall()
            ]
            if not months and not importer.problems:
                raise UsageError("the file(s) hold no rows")
            existing = [m for m in months if m in set(store.months())]
            if existing and not options.replace:
                raise UsageError(
                    "already imported: "
                    + ", ".join(month_label(m) for m in existing)
                    + "; use --replace to import again (the old snapshot is kept until the new "
                    "one is complete)"
                )
            importer.attach_previous(months)
            if any(
                s.mapping.columns.get("exit_amount")
                and s.mapping.columns["exit_amount"].previous_balance
                for s in importer.staged
            ):
                importer.fill_exit_from_previous()
            if not importer.check_exits() and not importer.general:
                importer.write_general()  # row numbers for the report
                importer.attach_previous(months)
                importer.check_exits()
            if importer.problems:
                importer.problems.problems.sort(key=lambda p: (p.file or "", p.row or 0))
                names = ", ".join(Path(p).name for p in files)
                raise DataError(
                    f"{names}: {importer.problems.total} problem(s) found; nothing imported",
                    problems=importer.problems.problems,
                    total=importer.problems.total,
                )
            warning_counts = importer.cross_snapshot_warnings(months)
            result = _write_and_commit(store, transaction, importer, months, warning_counts, say)
        finally:
            importer.con.close()
    result.warnings = importer.warnings.problems
    result.warning_total = importer.warnings.total
    return result


def _write_and_commit(
    store: Store,
    transaction: Transaction,
    importer: Importer,
    months: list[date],
    warning_counts: dict[date, dict[str, int]],
    say: Progress,
) -> ImportResult:
    con = importer.con
    options = importer.options
    manifest = store.manifest()
    user = options.user or current_user()
    now = datetime.now(UTC).isoformat(timespec="seconds")
    columns = ", ".join(quote(c) for c in COLUMN_NAMES)
    summaries = []
    # The flushes of the fast path's staged files run on a worker thread; each must be done
    # before its file is moved into place below (a flush that comes late would open a path that
    # is gone, and the import would fail on a busy machine).
    for flush in importer.flushes:
        flush.result()
    # Figures first: the staged files are moved into place below.
    figures = {
        row[0]: row[1:]
        for row in con.execute(
            "SELECT as_of, count(*), count(*) FILTER (WHERE status = 'active'), "
            "COALESCE(sum(principal_balance), 0), min(_file) FROM staged GROUP BY as_of"
        ).fetchall()
    }
    single_month = {
        index: count == 1
        for index, count in con.execute(
            "SELECT _file, count(DISTINCT as_of) FROM staged GROUP BY _file"
        ).fetchall()
    }
    for as_of in months:
        say(f"writing {month_label(as_of)}")
        relative = transaction.snapshot_file(as_of)
        target = transaction.stage_path(relative)
        condition = f"as_of = DATE {sql_string(as_of.isoformat())}"
        rows, on_book, balance, file_index = figures[as_of]
        fast_file = importer.staged[file_index].fast_file
        if not importer.general and fast_file is not None and single_month[file_index]:
            fast_file.replace(target)  # the staged file is the snapshot, as written
        else:
            con.execute(
                f"COPY (SELECT {columns} FROM staged WHERE {condition}) "
                f"TO {sql_string(str(target))} (FORMAT parquet)"
            )
        staged = importer.staged[file_index]
        key = as_of.isoformat()
        previous = manifest["snapshots"].get(key)
        entry: dict[str, Any] = {
            "as_of": key,
            "file": relative,
            "rows": int(rows),
            "loans_on_book": int(on_book),
            "balance": format_money(balance),
            "source": staged.source.path.name,
            "sha256": staged.source.sha256,
            "sources": [_source_entry(staged.source, "data")]
            + [
                _source_entry(j, f"join:{m.name}")
                for j, m in zip(staged.joins, staged.mapping.joins, strict=True)
            ],
            "encoding": staged.source.encoding,
            "mapping": None if staged.mapping.is_identity else staged.mapping.name,
            "mapping_sha256": staged.mapping.sha256,
            "imported_at": now,
            "imported_by": user,
            "import_id": transaction.import_id,
            "schema_version": SCHEMA_VERSION,
            "warnings": warning_counts.get(as_of, {}),
            "replaces": None
            if previous is None
            else {
                k: previous[k]
                for k in (
                    "import_id",
                    "source",
                    "sha256",
                    "rows",
                    "balance",
                    "imported_at",
                    "imported_by",
                )
            },
        }
        manifest["snapshots"][key] = entry
        summaries.append(
            SnapshotSummary(
                as_of,
                int(rows),
                int(on_book),
                entry["balance"],
                entry["source"],
                previous is not None,
            )
        )
    manifest.setdefault("history", []).append(
        {
            "import_id": transaction.import_id,
            "action": "replace" if any(s.replaced for s in summaries) else "import",
            "at": now,
            "by": user,
            "months": [m.isoformat() for m in months],
            "replaced": [s.as_of.isoformat() for s in summaries if s.replaced],
            "sources": [s.source.path.name for s in importer.staged],
        }
    )
    say("committing")
    transaction.commit(manifest)
    return ImportResult(transaction.import_id, summaries)


def _source_entry(source: SourceFile, role: str) -> dict[str, Any]:
    return {
        "role": role,
        "name": source.path.name,
        "sha256": source.sha256,
        "format": source.format,
        "encoding": source.encoding,
    }
