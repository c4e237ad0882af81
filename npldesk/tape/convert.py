"""Compile a mapping into DuckDB SQL: one text expression and one typed expression per column.

``raw`` is the trimmed text after value maps and defaults (what the user's file says, in
canonical vocabulary); ``value`` is that text converted to the canonical type, NULL when it
does not convert. A conversion failure is ``raw IS NOT NULL AND value IS NULL``, so the same
expressions serve the fast path (one scan, a failure flag per row) and the report of problems.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date

from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.tape.mapping import ColumnRule, Mapping
from npldesk.tape.schema import COLUMNS, Column, Kind

TRUE_WORDS = ("true", "t", "1", "yes", "y", "是")
FALSE_WORDS = ("false", "f", "0", "no", "n", "否")
# DuckDB's casts also take exponents ("1e5"), underscores ("1_000") and hex ("0x10"), and round
# "1.5" to the INTEGER 2; a garbled amount must be reported, not read as some other number.
DECIMAL_PATTERN = "[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)"
INTEGER_PATTERN = "[+-]?[0-9]+(\\.0+)?"


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class CompiledColumn:
    """The SQL of one canonical column, and the name of its source for problem reports.

    ``raw_sql`` reads the source; ``value_sql`` converts the column ``"<name>__raw"``.
    """

    column: Column
    rule: ColumnRule | None
    raw_sql: str
    value_sql: str
    failure_rule: str | None
    failure_message: str | None
    fast_value_sql: str = ""
    # The fast path's source text, selected as ``"<name>__text"`` when ``fast_value_sql``
    # reads it (see ``_canonical_shortcut``); None when it reads ``"<name>__raw"``.
    fast_text_sql: str | None = None
    # ``unmapped: null`` on a column with a default: the values the column may hold (the value
    # map's results and the default); any other value was not in the map and is reported
    # (``unmapped_values``), never given the default.
    known_values: tuple[str, ...] | None = None

    @property
    def name(self) -> str:
        return self.column.name

    @property
    def source_label(self) -> str:
        return self.rule.source_label if self.rule else self.column.name


def _source_ref(name: str, available: dict[str, str]) -> str:
    if name not in available:
        raise UsageError(
            translatable(
                "the mapping refers to column {name!r}, which the file does not have; columns "
                "found: {value}",
                name=name,
                value=", ".join(sorted(available)) or "(none)",
            )
        )
    return available[name]


def unmapped_values(rule: ColumnRule | None, column: Column) -> tuple[str, ...] | None:
    """The values a column may hold when its map leaves a value out and the mapping says
    ``unmapped: null`` while the column has a default (``docs/mappings.md``); else None."""
    if rule is None or not rule.value_map or rule.unmapped != "null":
        return None
    default = rule.default if rule.default is not None else column.default
    if default is None:
        return None
    return tuple(dict.fromkeys([*rule.value_map.values(), default]))


def _mapped(expr: str, rule: ColumnRule, column: Column) -> str:
    whens = " ".join(
        f"WHEN {sql_string(k)} THEN {sql_string(v)}" for k, v in rule.value_map.items()
    )
    # `default` leaves the value empty for the default below; `null` with a default keeps
    # the value, so that it is reported rather than given the default (``unmapped_values``).
    kept = unmapped_values(rule, column) is not None
    otherwise = {"keep": expr, "null": expr if kept else "NULL", "default": "NULL"}.get(
        rule.unmapped, sql_string(rule.unmapped)
    )
    return f"(CASE {expr} {whens} ELSE {otherwise} END)"


# The dates npldesk takes: a loan tape's dates (origination, maturity, month-ends) lie well
# inside this span, and a date outside it is a typing or export mistake (a year 0, a BC date,
# 0001-01-01 as an empty value, 9999-12-31 as "no maturity"): it is refused, not stored.
EARLIEST = date(1900, 1, 1)
LATEST = date(2200, 12, 31)
EARLIEST_DATE = f"DATE '{EARLIEST.isoformat()}'"
LATEST_DATE = f"DATE '{LATEST.isoformat()}'"


def _check_date_formats(rule: ColumnRule) -> None:
    """A strptime format DuckDB cannot parse stops every scan that meets it: say so here,
    naming the column, rather than as the scan's error."""
    for fmt in rule.date_formats:
        if fmt in ("iso", "excel"):
            continue
        detail = _date_format_problem(fmt)
        if detail is not None:
            raise UsageError(
                translatable(
                    "the mapping's date format {fmt!r} for {rule_canonical} is not a "
                    "format: {detail}",
                    fmt=fmt,
                    rule_canonical=rule.canonical,
                    detail=detail,
                )
            )


