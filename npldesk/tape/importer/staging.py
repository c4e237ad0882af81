"""Stage 1, staging: every file read, mapped and converted into one staged table.

``stage_files`` opens each file, compiles its mapping to SQL and makes the views that convert
it. The rows reach the table ``staged`` by one of two paths: the fast path writes them, without
row numbers, straight to Parquet as the snapshot will store them, in one scan per file; the
general path numbers every row so that problems can name them. The later stages move an import
to the general path when they find something to report.
"""

from __future__ import annotations

import dataclasses
import glob
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb

from npldesk.core.errors import Problem, ProblemList, Severity, UsageError
from npldesk.core.i18n import translatable
from npldesk.core.months import month_label
from npldesk.core.system import fsync_path
from npldesk.tape.checks import RowCheck, row_checks
from npldesk.tape.convert import CompiledColumn, compile_mapping, quote, sql_string
from npldesk.tape.importer.options import ImportOptions, Progress
from npldesk.tape.mapping import ColumnRule, Mapping, SourceOptions, identity_mapping
from npldesk.tape.readers import (
    SourceFile,
    has_blank_lines,
    inspect_bytes,
    open_source,
    reopen_decoded,
)
from npldesk.tape.sandbox import sandboxed_connection
from npldesk.tape.schema import COLUMN_NAMES, COLUMNS
from npldesk.tape.store import Transaction

_FLUSHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="npldesk-flush")


def _connect(
    transaction: Transaction, options: ImportOptions, files: list[Path]
) -> duckdb.DuckDBPyConnection:
    """The import's connection: it reads the import's files (``files``, joined files
    included), reads and writes its staging folder and reads the store's snapshots; a
    mapping's `sql:` can reach nothing else (``npldesk.tape.sandbox``)."""
    spill = transaction.staging / "spill"
    spill.mkdir(parents=True, exist_ok=True)
    settings = {
        "memory_limit": sql_string(options.memory_limit),
        "temp_directory": sql_string(str(spill.resolve())),
    }
    if options.threads:
        settings["threads"] = str(int(options.threads))
    return sandboxed_connection(
        files=files,
        folders=[transaction.staging, transaction.store.path / "tape"],
        settings=settings,
    )


