"""The row-level rules of ``docs/tape.md`` as SQL conditions, each with a rule name.

A ``RowCheck`` is true on a bad row. The importer ORs all of them into one flag computed in
the same scan that converts the file (the fast path), and asks for the details only when the
flag is set somewhere. Cross-row rules (uniqueness, one borrower type per borrower, known
units, exit amounts against last month) run on the staged table afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from npldesk.core.i18n import translatable
from npldesk.tape.convert import CompiledColumn, quote, sql_string
from npldesk.tape.schema import EXIT_STATUSES, STATUSES, Kind

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
ID_RULE = "id_number.check_digit"
# The rows the ID-number rule looks at (``id_numbers_valid`` takes their id_number values).
ID_RULE_ROWS = f"{quote('borrower_type')} = 'retail' AND {quote('id_number')} IS NOT NULL"
# A control character in a text value: PostgreSQL cannot store a NUL byte at all, and the
# others (escapes, bells, form feeds) garble lists and exports. Tabs and line breaks are text
# a spreadsheet cell may hold (a line break typed in a cell) and are kept.
CONTROL_RULE = "text.control_character"
CONTROL_PATTERN = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]"
CONTROL_BYTES = np.array(
    [(b < 0x20 and b not in (0x09, 0x0A, 0x0D)) or b == 0x7F for b in range(256)], dtype=bool
)


@dataclass(frozen=True)
class RowCheck:
    """A rule broken by a row when ``condition`` is true; ``column`` is the one reported.

    ``in_scan``: the rule needs the source text (a conversion failure, a join marker), so it is
    tested in the scan that converts the file. The others read typed values only and are
    tested on the staged Parquet afterwards; in the scan they would each re-evaluate the
    conversion expressions they refer to.
    """

    rule: str
    column: str
    condition: str
    message: str
    show: str  # SQL for the value shown in the report
    in_scan: bool = False

    @property
    def on_values(self) -> str:
        """The condition over typed columns (a missing value is NULL once converted)."""
        if self.rule == "required":
            return f"{val(self.column)} IS NULL"
        return self.condition


def raw(name: str) -> str:
    return quote(f"{name}__raw")


def val(name: str) -> str:
    return quote(name)


def id_number_valid_sql(expr: str) -> str:
    """True for an 18-character ID with a correct ISO 7064 MOD 11-2 check digit (GB 11643-1999),
    or a legacy 15-digit ID (no check digit)."""
    # The 17 digits as one integer, bound once (a lambda), and each digit taken out by
    # integer arithmetic: far cheaper than 17 substrings. TRY_CAST: DuckDB may compute this
    # for a row the pattern rejects, where a CAST would stop the whole import.
    terms = " + ".join(f"((n // {10 ** (16 - i)}) % 10) * {w}" for i, w in enumerate(ID_WEIGHTS))
    weighted = f"list_transform([TRY_CAST(substr({expr}, 1, 17) AS BIGINT)], lambda n: {terms})[1]"
    return (
        f"(regexp_full_match({expr}, '[0-9]{{15}}') OR "
        f"(regexp_full_match({expr}, '[0-9]{{17}}[0-9Xx]') AND "
        f"upper(substr({expr}, 18, 1)) = substr({sql_string(ID_CHECK_CHARS)}, "
        f"CAST(({weighted}) % 11 AS INTEGER) + 1, 1)))"
    )


def id_numbers_valid(values: pa.ChunkedArray | pa.Array) -> bool:
    """True when every value passes ``id_number_valid_sql`` (NULLs are not looked at): the same
    rule on the bytes, in numpy, for the fast path; the SQL names the rows that break it.

    The patterns are ASCII digits (and X/x), so a value that matches has as many bytes as
    characters: 15 digit bytes, or 17 digit bytes, a check byte and the right weighted sum."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    weights = np.array(ID_WEIGHTS, dtype=np.int32)
    check_chars = np.frombuffer(ID_CHECK_CHARS.encode(), dtype=np.uint8)
    for chunk in chunks:
        if chunk.null_count:
            chunk = chunk.drop_null()
        if len(chunk) == 0:
            continue
        if chunk.type != pa.large_string():
            chunk = chunk.cast(pa.large_string())
        _validity, offsets_buffer, data_buffer = chunk.buffers()
        offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[
            chunk.offset : chunk.offset + len(chunk) + 1
        ]
        data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer else np.zeros(0, np.uint8)
        lengths = np.diff(offsets)
        starts = offsets[:-1]
        long_ids = lengths == 18
        short_ids = lengths == 15
        if not (long_ids | short_ids).all():
            return False
        if short_ids.any():
            digits = data[starts[short_ids][:, None] + np.arange(15)] - np.uint8(48)
            if not (digits <= 9).all():
                return False
        if long_ids.all() and offsets[-1] - offsets[0] == 18 * len(chunk):
            cells = data[offsets[0] : offsets[-1]].reshape(-1, 18)  # contiguous: no copy
        else:
            cells = data[starts[long_ids][:, None] + np.arange(18)]
        digits = cells[:, :17] - np.uint8(48)  # a byte below '0' wraps round to above 9
        if not (digits <= 9).all():
            return False
        given = cells[:, 17]
        given = np.where(given == ord("x"), np.uint8(ord("X")), given)
        expected = check_chars[(digits.astype(np.int32) @ weights) % 11]
        if not (given == expected).all():
            return False
    return True