@functools.lru_cache(maxsize=256)
def _date_format_problem(fmt: str) -> str | None:
    """What DuckDB says of the strptime format ``fmt``, or None when it parses. Kept per
    format: a connection costs more than the import of a small file (tens of milliseconds),
    and a format's validity does not change."""
    import duckdb  # the rest of this module only writes SQL text

    con = duckdb.connect()
    try:
        con.execute("SELECT try_strptime('', ?)", [fmt])
    except duckdb.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    finally:
        con.close()
    return None


def _date_sql(raw: str, rule: ColumnRule | None) -> str:
    formats = rule.date_formats if rule and rule.date_formats else ("iso",)
    parts = []
    for fmt in formats:
        if fmt == "iso":
            parts.append(f"TRY_CAST({raw} AS DATE)")
            parts.append(f"CAST(TRY_CAST({raw} AS TIMESTAMP) AS DATE)")
        elif fmt == "excel":
            # Excel's day 1 is 1900-01-01 and it counts a 29 February 1900 that never was.
            parts.append(
                f"CASE WHEN regexp_full_match({raw}, '[0-9]{{1,6}}(\\.0+)?') "
                f"THEN DATE '1899-12-30' + CAST(CAST({raw} AS DOUBLE) AS INTEGER) END"
            )
        else:
            parts.append(f"CAST(try_strptime({raw}, {sql_string(fmt)}) AS DATE)")
    expr = parts[0] if len(parts) == 1 else f"COALESCE({', '.join(parts)})"
    if rule and rule.month_end:
        expr = f"last_day({expr})"
    # DuckDB computes the repeated expression once (common subexpressions are shared).
    return f"(CASE WHEN {expr} BETWEEN {EARLIEST_DATE} AND {LATEST_DATE} THEN {expr} END)"


def _number_text(raw: str, rule: ColumnRule | None) -> str:
    expr = raw
    if rule and rule.thousands:
        # The separator is dropped only where it groups digits in threes (1,234,567.80);
        # text with it anywhere else (1,2,3 or 12,34) is left as it is, so that the number
        # check reports it rather than reading a different number.
        sep, decimal = re.escape(rule.thousands), re.escape(rule.decimal)
        grouped = f"[+-]?[0-9]{{1,3}}({sep}[0-9]{{3}})+({decimal}[0-9]*)?"
        expr = (
            f"CASE WHEN strpos({raw}, {sql_string(rule.thousands)}) = 0 "
            f"OR regexp_full_match({raw}, {sql_string(grouped)}) "
            f"THEN replace({raw}, {sql_string(rule.thousands)}, '') ELSE {raw} END"
        )
    if rule and rule.decimal != ".":
        expr = f"replace({expr}, {sql_string(rule.decimal)}, '.')"
    return expr


def _trimmed(expr: str) -> str:
    """Text without surrounding blanks, NULL when empty. Most cells need no trimming, and
    testing for a blank at either end is far cheaper than trimming every cell."""
    return (
        f"CASE WHEN {expr} LIKE ' %' OR {expr} LIKE '% ' OR {expr} = '' "
        f"THEN NULLIF(TRIM({expr}), '') ELSE {expr} END"
    )


def _checked_number(text: str, pattern: str, sql_type: str) -> str:
    """``text`` cast to ``sql_type`` when it is a plain number, else NULL."""
    return (
        f"CASE WHEN regexp_full_match({text}, {sql_string(pattern)}) "
        f"THEN TRY_CAST({text} AS {sql_type}) END"
    )


