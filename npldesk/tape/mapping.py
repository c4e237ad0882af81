"""Mappings: how a core-banking export's columns become canonical columns.

A mapping is a YAML file (format in ``docs/mappings.md``). It is parsed into plain dataclasses
here and compiled to DuckDB SQL expressions by ``npldesk.tape.sql``, so conversion and checks
run inside the same scan as the read, not row by row in Python.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.tape.sandbox import check_expression
from npldesk.tape.schema import BY_NAME, COLUMN_NAMES, Kind

SHIPPED_PACKAGE = "npldesk.tape.mappings"
UNITS = {"yuan": 1, "fen": "0.01", "10k_yuan": 10000}
DEFAULT_NULLS = ("",)
READER_FORMATS = ("csv", "xlsx", "parquet")
ENCODINGS = ("auto", "utf-8", "utf-8-sig", "gb18030", "gbk")
# What an XLSX cell holding a formula becomes: refused (its saved value may be stale, or the 0
# some tools save without calculating), or the value the file was last saved with.
FORMULA_POLICIES = ("refuse", "cached")


@dataclass(frozen=True)
class SourceOptions:
    """How to read one file: format, encoding, delimiter, header, names, nulls, sheet, and
    what an XLSX formula cell becomes."""

    format: str | None = None
    encoding: str = "auto"
    delimiter: str = ","
    header: bool = True
    names: tuple[str, ...] = ()
    null_values: tuple[str, ...] = DEFAULT_NULLS
    sheet: str | None = None
    skip_rows: int = 0
    formulas: str = "refuse"


@dataclass(frozen=True)
class Join:
    """A second file joined by key (a customer master, an acquisition file)."""

    name: str
    path: str
    left_on: str
    right_on: str
    source: SourceOptions
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class ColumnRule:
    """Where one canonical column comes from and how it is converted."""

    canonical: str
    sources: tuple[str, ...] = ()
    constant: str | None = None
    sql: str | None = None
    date_formats: tuple[str, ...] = ()
    month_end: bool = False
    thousands: str | None = None
    decimal: str = "."
    unit: str = "yuan"
    value_map: dict[str, str] = field(default_factory=dict)
    unmapped: str = "keep"
    default: str | None = None
    previous_balance: bool = False

    @property
    def source_label(self) -> str:
        """The column name a user sees in their file (for problem reports)."""
        if len(self.sources) == 1:
            return self.sources[0]
        if self.sources:
            return "/".join(self.sources)
        return self.canonical


@dataclass(frozen=True)
class Mapping:
    name: str
    source: SourceOptions
    joins: tuple[Join, ...]
    columns: dict[str, ColumnRule]
    path: Path | None = None
    sha256: str | None = None
    description: str = ""

    @property
    def is_identity(self) -> bool:
        return self.path is None


# -- the YAML's values, each checked for the kind of value its key takes ------------------------


def _text(value: Any, what: str, where: str) -> str:
    """A key that takes one text: YAML may read a number or yes/no, taken as its text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float | date):
        return str(value)  # a YAML date (2019-12-31) reads back as its ISO text
    raise UsageError(
        translatable(
            "{where}: {what} must be a text, not {value}",
            where=where,
            what=what,
            value=_kind(value),
        )
    )


def _texts(value: Any, what: str, where: str) -> tuple[str, ...]:
    """A key that takes a text or a list of texts."""
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(_text(item, what, where) for item in value)
    return (_text(value, what, where),)


def _flag(value: Any, what: str, where: str, default: bool) -> bool:
    """A yes/no key: ``true`` or ``false``, not a text that would read as yes ("no" included)."""
    if value is None:
        return default
    if not isinstance(value, bool):
        raise UsageError(
            translatable(
                "{where}: {what} must be true or false, not {value!r}",
                where=where,
                what=what,
                value=value,
            )
        )
    return value