def texts_clean(values: pa.ChunkedArray | pa.Array) -> bool:
    """True when no value holds a control character: the rule of ``CONTROL_RULE`` on the bytes,
    in numpy, for the fast path (a regular expression per cell costs seconds a million rows).
    In UTF-8 a byte below 0x20 or 0x7F is always that character, never part of another."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    for chunk in chunks:
        if len(chunk) == 0 or chunk.null_count == len(chunk):
            continue
        if chunk.type not in (pa.string(), pa.large_string()):
            chunk = chunk.cast(pa.large_string())
        offset_type = np.int64 if chunk.type == pa.large_string() else np.int32
        _validity, offsets_buffer, data_buffer = chunk.buffers()
        if data_buffer is None:
            continue
        offsets = np.frombuffer(offsets_buffer, dtype=offset_type)[
            chunk.offset : chunk.offset + len(chunk) + 1
        ]
        data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0] : offsets[-1]]
        # Most text has no byte below 0x20 at all: two comparisons settle it; only text with
        # tabs or line breaks needs the table that lets them through.
        if ((data < 0x20) | (data == 0x7F)).any() and CONTROL_BYTES[data].any():
            return False
    return True


def row_checks(
    compiled: list[CompiledColumn],
    *,
    as_of_given: bool,
    exit_from_previous: bool,
    join_markers: dict[str, tuple[str, str]],
) -> list[RowCheck]:
    """Every rule one row can break by itself, in the order columns are reported.

    ``join_markers``: join name → (SQL true when the row found its match, key column)."""
    checks: list[RowCheck] = []
    for col in compiled:
        name = col.name
        if col.failure_rule and col.failure_message:
            checks.append(
                RowCheck(
                    col.failure_rule,
                    name,
                    f"{raw(name)} IS NOT NULL AND {val(name)} IS NULL",
                    col.failure_message,
                    raw(name),
                    in_scan=True,
                )
            )
        # --as-of exempts as_of only where it supplies the value: a file's own empty as_of
        # cell is still missing (its row would otherwise be dropped without a word).
        as_of_constant = col.rule is not None and col.rule.constant is not None
        required = col.column.required and not (name == "as_of" and as_of_given and as_of_constant)
        if required:
            checks.append(
                RowCheck(
                    "required",
                    name,
                    f"{raw(name)} IS NULL",
                    translatable("a value is required"),
                    "NULL",
                )
            )
        if col.column.kind is Kind.ENUM:
            allowed = ", ".join(sql_string(c) for c in col.column.choices)
            # A value the map left out is reported once, as unmapped.
            mapped = (
                ""
                if col.known_values is None
                else f" AND {val(name)} IN ({', '.join(sql_string(v) for v in col.known_values)})"
            )
            checks.append(
                RowCheck(
                    "enum",
                    name,
                    f"{val(name)} IS NOT NULL AND {val(name)} NOT IN ({allowed}){mapped}",
                    translatable("must be one of {choices}", choices=", ".join(col.column.choices)),
                    raw(name),
                )
            )
        if col.known_values is not None:
            known = ", ".join(sql_string(v) for v in col.known_values)
            checks.append(
                RowCheck(
                    "map.unmapped",
                    name,
                    f"{val(name)} NOT IN ({known})",
                    translatable(
                        "not in the mapping's value map (`unmapped: null`); say "
                        "`unmapped: default` to give such values the default"
                    ),
                    raw(name),
                )
            )
        if col.column.kind is Kind.TEXT:
            checks.append(
                RowCheck(
                    CONTROL_RULE,
                    name,
                    f"regexp_matches({val(name)}, {sql_string(CONTROL_PATTERN)})",
                    translatable("holds a control character (a NUL byte, an escape, …)"),
                    raw(name),
                )
            )
        if col.column.max_length is not None:
            checks.append(
                RowCheck(
                    "text.too_long",
                    name,
                    f"length({val(name)}) > {col.column.max_length}",
                    translatable("longer than {length} characters", length=col.column.max_length),
                    raw(name),
                )
            )
        if col.column.kind is Kind.MONEY:
            checks.append(
                RowCheck(
                    "range.negative",
                    name,
                    f"{val(name)} < 0",
                    translatable("money is never negative"),
                    raw(name),
                )
            )
    terminal = ", ".join(sql_string(s) for s in STATUSES if s != "active")
    checks.append(
        RowCheck(
            "range.negative",
            "days_past_due",
            f"{val('days_past_due')} < 0",
            translatable("must be 0 or more"),
            raw("days_past_due"),
        )
    )
    checks.extend(
        [
            RowCheck(
                "as_of.month_end",
                "as_of",
                f"{val('as_of')} <> last_day({val('as_of')})",
                translatable("a snapshot is dated at a month-end"),
                raw("as_of"),
            ),
            RowCheck(
                "dates.origination_after_as_of",
                "origination_date",
                f"{val('origination_date')} > {val('as_of')}",
                translatable("after the snapshot's as_of date"),
                raw("origination_date"),
            ),
            RowCheck(
                "dates.maturity_before_origination",
                "maturity_date",
                f"{val('maturity_date')} < {val('origination_date')}",
                translatable("before origination_date"),
                raw("maturity_date"),
            ),
            RowCheck(
                "overdue.exceeds_balance",
                "overdue_principal",
                f"{val('overdue_principal')} > {val('principal_balance')}",
                translatable("greater than principal_balance"),
                raw("overdue_principal"),
            ),
            RowCheck(
                "terminal.balance_not_zero",
                "principal_balance",
                # Known terminal statuses only: a mistyped status is reported by `enum` alone.
                f"{val('status')} IN ({terminal}) AND {val('principal_balance')} <> 0",
                translatable("a terminal row (the loan leaves the books) must have 0"),
                raw("principal_balance"),
            ),
            RowCheck(
                "restructure.date_required",
                "restructure_date",
                f"{val('restructured')} AND {val('restructure_date')} IS NULL",
                translatable("required when restructured is true"),
                raw("restructure_date"),
            ),
            RowCheck(
                ID_RULE,
                "id_number",
                f"{ID_RULE_ROWS} AND NOT {id_number_valid_sql(val('id_number'))}",
                translatable(
                    "not a valid national ID number (18 characters with a correct check "
                    "digit, or 15 digits)"
                ),
                raw("id_number"),
            ),
        ]
    )
    if not exit_from_previous:
        exits = ", ".join(sql_string(s) for s in EXIT_STATUSES)
        checks.append(
            RowCheck(
                "terminal.exit_amount_required",
                "exit_amount",
                f"{val('status')} IN ({exits}) AND {val('exit_amount')} IS NULL",
                translatable("required on written_off, transferred and foreclosed rows"),
                "NULL",
            )
        )
    for join_name, (marker, key_column) in join_markers.items():
        checks.append(
            RowCheck(
                "join.unmatched",
                key_column,
                f"NOT {marker}",
                translatable(
                    "no matching row in the joined file {join_name!r}", join_name=join_name
                ),
                "NULL",
                in_scan=True,
            )
        )
    return checks