# Decimal places a source amount may have in each unit, so that it is exact in fen.
UNIT_PLACES = {"yuan": 2, "fen": 0, "10k_yuan": 6}
UNIT_FACTORS = {"yuan": "", "fen": " * CAST(0.01 AS DECIMAL(3,2))", "10k_yuan": " * 10000"}


def _money_sql(raw: str, rule: ColumnRule | None) -> tuple[str, str]:
    """(the number text, its DECIMAL(18,2) value in yuan or NULL).

    A plain number with at most the unit's places (or more, all zeros) is cast straight to a
    DECIMAL with those places (64-bit arithmetic, fast); other places would be rounded by the
    cast, so they are refused on the text first. Overflow makes the cast NULL: reported as not
    an amount.
    """
    text = _number_text(raw, rule)
    unit = rule.unit if rule else "yuan"
    places = UNIT_PLACES[unit]
    point = f"strpos({text}, '.')"
    # Places beyond the unit's that are all zeros carry nothing (a DECIMAL(20,4) column writes
    # 1234.5600): the cast takes them exactly. Any other digit there is refused, not rounded.
    zeros_beyond = sql_string(f"[+-]?[0-9]*\\.[0-9]{{{places}}}0+")
    within = (
        f"({point} = 0 OR length({text}) - {point} <= {places} "
        f"OR regexp_full_match({text}, {zeros_beyond}))"
    )
    value = (
        f"CASE WHEN regexp_full_match({text}, {sql_string(DECIMAL_PATTERN)}) AND {within} "
        f"THEN CAST(TRY_CAST({text} AS DECIMAL(18,{places})){UNIT_FACTORS[unit]} AS DECIMAL(18,2))"
        " END"
    )
    return text, value


# What a value that does not convert becomes in the fast path: something no valid row holds
# and a value rule rejects (money and days are never negative; no date is before EARLIEST;
# booleans always have a default, so NULL means the text was not a yes/no value).
SENTINELS = {
    Kind.MONEY: "CAST(-1 AS DECIMAL(18,2))",
    Kind.INTEGER: "-1",
    Kind.DATE: "DATE '0001-01-01'",
}


def _with_sentinel(column: Column, raw: str, value: str) -> str:
    sentinel = SENTINELS.get(column.kind)
    if sentinel is None:
        return value
    return f"CASE WHEN {raw} IS NULL THEN NULL ELSE COALESCE({value}, {sentinel}) END"


def sentinel_condition(column: Column) -> str | None:
    """True on a fast-path row whose value did not convert (or that no rule would accept)."""
    name = quote(column.name)
    if column.kind in (Kind.MONEY, Kind.INTEGER):
        return f"{name} < 0"
    if column.kind is Kind.DATE:
        # Outside the span: the fast path's shortcut takes an ISO date as it is, in range or not.
        return f"({name} < {EARLIEST_DATE} OR {name} > {LATEST_DATE})"
    if column.kind is Kind.BOOL:
        return f"{name} IS NULL"
    return None


def _value_sql(
    column: Column, rule: ColumnRule | None, raw: str
) -> tuple[str, str | None, str | None]:
    """(the typed value of the text ``raw``, the rule a failed conversion breaks, its message)."""
    if column.kind is Kind.DATE:
        formats = ", ".join(rule.date_formats) if rule and rule.date_formats else "YYYY-MM-DD"
        return (
            _date_sql(raw, rule),
            "type.date",
            translatable(
                "not a date from {earliest} to {latest} (expected {formats})",
                earliest=EARLIEST,
                latest=LATEST,
                formats=formats,
            ),
        )
    if column.kind is Kind.MONEY:
        _parsed, value = _money_sql(raw, rule)
        return (
            value,
            "type.money",
            translatable("not an amount of yuan with at most two decimal places"),
        )
    if column.kind is Kind.INTEGER:
        value = _checked_number(_number_text(raw, rule), INTEGER_PATTERN, "INTEGER")
        return value, "type.integer", translatable("not a whole number")
    if column.kind is Kind.BOOL:
        trues = ", ".join(sql_string(w) for w in TRUE_WORDS)
        falses = ", ".join(sql_string(w) for w in FALSE_WORDS)
        value = (
            f"CASE WHEN lower({raw}) IN ({trues}) THEN true "
            f"WHEN lower({raw}) IN ({falses}) THEN false END"
        )
        return value, "type.bool", translatable("not a yes/no value")
    return raw, None, None