def _table(value: Any, what: str, where: str) -> dict[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UsageError(
            translatable(
                "{where}: {what} must be a table of keys and values, not {value}",
                where=where,
                what=what,
                value=_kind(value),
            )
        )
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return repr(value)


def _source_options(raw: Any, where: str) -> SourceOptions:
    if raw is None:
        return SourceOptions()
    if not isinstance(raw, dict):
        raise UsageError(
            translatable("{where}: `source` must be a table of reader options", where=where)
        )
    known = {
        "format",
        "encoding",
        "delimiter",
        "header",
        "names",
        "null_values",
        "sheet",
        "skip_rows",
        "formulas",
    }
    unknown = set(map(str, raw)) - known
    if unknown:
        raise UsageError(
            translatable(
                "{where}: unknown reader option(s) {unknown}; known: {known}",
                where=where,
                unknown=sorted(unknown),
                known=sorted(known),
            )
        )
    fmt = raw.get("format")
    if fmt is not None and fmt not in READER_FORMATS:
        raise UsageError(
            translatable(
                "{where}: format {fmt!r} is not one of {READER_FORMATS}",
                where=where,
                fmt=fmt,
                READER_FORMATS=", ".join(READER_FORMATS),
            )
        )
    encoding = _text(raw.get("encoding", "auto"), "`encoding`", where).lower()
    if encoding not in ENCODINGS:
        raise UsageError(
            translatable(
                "{where}: encoding {encoding!r} is not one of {ENCODINGS}",
                where=where,
                encoding=encoding,
                ENCODINGS=", ".join(ENCODINGS),
            )
        )
    names = _texts(raw.get("names"), "`names`", where)
    header = _flag(raw.get("header"), "`header`", where, True)
    if not header and not names:
        raise UsageError(
            translatable("{where}: a file without a header needs `names`", where=where)
        )
    nulls = _texts(raw.get("null_values", list(DEFAULT_NULLS)), "`null_values`", where)
    delimiter = _text(raw.get("delimiter", ","), "`delimiter`", where)
    # One character, as both CSV readers take it; a quote or a line break cannot delimit.
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise UsageError(
            translatable(
                "{where}: delimiter {delimiter!r} must be one character (not a quote)",
                where=where,
                delimiter=delimiter,
            )
        )
    sheet = raw.get("sheet")
    skip_rows = raw.get("skip_rows", 0)
    if isinstance(skip_rows, bool) or not isinstance(skip_rows, int) or skip_rows < 0:
        raise UsageError(
            translatable(
                "{where}: skip_rows must be a whole number, 0 or more, not {skip_rows!r}",
                where=where,
                skip_rows=skip_rows,
            )
        )
    formulas = raw.get("formulas", "refuse")
    if formulas not in FORMULA_POLICIES:
        raise UsageError(
            translatable(
                "{where}: formulas {formulas!r} is not one of {FORMULA_POLICIES}",
                where=where,
                formulas=formulas,
                FORMULA_POLICIES=", ".join(FORMULA_POLICIES),
            )
        )
    return SourceOptions(
        format=fmt,
        encoding=encoding,
        delimiter=delimiter,
        header=header,
        names=names,
        null_values=nulls,
        sheet=None if sheet is None else _text(sheet, "`sheet`", where),
        skip_rows=skip_rows,
        formulas=formulas,
    )


def _column_rule(canonical: Any, raw: Any, where: str) -> ColumnRule:
    if canonical not in BY_NAME:
        raise UsageError(
            translatable(
                "{where}: {canonical!r} is not a canonical column; known: {COLUMN_NAMES}",
                where=where,
                canonical=canonical,
                COLUMN_NAMES=", ".join(COLUMN_NAMES),
            )
        )
    spec = BY_NAME[canonical]
    if isinstance(raw, str):
        return ColumnRule(canonical=canonical, sources=(raw,))
    if not isinstance(raw, dict):
        raise UsageError(
            translatable(
                "{where}: column {canonical!r} must be a source column name or a table",
                where=where,
                canonical=canonical,
            )
        )
    known = {
        "from", "value", "sql", "date", "month_end", "number", "map", "unmapped",
        "default", "previous_balance",
    }  # fmt: skip
    unknown = set(map(str, raw)) - known
    if unknown:
        raise UsageError(
            translatable(
                "{where}: column {canonical!r} has unknown key(s) {unknown}",
                where=where,
                canonical=canonical,
                unknown=sorted(unknown),
            )
        )
    given = [k for k in ("from", "value", "sql", "previous_balance") if raw.get(k) is not None]
    if not given and raw.get("default") is None:
        raise UsageError(
            translatable(
                "{where}: column {canonical!r} needs `from`, `value`, `sql` or `default`",
                where=where,
                canonical=canonical,
            )
        )
    here = f"{where}, column {canonical!r}"
    sources = _texts(raw.get("from") or None, "`from`", here)
    date_raw = raw.get("date")
    date_formats: tuple[str, ...] = ()
    if date_raw is not None:
        if spec.kind is not Kind.DATE:
            raise UsageError(
                translatable(
                    "{where}: `date` applies to date columns, not {canonical!r}",
                    where=where,
                    canonical=canonical,
                )
            )
        date_formats = _texts(date_raw, "`date`", here)
    number = _table(raw.get("number"), "`number`", here)
    if number and spec.kind not in (Kind.MONEY, Kind.INTEGER):
        raise UsageError(
            translatable(
                "{where}: `number` applies to money and integer columns, not {canonical!r}",
                where=where,
                canonical=canonical,
            )
        )
    unknown_number = set(map(str, number)) - {"thousands", "decimal", "unit"}
    if unknown_number:
        raise UsageError(
            translatable(
                "{here}: `number` has unknown key(s) {unknown_number}",
                here=here,
                unknown_number=sorted(unknown_number),
            )
        )
    unit = _text(number.get("unit", "yuan"), "`unit`", here)
    if unit not in UNITS:
        raise UsageError(
            translatable(
                "{where}: unit {unit!r} is not one of {UNITS}",
                where=where,
                unit=unit,
                UNITS=", ".join(UNITS),
            )
        )
    thousands = number.get("thousands")
    thousands = None if thousands is None else _text(thousands, "`thousands`", here)
    decimal = _text(number.get("decimal", "."), "`decimal`", here)
    if len(decimal) != 1 or thousands == "" or thousands == decimal:
        raise UsageError(
            translatable(
                "{here}: the decimal mark is one character, and the thousands separator another",
                here=here,
            )
        )
    value_map = {
        _text(k, "a `map` key", here): _text(v, "a `map` value", here)
        for k, v in _table(raw.get("map"), "`map`", here).items()
    }
    unmapped = _text(raw.get("unmapped", "keep"), "`unmapped`", here)
    default = raw.get("default")
    if unmapped == "default" and default is None and spec.default is None:
        raise UsageError(
            translatable(
                "{where}: column {canonical!r} says `unmapped: default` and has no default; "
                "give one with `default:`",
                where=where,
                canonical=canonical,
            )
        )
    if (
        unmapped == "null"
        and (default is not None or spec.default is not None)
        and spec.kind not in (Kind.TEXT, Kind.ENUM)
    ):
        # On text the value left out of the map is reported (see docs/mappings.md); on a
        # typed column it would be read as a value first.
        raise UsageError(
            translatable(
                "{where}: column {canonical!r} says `unmapped: null` and has a default, so a "
                "value missing from `map` would silently take the default; say `unmapped: "
                "default` if that is meant, or `unmapped: keep` to have such values reported",
                where=where,
                canonical=canonical,
            )
        )
    previous_balance = _flag(raw.get("previous_balance"), "`previous_balance`", here, False)
    if previous_balance and canonical != "exit_amount":
        raise UsageError(
            translatable("{where}: `previous_balance` applies to exit_amount only", where=where)
        )
    sql = raw.get("sql")
    if sql is not None:
        check_expression(_text(sql, "`sql`", here), f"{where}, column {canonical!r}")
    constant = raw.get("value")
    return ColumnRule(
        canonical=canonical,
        sources=sources,
        constant=None if constant is None else _text(constant, "`value`", here),
        sql=None if sql is None else _text(sql, "`sql`", here),
        date_formats=date_formats,
        month_end=_flag(raw.get("month_end"), "`month_end`", here, False),
        thousands=thousands,
        decimal=decimal,
        unit=unit,
        value_map=value_map,
        unmapped=unmapped,
        default=None if default is None else _text(default, "`default`", here),
        previous_balance=previous_balance,
    )


def _join(index: int, join_raw: Any, where: str) -> Join:
    if isinstance(join_raw, dict) and True in join_raw and "on" not in join_raw:
        # YAML 1.1 (PyYAML) reads a bare `on:` key as the boolean true.
        join_raw = {("on" if key is True else key): v for key, v in join_raw.items()}
    if not isinstance(join_raw, dict) or not {"name", "path", "on"} <= set(join_raw):
        raise UsageError(
            translatable(
                "{where}: join {value} needs `name`, `path` and `on`", where=where, value=index + 1
            )
        )
    name = _text(join_raw["name"], "a join's `name`", where)
    here = f"{where}, join {name}"
    on = join_raw["on"]
    if isinstance(on, dict):
        if not {"left", "right"} <= set(on):
            raise UsageError(
                translatable(
                    "{here}: `on` needs `left` and `right` (or one column name)", here=here
                )
            )
        left_on = _text(on["left"], "`on: left`", here)
        right_on = _text(on["right"], "`on: right`", here)
    else:
        left_on = right_on = _text(on, "`on`", here)
    return Join(
        name=name,
        path=_text(join_raw["path"], "`path`", here),
        left_on=left_on,
        right_on=right_on,
        source=_source_options(join_raw.get("source"), here),
        columns=_texts(join_raw.get("columns"), "`columns`", here),
    )


def parse_mapping(text: str, *, path: Path | None = None) -> Mapping:
    """Parse and check a mapping's YAML text; every mistake is a ``UsageError`` naming it."""
    import yaml  # only for a mapping file: not at every start

    where = str(path) if path else "mapping"
    try:
        raw = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, OverflowError, RecursionError) as exc:
        # PyYAML builds dates while it parses: 2019-13-01 is a ValueError, not a YAMLError.
        raise UsageError(
            translatable("{where} is not valid YAML: {exc}", where=where, exc=exc)
        ) from exc
    if not isinstance(raw, dict) or "columns" not in raw:
        raise UsageError(translatable("{where}: a mapping needs a `columns` table", where=where))
    if raw.get("mapping", 1) != 1:
        raise UsageError(
            translatable(
                "{where}: mapping format {version!r} is not supported (1)",
                where=where,
                version=raw.get("mapping"),
            )
        )
    columns_raw = raw["columns"]
    if not isinstance(columns_raw, dict):
        raise UsageError(
            translatable("{where}: `columns` must map canonical names to rules", where=where)
        )
    columns = {name: _column_rule(name, rule, where) for name, rule in columns_raw.items()}
    joins_raw = raw.get("joins") or []
    if not isinstance(joins_raw, list):
        raise UsageError(
            translatable("{where}: `joins` must be a list of joined files", where=where)
        )
    joins = [_join(index, join_raw, where) for index, join_raw in enumerate(joins_raw)]
    missing = [
        c.name
        for c in BY_NAME.values()
        if c.required and c.name not in columns and c.name != "as_of"
    ]
    if missing:
        raise UsageError(
            translatable(
                "{where}: required canonical column(s) not mapped: {missing}",
                where=where,
                missing=", ".join(missing),
            )
        )
    return Mapping(
        name=str(raw.get("name") or (path.stem if path else "mapping")),
        description=str(raw.get("description") or ""),
        source=_source_options(raw.get("source"), where),
        joins=tuple(joins),
        columns=columns,
        path=path,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def shipped_mappings() -> dict[str, Path]:
    """The mappings that come with npldesk, by name (``cn-core``, ``fannie-mae-legacy``, …)."""
    folder = resources.files(SHIPPED_PACKAGE)
    found = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".yaml"):
            found[entry.name.removesuffix(".yaml")] = Path(str(entry))
    return found


def load_mapping(name_or_path: str | Path) -> Mapping:
    """A mapping file by path, or a shipped mapping by name."""
    candidate = Path(name_or_path)
    if not candidate.exists():
        shipped = shipped_mappings()
        if str(name_or_path) in shipped:
            candidate = shipped[str(name_or_path)]
        else:
            raise UsageError(
                translatable(
                    "mapping {name_or_path!r} not found: give a file path or one of {value}",
                    name_or_path=str(name_or_path),
                    value=", ".join(sorted(shipped)) or "(none shipped)",
                )
            )
    try:
        text = candidate.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            translatable("cannot read mapping {candidate}: {exc}", candidate=candidate, exc=exc)
        ) from exc
    return parse_mapping(text, path=candidate)


def identity_mapping(source_columns: list[str]) -> Mapping:
    """The mapping for a file that already has canonical column names."""
    columns = {
        name: ColumnRule(canonical=name, sources=(name,))
        for name in COLUMN_NAMES
        if name in source_columns
    }
    return Mapping(name="canonical", source=SourceOptions(), joins=(), columns=columns)