def _resolve_join(source: Path, pattern: str, name: str, given: dict[str, Path]) -> Path:
    if name in given:
        return given[name]
    matches = sorted(glob.glob(str(source.parent / pattern)))
    if len(matches) != 1:
        found = "no file" if not matches else f"{len(matches)} files"
        raise UsageError(
            translatable(
                "the mapping joins {name!r} from {pattern!r} next to {source_name}, and {found} "
                "matched; give it with --join {name}=FILE",
                name=name,
                pattern=pattern,
                source_name=source.name,
                found=found,
            )
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


class Staging:
    """The staged rows of one import, the DuckDB connection that holds them, and the problems
    and warnings found so far (every stage adds to them)."""

    def __init__(
        self,
        transaction: Transaction,
        options: ImportOptions,
        progress: Progress,
        joins: dict[Path, list[Path]],
    ) -> None:
        self.transaction = transaction
        self.options = options
        self.progress = progress
        # Each input file's joined files, found before the connection is opened: it can read
        # only the files named when it was.
        self.joins = joins
        inputs = [path for path, joined in joins.items() for path in (path, *joined)]
        self.con = _connect(transaction, options, inputs)
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
                    translatable(
                        "{path_name}: required column(s) {missing} not found; the file has "
                        "{source_columns}. Name the columns as in the canonical tape or give a "
                        "mapping with --mapping",
                        path_name=path.name,
                        missing=", ".join(missing),
                        source_columns=", ".join(source.columns),
                    )
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
            join_path = self.joins[path][j_index]
            view = f"src{index}_j{j_index}"
            joined = open_source(
                self.con, join_path, join.source, view=view, staging=scratch, overlap=False
            )
            joins.append(joined)
            if join.right_on not in joined.columns:
                raise UsageError(
                    translatable(
                        "{join_path_name} (joined as {join_name!r}) has no column {right_on!r}",
                        join_path_name=join_path.name,
                        join_name=join.name,
                        right_on=join.right_on,
                    )
                )
            if join.left_on not in source.columns:
                raise UsageError(
                    translatable(
                        "{path_name} has no column {left_on!r} to join {join_name!r} on",
                        path_name=path.name,
                        left_on=join.left_on,
                        join_name=join.name,
                    )
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
                        translatable(
                            "{join_path_name} (joined as {join_name!r}) has no column {column!r}",
                            join_path_name=join_path.name,
                            join_name=join.name,
                            column=column,
                        )
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

    # -- the staged table: the fast path and the general path ----------------------------

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

    # -- reporting rows ------------------------------------------------------------------

    def file_label(self, file_index: int, column: str) -> tuple[str, str]:
        staged = self.staged[file_index]
        labels = {c.name: c.source_label for c in staged.compiled}
        return staged.source.path.name, labels.get(column, column)

    def add_rows(self, rule: str, column: str, message: str, sql: str) -> None:
        """Report rows from ``sql`` (selecting _file, _row, value, detail) under one rule."""
        limit = self.options.max_problems
        rows = self.con.execute(f"{sql} ORDER BY _file, _row LIMIT {limit}").fetchall()
        if not rows:
            return
        counted = self.con.execute(f"SELECT count(*) FROM ({sql})").fetchone()
        for file_index, row_number, value, detail in rows:
            file_name, label = self.file_label(file_index, column)
            text = with_canonical(
                translatable(message, detail=detail, value=value), column, {column: label}
            )
            self.problems.add(
                Problem(rule, text, file_name, row_number, label, text_or_none(value))
            )
        self.problems.extend_count((int(counted[0]) if counted else 0) - len(rows))

    def exists(self, sql: str) -> bool:
        found = self.con.execute(f"SELECT EXISTS ({sql})").fetchall()  # all: the result is done
        return bool(found and found[0][0])


def stage_files(
    transaction: Transaction, options: ImportOptions, files: list[Path], progress: Progress
) -> Staging:
    """Read and convert every file; the rows are written by ``Staging.write_fast`` or
    ``Staging.write_general`` (the row checks choose)."""
    joins = {
        Path(path): [
            _resolve_join(Path(path), join.path, join.name, options.join_files)
            for join in (options.mapping.joins if options.mapping else ())
        ]
        for path in files
    }
    staging = Staging(transaction, options, progress, joins)
    try:
        for index, path in enumerate(files):
            progress(f"reading {Path(path).name}")
            staging.staged.append(staging.stage_file(index, Path(path)))
    except BaseException:
        staging.con.close()
        raise
    return staging


def with_canonical(message: str, column: str, labels: dict[str, str]) -> str:
    """Name the canonical column too when the file calls it something else."""
    label = labels.get(column, column)
    if label == column or column not in COLUMN_NAMES:
        return message
    return translatable("{message} ({column})", message=message, column=column)


def text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


class StageOnStaging:
    """A later stage: works on the staged table through the staging's connection, reports
    into its problem and warning lists, and may move it to the general path."""

    def __init__(self, staging: Staging) -> None:
        self.staging = staging

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return self.staging.con

    @property
    def staged(self) -> list[StagedFile]:
        return self.staging.staged

    @property
    def options(self) -> ImportOptions:
        return self.staging.options

    @property
    def problems(self) -> ProblemList:
        return self.staging.problems

    @property
    def warnings(self) -> ProblemList:
        return self.staging.warnings

    @property
    def general(self) -> bool:
        return self.staging.general

    def write_general(self) -> None:
        self.staging.write_general()

    def exists(self, sql: str) -> bool:
        return self.staging.exists(sql)

    def add_rows(self, rule: str, column: str, message: str, sql: str) -> None:
        self.staging.add_rows(rule, column, message, sql)

    def file_label(self, file_index: int, column: str) -> tuple[str, str]:
        return self.staging.file_label(file_index, column)