def _canonical_shortcut(column: Column, rule: ColumnRule | None) -> bool:
    """True when the column is one source column converted as the canonical tape writes it
    (ISO dates, yuan with a point, plain whole numbers, true/false), so that a cell which is
    exactly the text of its typed value can skip the checks on the text (``compile_mapping``)."""
    if rule is None or len(rule.sources) != 1 or rule.constant is not None or rule.sql:
        return False
    if rule.value_map:
        return False
    if column.kind is Kind.DATE:
        return rule.date_formats in ((), ("iso",)) and not rule.month_end
    if column.kind is Kind.MONEY:
        return rule.unit == "yuan" and not rule.thousands and rule.decimal == "."
    if column.kind is Kind.INTEGER:
        return not rule.thousands and rule.decimal == "."
    return column.kind is Kind.BOOL


def compile_mapping(mapping: Mapping, available: dict[str, str]) -> list[CompiledColumn]:
    """Every canonical column's SQL; ``available`` maps a source name to its SQL reference."""
    compiled = []
    for column in COLUMNS:
        rule = mapping.columns.get(column.name)
        if rule is not None and column.kind is Kind.DATE and rule.date_formats:
            _check_date_formats(rule)
        raw_sql = _raw_sql_checked(rule, column, available)
        # Typed values are computed from the text column, so the text is built once per row.
        raw = quote(f"{column.name}__raw")
        value, failure_rule, failure_message = _value_sql(column, rule, raw)
        fast_value = _with_sentinel(column, raw, value)
        fast_text: str | None = None
        if rule is not None and _canonical_shortcut(column, rule):
            # A cell that is exactly the text DuckDB writes for its typed value (2018-01-31,
            # 31000.00, 12, true) has no blank to trim, matches the number patterns, and
            # converts to that value: it is taken as it is. Any other cell (blanks, 1.5 yuan
            # written 1.5, a bad value, an empty cell) takes the full conversion above, on
            # text built only for those cells.
            fast_text = available[rule.sources[0]]
            text = quote(f"{column.name}__text")
            typed = f"TRY_CAST({text} AS {column.sql_type})"
            inline_raw = f"({_raw_sql_checked(rule, column, {rule.sources[0]: text})})"
            inline_value, _rule, _message = _value_sql(column, rule, inline_raw)
            fast_value = (
                f"CASE WHEN CAST({typed} AS VARCHAR) = {text} THEN {typed} "
                f"ELSE {_with_sentinel(column, inline_raw, inline_value)} END"
            )
        compiled.append(
            CompiledColumn(
                column,
                rule,
                raw_sql,
                value,
                failure_rule,
                failure_message,
                fast_value_sql=fast_value,
                fast_text_sql=fast_text,
                known_values=unmapped_values(rule, column),
            )
        )
    return compiled


def _raw_sql_checked(rule: ColumnRule | None, column: Column, available: dict[str, str]) -> str:
    if rule is None:
        expr = "CAST(NULL AS VARCHAR)"
    elif rule.constant is not None:
        expr = sql_string(rule.constant)
    elif rule.sql is not None:
        expr = _trimmed(f"CAST(({rule.sql}) AS VARCHAR)")
    elif rule.sources:
        parts = [_trimmed(_source_ref(s, available)) for s in rule.sources]
        expr = parts[0] if len(parts) == 1 else f"COALESCE({', '.join(parts)})"
    else:
        expr = "CAST(NULL AS VARCHAR)"
    if rule is not None and rule.value_map:
        expr = _mapped(expr, rule, column)
    default = rule.default if rule is not None and rule.default is not None else column.default
    if default is not None:
        expr = f"COALESCE({expr}, {sql_string(default)})"
    return expr
