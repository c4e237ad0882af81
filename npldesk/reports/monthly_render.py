"""The monthly report for people: an HTML page, a PDF (WeasyPrint) and an XLSX workbook.

Each renderer formats the one ``MonthlyReport`` in the active language (Chinese by default):
money in yuan to the fen, ratios as percentages, changes in points (``core.numbers``). The PDF
is A4 with the unit and month in the page header, page numbers, and the lineage — snapshots and
their SHA-256, rule set, when and by whom — at the foot of every page and in full at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

import xlsxwriter

from npldesk.core import numbers
from npldesk.core.cells import safe_cell
from npldesk.core.i18n import translatable
from npldesk.core.months import month_label
from npldesk.reports.charts import trend_chart, waterfall_chart
from npldesk.reports.labels import (
    MOVEMENT_LABELS,
    PRODUCT_LABELS,
    QUALITY_LABELS,
    RATE_LABELS,
    STATE_LABELS,
    TERMS,
    TRACKING_LABELS,
    case_value,
    label,
    localise,
)
from npldesk.reports.monthly import MonthlyReport, report_title

MONEY_FORMAT = "#,##0.00"
PERCENT_FORMAT = "0.00%"
# The movement lines a reader follows from opening to closing, and how each moves the level.
WATERFALL = (
    ("opening", "total"),
    ("inflow", "up"),
    ("increase", "up"),
    ("cash", "down"),
    ("upgrade", "down"),
    ("write_off", "down"),
    ("transfer", "down"),
    ("foreclosure", "down"),
    ("unexplained", "down"),
    ("closing", "total"),
)


def _(message: str) -> str:
    """Marks a word of the report for the catalogues; said by ``localise``."""
    return message


WORDS = {
    "headline": _("1. Headline"),
    "by_unit": _("2. By unit"),
    "trend": _("3. Trend"),
    "movement": _("4. NPL movement"),
    "migration": _("5. Migration"),
    "new_npl": _("6. New NPL this month"),
    "early_warning": _("7. Early warning"),
    "early_warning_loans": _("Loans that become NPL within 30 days unless paid"),
    "early_warning_balance": _("Their balance"),
    "trend_chart": _("Month-end NPL balance"),
    "waterfall_chart": _("NPL movement, opening to closing"),
    "lineage": _("Lineage"),
    "this_month": _("This month"),
    "year_to_date": _("Year to date"),
    "month": _("Month"),
    "unit": _("Unit"),
    "product": _("Product"),
    "household": _("Household"),
    "loans": _("Loans"),
    "balance": _("Balance"),
    "yuan": _("yuan"),
    "achieved": _("Achieved double reduction"),
    "missed": _("Did not achieve double reduction"),
    "none": _("none"),
    # Between the names of a list of units (an ideographic comma in Chinese).
    "separator": _(", "),
    "rate": _("Rate"),
    "from_to": _("From \\ to"),
    "new_npl_loans": _("New NPL loans"),
    "new_npl_balance": _("New NPL balance"),
    "top_households": _("Largest new NPL households (names masked)"),
    "snapshot": _("Snapshot"),
    "file": _("File"),
    "migration_matrix": _("Class matrix against the start of the year (balance at the start)"),
    "no_baseline": _("The previous December is not imported: no change or migration."),
    "no_new_npl": _("The month before is not imported: no new-NPL list."),
    "casework": _("8. Casework"),
    "no_casework": _("No casework database to read: no casework figures."),
    "open_cases": _("Open cases"),
    "deadlines_past": _("Open cases with their deadline past"),
    "by_state": _("Open cases by state"),
    "by_strategy": _("Open cases by strategy"),
    "by_tier": _("Open cases by tier"),
    "cases": _("Cases"),
    "state": _("State"),
    "strategy": _("Strategy"),
    "tier": _("Tier"),
    "recoveries": _("Recoveries by unit and source"),
    "source": _("Source"),
    "write_off_side": _("Before or after write-off"),
    "before_write_off": _("before write-off"),
    "after_write_off": _("after write-off"),
    "recoveries_total": _("All recoveries"),
    "no_recoveries": _("No recoveries this year."),
    "legal_by_stage": _("Legal cases by stage"),
    "stage": _("Stage"),
    "outlook": _("9. Year-end outlook"),
    "no_outlook": _("No plan for this month: no year-end outlook."),
    "outlook_note": _(
        "Forecast to {year_end} against {baseline}, over {draws} draws (npldesk plan); on "
        "track: probability of double reduction at least 80 %; at risk: at least 50 %."
    ),
    "npl_p50": _("Year-end NPL balance P50"),
    "npl_band": _("P10–P90"),
    "ratio_p50": _("Year-end NPL ratio P50"),
    "probability": _("Probability of double reduction"),
    "tracking": _("Tracking"),
    "gap": _("Gap"),
}


def word(code: str) -> str:
    return localise(WORDS[code])


def headline_sentence(report: MonthlyReport) -> str:
    """The headline in one sentence a leader can read aloud."""
    line = report.headline
    month = month_label(report.as_of)
    ratio = "" if line.npl_ratio is None else numbers.percent(line.npl_ratio)
    if line.npl_balance_change is None or line.npl_ratio_change is None:
        return localise(
            translatable(
                "At {month} {unit} holds NPL of {balance} yuan, an NPL ratio of {ratio}.",
                month=month,
                unit=report.unit.name,
                balance=numbers.money(line.npl_balance),
                ratio=ratio,
            )
        )
    verdict = (
        translatable("double reduction achieved")
        if line.double_reduction
        else translatable("double reduction not achieved")
    )
    return localise(
        translatable(
            "At {month} {unit} holds NPL of {balance} yuan, an NPL ratio of {ratio}; against "
            "the start of the year the NPL balance changed by {change} yuan and the ratio by "
            "{points} points: {verdict}.",
            month=month,
            unit=report.unit.name,
            balance=numbers.money(line.npl_balance),
            ratio=ratio,
            change=numbers.money(line.npl_balance_change),
            points=numbers.points(line.npl_ratio_change),
            verdict=verdict,
        )
    )


def lineage_text(report: MonthlyReport) -> str:
    """Rule set, when and by whom (the short form every page's foot carries)."""
    return localise(
        translatable(
            "Rule set {rule_set}; generated {when} by {who}; {count} snapshots (listed at the end)",
            rule_set=report.rule_set,
            when=report.generated_at.strftime("%Y-%m-%d %H:%M UTC"),
            who=report.generated_by,
            count=len(report.snapshots),
        )
    )


# -- HTML and PDF ---------------------------------------------------------------------------


def _money(value: Decimal | None) -> str:
    return "" if value is None else numbers.money(value)


def _ratio(value: Decimal | None) -> str:
    return "" if value is None else numbers.percent(value)


def _table(heads: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int = 1) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in heads)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if i >= numeric_from else ""}">{escape(c)}</td>'
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _yes_no(value: bool | None) -> str:
    return "" if value is None else label(TERMS, "yes" if value else "no")


def _headline_section(report: MonthlyReport) -> str:
    line = report.headline
    rows = [
        (label(QUALITY_LABELS, "balance"), _money(line.balance)),
        (label(QUALITY_LABELS, "npl_balance"), _money(line.npl_balance)),
        (label(QUALITY_LABELS, "npl_ratio"), _ratio(line.npl_ratio)),
        (label(QUALITY_LABELS, "npl_loans"), numbers.grouped(line.npl_loans)),
        (label(QUALITY_LABELS, "baseline_npl_balance"), _money(line.baseline_npl_balance)),
        (label(QUALITY_LABELS, "baseline_npl_ratio"), _ratio(line.baseline_npl_ratio)),
        (label(QUALITY_LABELS, "npl_balance_change"), _money(line.npl_balance_change)),
        (
            label(QUALITY_LABELS, "npl_ratio_change"),
            "" if line.npl_ratio_change is None else numbers.points(line.npl_ratio_change),
        ),
        (label(QUALITY_LABELS, "double_reduction"), _yes_no(line.double_reduction)),
    ]
    return (
        f"<h2>{escape(word('headline'))}</h2>"
        f'<p class="lead">{escape(headline_sentence(report))}</p>' + _table(["", ""], rows)
    )


BY_UNIT_COLUMNS = (
    "npl_balance",
    "npl_ratio",
    "baseline_npl_balance",
    "npl_balance_change",
    "npl_ratio_change",
    "double_reduction",
)


def _by_unit_section(report: MonthlyReport) -> str:
    if not report.by_unit:
        return ""
    heads = [word("unit"), *(label(QUALITY_LABELS, c) for c in BY_UNIT_COLUMNS)]
    rows = []
    for row in report.by_unit:
        line = row.line
        change = line.npl_ratio_change
        rows.append(
            (
                row.name or row.key or "",
                _money(line.npl_balance),
                _ratio(line.npl_ratio),
                _money(line.baseline_npl_balance),
                _money(line.npl_balance_change),
                "" if change is None else numbers.points(change),
                _yes_no(line.double_reduction),
            )
        )
    separator = localise(WORDS["separator"])
    achieved = separator.join(r.name or "" for r in report.achieved) or word("none")
    missed = separator.join(r.name or "" for r in report.missed) or word("none")
    return (
        f"<h2>{escape(word('by_unit'))}</h2>"
        + _table(heads, rows)
        + f"<p><strong>{escape(word('achieved'))}</strong> {escape(achieved)}</p>"
        f"<p><strong>{escape(word('missed'))}</strong> {escape(missed)}</p>"
    )


def _chart(caption: str, svg: str) -> str:
    return f'<div class="chart"><h3>{escape(caption)}</h3>{svg}</div>'


def _trend_section(report: MonthlyReport) -> str:
    labels = [month_label(p.as_of) for p in report.trend]
    chart = trend_chart(labels, [p.npl_balance for p in report.trend], word("yuan"))
    rows = [
        (month_label(p.as_of), _money(p.npl_balance), _ratio(p.npl_ratio)) for p in report.trend
    ]
    heads = [
        word("month"),
        label(QUALITY_LABELS, "npl_balance"),
        label(QUALITY_LABELS, "npl_ratio"),
    ]
    return (
        f"<h2>{escape(word('trend'))}</h2>"
        + _chart(word("trend_chart"), chart)
        + f'<div class="small">{_table(heads, rows)}</div>'
    )


def waterfall_steps(report: MonthlyReport) -> list[tuple[str, Decimal, str]]:
    lines = report.movement_ytd or report.movement_month
    return [
        (label(MOVEMENT_LABELS, code), lines.line(code), kind)
        for code, kind in WATERFALL
        if kind == "total" or lines.line(code) != 0
    ]


def _movement_section(report: MonthlyReport) -> str:
    heads = ["", word("this_month")]
    if report.movement_ytd is not None:
        heads.append(word("year_to_date"))
    rows = []
    for code, _kind in WATERFALL:
        row = [label(MOVEMENT_LABELS, code), _money(report.movement_month.line(code))]
        if report.movement_ytd is not None:
            row.append(_money(report.movement_ytd.line(code)))
        rows.append(row)
    chart = waterfall_chart(waterfall_steps(report), word("yuan"))
    return (
        f"<h2>{escape(word('movement'))}</h2>"
        + _table(heads, rows)
        + _chart(word("waterfall_chart"), chart)
    )


def _migration_section(report: MonthlyReport) -> str:
    migration = report.migration
    if migration is None or migration.rates is None:
        return f"<h2>{escape(word('migration'))}</h2><p>{escape(word('no_baseline'))}</p>"
    rates = [
        (
            label(RATE_LABELS, name),
            label(TERMS, "n/a") if rate.rate is None else numbers.percent(rate.rate),
        )
        for name, rate in migration.rates.items()
    ]
    heads = [word("from_to"), *(label(STATE_LABELS, c) for c in migration.columns)]
    matrix = [
        [label(STATE_LABELS, source)]
        + [_money(migration.cell(source, target).balance) for target in migration.columns]
        for source in migration.states
    ]
    return (
        f"<h2>{escape(word('migration'))}</h2>"
        + _table(["", word("rate")], rates)
        + f"<h3>{escape(word('migration_matrix'))}</h3>"
        + f'<div class="small wide">{_table(heads, matrix)}</div>'
    )


def _new_npl_section(report: MonthlyReport) -> str:
    new = report.new_npl
    if new is None:
        return f"<h2>{escape(word('new_npl'))}</h2><p>{escape(word('no_new_npl'))}</p>"
    summary = [
        (word("new_npl_loans"), numbers.grouped(new.loans)),
        (word("new_npl_balance"), numbers.money(new.balance)),
    ]

    def tallies(head: str, items: Sequence[Any]) -> str:
        rows = [(t.name, numbers.grouped(t.loans), numbers.money(t.balance)) for t in items]
        return _table([head, word("loans"), word("balance")], rows)

    products = [replace(t, name=label(PRODUCT_LABELS, t.key)) for t in new.by_product]

    return (
        f"<h2>{escape(word('new_npl'))}</h2>"
        + _table(["", ""], summary)
        + tallies(word("unit"), new.by_unit)
        + tallies(word("product"), products)
        + f"<h3>{escape(word('top_households'))}</h3>"
        + tallies(word("household"), new.top_households)
    )


def _early_warning_section(report: MonthlyReport) -> str:
    warning = report.early_warning
    summary = [
        (word("early_warning_loans"), numbers.grouped(warning.loans)),
        (word("early_warning_balance"), numbers.money(warning.balance)),
    ]
    rows = [(t.name, numbers.grouped(t.loans), numbers.money(t.balance)) for t in warning.by_unit]
    return (
        f"<h2>{escape(word('early_warning'))}</h2>"
        + _table(["", ""], summary)
        + _table([word("unit"), word("loans"), word("balance")], rows)
    )


def _counts(column: str, counts: dict[str, int]) -> list[tuple[str, str]]:
    return [(case_value(column, code), numbers.grouped(n)) for code, n in counts.items()]


def _side(after_write_off: bool) -> str:
    return word("after_write_off" if after_write_off else "before_write_off")


def _casework_section(report: MonthlyReport) -> str:
    casework = report.casework
    heading = f"<h2>{escape(word('casework'))}</h2>"
    if casework is None:
        return heading + f"<p>{escape(word('no_casework'))}</p>"
    summary = [
        (word("open_cases"), numbers.grouped(casework.open_cases)),
        (word("deadlines_past"), numbers.grouped(casework.deadlines_past)),
    ]
    parts = [heading, _table(["", ""], summary)]
    for code, column, counts in (
        ("by_state", "state", casework.by_state),
        ("by_strategy", "strategy", casework.by_strategy),
        ("by_tier", "tier", casework.by_tier),
    ):
        shown = {k: n for k, n in counts.items() if n} or counts
        parts.append(f"<h3>{escape(word(code))}</h3>")
        parts.append(_table([word(column), word("cases")], _counts(column, shown)))
    parts.append(f"<h3>{escape(word('recoveries'))}</h3>")
    if casework.recoveries:
        rows = [
            (
                line.name,
                case_value("source", line.source),
                _side(line.after_write_off),
                numbers.money(line.month),
                numbers.money(line.year_to_date),
            )
            for line in casework.recoveries
        ]
        for after in (False, True):
            rows.append(
                (
                    word("recoveries_total"),
                    "",
                    _side(after),
                    numbers.money(casework.total("month", after)),
                    numbers.money(casework.total("year_to_date", after)),
                )
            )
        heads = [
            word("unit"),
            word("source"),
            word("write_off_side"),
            word("this_month"),
            word("year_to_date"),
        ]
        parts.append(_table(heads, rows, numeric_from=3))
    else:
        parts.append(f"<p>{escape(word('no_recoveries'))}</p>")
    parts.append(f"<h3>{escape(word('legal_by_stage'))}</h3>")
    stages = {k: n for k, n in casework.legal_by_stage.items() if n} or casework.legal_by_stage
    parts.append(_table([word("stage"), word("cases")], _counts("legal_stage", stages)))
    return "".join(parts)


def outlook_note(report: MonthlyReport) -> str:
    outlook = report.outlook
    assert outlook is not None
    return localise(
        translatable(
            WORDS["outlook_note"],
            year_end=month_label(outlook.year_end),
            baseline="—" if outlook.baseline is None else month_label(outlook.baseline),
            draws=numbers.grouped(outlook.draws),
        )
    )


OUTLOOK_HEADS = ("npl_p50", "npl_band", "ratio_p50", "probability", "tracking", "gap")


def _outlook_section(report: MonthlyReport) -> str:
    outlook = report.outlook
    heading = f"<h2>{escape(word('outlook'))}</h2>"
    if outlook is None:
        return heading + f"<p>{escape(word('no_outlook'))}</p>"
    rows = []
    for line in [*([outlook.unit] if outlook.unit else []), *outlook.rows]:
        rows.append(
            (
                line.name,
                numbers.money(line.npl_p50),
                f"{numbers.money(line.npl_p10)} – {numbers.money(line.npl_p90)}",
                _ratio(line.ratio_p50),
                _ratio(line.probability),
                label(TRACKING_LABELS, line.tracking) if line.tracking else "—",
                # None: no reduction can make it (a baseline without NPL).
                _money(line.required_reduction) or "—",
            )
        )
    heads = [word("unit"), *(word(code) for code in OUTLOOK_HEADS)]
    # The heading, its note and the table on one page.
    return (
        f'<div class="keep">{heading}<p>{escape(outlook_note(report))}</p>'
        + _table(heads, rows)
        + "</div>"
    )


def _lineage_section(report: MonthlyReport) -> str:
    rows = [(month_label(s.as_of), s.source or "", s.sha256 or "") for s in report.snapshots]
    return (
        f"<h2>{escape(word('lineage'))}</h2><p>{escape(lineage_text(report))}</p>"
        + '<div class="small wide lineage">'
        + _table([word("snapshot"), word("file"), "SHA-256"], rows, numeric_from=9)
        + "</div>"
    )


STYLE = """
@page { size: A4; margin: 22mm 16mm 20mm 16mm;
  @top-left { content: %(unit)s; font-size: 9pt; color: #555; }
  @top-right { content: %(month)s; font-size: 9pt; color: #555; }
  @bottom-left { content: %(lineage)s; font-size: 7pt; color: #777; width: 80%%; }
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; color: #555; }
}
html { font-family: "Noto Sans CJK SC", "Noto Sans CJK", "Noto Sans", sans-serif;
  font-size: 9.5pt; color: #222; }
h1 { font-size: 16pt; margin: 0 0 6pt; }
h2 { font-size: 12pt; margin: 14pt 0 4pt; border-bottom: 1px solid #34607f; color: #34607f;
  page-break-after: avoid; }
h3 { font-size: 10pt; margin: 8pt 0 3pt; }
p.lead { font-size: 11pt; line-height: 1.5; }
table { border-collapse: collapse; margin: 4pt 0 8pt; break-inside: avoid; }
.lineage table { break-inside: auto; }
th, td { border-bottom: 0.5pt solid #ccc; padding: 2pt 6pt; text-align: left; }
th { background: #eef3f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.small table { font-size: 7pt; }
.wide table { width: 100%%; }
.small th, .small td { padding: 1pt 2pt; }
td:first-child { white-space: nowrap; }
.chart, .keep { break-inside: avoid; }
.chart svg { width: 100%%; height: auto; }
"""


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string (the page header and footer are CSS content)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'"{escaped}"'


def html_sections(report: MonthlyReport) -> str:
    """The report's sections as HTML (no title): the PDF's body, and the web app's page."""
    return "".join(
        [
            _headline_section(report),
            _by_unit_section(report),
            _trend_section(report),
            _movement_section(report),
            _migration_section(report),
            _new_npl_section(report),
            _early_warning_section(report),
            _casework_section(report),
            _outlook_section(report),
            _lineage_section(report),
        ]
    )


def html_document(report: MonthlyReport) -> str:
    """The report as one standalone HTML page (what the PDF is printed from)."""
    title = localise(report_title(report))
    month = month_label(report.as_of)
    language = "zh-Hans" if localise(TERMS["npl"]) != TERMS["npl"] else "en"
    style = STYLE % {
        "unit": css_string(report.unit.name),
        "month": css_string(month),
        "lineage": css_string(lineage_text(report)),
    }
    body = f"<h1>{escape(title)}</h1>" + html_sections(report)
    return (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{style}</style></head><body>{body}</body></html>"
    )


def write_pdf(report: MonthlyReport, target: Path) -> None:
    """The report as an A4 PDF (WeasyPrint; CJK text in Debian's Noto CJK font)."""
    from weasyprint import HTML

    HTML(string=html_document(report)).write_pdf(str(target))


def write_html(report: MonthlyReport, target: Path) -> None:
    target.write_text(html_document(report), encoding="utf-8")


# -- XLSX -----------------------------------------------------------------------------------


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def write_xlsx(report: MonthlyReport, target: Path) -> None:
    """One sheet per section; money and ratios as numbers with formats; native charts."""
    workbook = xlsxwriter.Workbook(str(target), {"strings_to_formulas": False})
    # The workbook's creation time is the report's, to the minute as the report says it: the
    # same report written twice (the command line, the web app) is the same bytes.
    created = report.generated_at.replace(second=0, microsecond=0, tzinfo=None)
    workbook.set_properties({"created": created})
    try:
        bold = workbook.add_format({"bold": True})
        title_format = workbook.add_format({"bold": True, "font_size": 14})
        head = workbook.add_format({"bold": True, "bottom": 1, "bg_color": "#EEF3F7"})
        money = workbook.add_format({"num_format": MONEY_FORMAT})
        percent = workbook.add_format({"num_format": PERCENT_FORMAT})
        footer = workbook.add_format({"italic": True, "font_color": "#555555"})

        def sheet_of(code: str) -> Any:
            name = word(code)[:31]
            sheet = workbook.add_worksheet(name)
            sheet.write_string(0, 0, safe_cell(localise(report_title(report))), title_format)
            sheet.write_string(1, 0, safe_cell(name), bold)
            sheet.set_column(0, 0, 28)
            sheet.set_column(1, 12, 16)
            return sheet

        def heads(sheet: Any, row: int, names: Sequence[str]) -> None:
            for column, text in enumerate(names):
                sheet.write_string(row, column, safe_cell(text), head)

        def put(sheet: Any, row: int, column: int, value: Any, fmt: Any = None) -> None:
            if value is None:
                return
            if isinstance(value, bool):
                sheet.write_boolean(row, column, value)
            elif isinstance(value, Decimal | int | float):
                sheet.write_number(row, column, float(value), fmt)
            else:
                sheet.write_string(row, column, safe_cell(str(value)), fmt)

        # 1. Headline
        sheet = sheet_of("headline")
        sheet.write_string(2, 0, safe_cell(headline_sentence(report)))
        line = report.headline
        items: list[tuple[str, Any, Any]] = [
            ("balance", line.balance, money),
            ("npl_balance", line.npl_balance, money),
            ("npl_ratio", line.npl_ratio, percent),
            ("npl_loans", line.npl_loans, None),
            ("baseline_npl_balance", line.baseline_npl_balance, money),
            ("baseline_npl_ratio", line.baseline_npl_ratio, percent),
            ("npl_balance_change", line.npl_balance_change, money),
            ("npl_ratio_change", line.npl_ratio_change, percent),
            ("double_reduction", line.double_reduction, None),
        ]
        for index, (code, value, fmt) in enumerate(items):
            sheet.write_string(4 + index, 0, label(QUALITY_LABELS, code))
            put(sheet, 4 + index, 1, value, fmt)

        # 2. By unit
        sheet = sheet_of("by_unit")
        heads(sheet, 3, [word("unit"), *(label(QUALITY_LABELS, c) for c in BY_UNIT_COLUMNS)])
        formats = [money, percent, money, money, percent, None]
        for index, row in enumerate(report.by_unit):
            r = 4 + index
            sheet.write_string(r, 0, safe_cell(row.name or row.key or ""))
            values = [
                row.line.npl_balance,
                row.line.npl_ratio,
                row.line.baseline_npl_balance,
                row.line.npl_balance_change,
                row.line.npl_ratio_change,
                row.line.double_reduction,
            ]
            for column, (value, fmt) in enumerate(zip(values, formats, strict=True), start=1):
                put(sheet, r, column, value, fmt)
        if report.by_unit:
            chart = workbook.add_chart({"type": "bar"})
            last = 3 + len(report.by_unit)
            chart.add_series(
                {
                    "name": label(QUALITY_LABELS, "npl_ratio"),
                    "categories": [sheet.name, 4, 0, last, 0],
                    "values": [sheet.name, 4, 2, last, 2],
                }
            )
            chart.set_legend({"none": True})
            sheet.insert_chart(last + 2, 0, chart)

        # 3. Trend
        sheet = sheet_of("trend")
        heads(
            sheet,
            3,
            [
                word("month"),
                label(QUALITY_LABELS, "npl_balance"),
                label(QUALITY_LABELS, "npl_ratio"),
            ],
        )
        for index, point in enumerate(report.trend):
            sheet.write_string(4 + index, 0, month_label(point.as_of))
            put(sheet, 4 + index, 1, point.npl_balance, money)
            put(sheet, 4 + index, 2, point.npl_ratio, percent)
        if report.trend:
            last = 3 + len(report.trend)
            chart = workbook.add_chart({"type": "line"})
            chart.add_series(
                {
                    "name": label(QUALITY_LABELS, "npl_balance"),
                    "categories": [sheet.name, 4, 0, last, 0],
                    "values": [sheet.name, 4, 1, last, 1],
                }
            )
            chart.add_series(
                {
                    "name": label(QUALITY_LABELS, "npl_ratio"),
                    "categories": [sheet.name, 4, 0, last, 0],
                    "values": [sheet.name, 4, 2, last, 2],
                    "y2_axis": True,
                }
            )
            sheet.insert_chart(3, 4, chart)

        # 4. Movement
        sheet = sheet_of("movement")
        names = ["", word("this_month")]
        if report.movement_ytd is not None:
            names.append(word("year_to_date"))
        heads(sheet, 3, names)
        for index, (code, _kind) in enumerate(WATERFALL):
            sheet.write_string(4 + index, 0, label(MOVEMENT_LABELS, code))
            put(sheet, 4 + index, 1, report.movement_month.line(code), money)
            if report.movement_ytd is not None:
                put(sheet, 4 + index, 2, report.movement_ytd.line(code), money)
        # The waterfall as a stacked column: an invisible base under each visible step.
        steps = waterfall_steps(report)
        base_column, step_column, first = 5, 6, 4 + len(WATERFALL) + 2
        sheet.write_string(first - 1, base_column, "base")
        sheet.write_string(first - 1, step_column, "step")
        level = Decimal(0)
        for index, (name, amount, kind) in enumerate(steps):
            r = first + index
            sheet.write_string(r, base_column - 1, safe_cell(name))
            if kind == "total":
                base, level = Decimal(0), amount
            elif kind == "up":
                base, level = level, level + amount
            else:
                base, level = level - amount, level - amount
            put(sheet, r, base_column, base, money)
            put(sheet, r, step_column, amount, money)
        chart = workbook.add_chart({"type": "column", "subtype": "stacked"})
        last = first + len(steps) - 1
        chart.add_series(
            {
                "categories": [sheet.name, first, base_column - 1, last, base_column - 1],
                "values": [sheet.name, first, base_column, last, base_column],
                "fill": {"none": True},
                "border": {"none": True},
            }
        )
        chart.add_series(
            {
                "name": localise(WORDS["movement"]),
                "categories": [sheet.name, first, base_column - 1, last, base_column - 1],
                "values": [sheet.name, first, step_column, last, step_column],
            }
        )
        chart.set_legend({"none": True})
        sheet.insert_chart(first + len(steps) + 1, 0, chart)

        # 5. Migration
        sheet = sheet_of("migration")
        migration = report.migration
        if migration is None or migration.rates is None:
            sheet.write_string(3, 0, word("no_baseline"))
        else:
            heads(sheet, 3, ["", word("rate")])
            for index, (name, rate) in enumerate(migration.rates.items()):
                sheet.write_string(4 + index, 0, label(RATE_LABELS, name))
                put(sheet, 4 + index, 1, rate.rate, percent)
            top = 6 + len(migration.rates)
            sheet.write_string(top - 1, 0, word("migration_matrix"), bold)
            heads(
                sheet, top, [word("from_to"), *(label(STATE_LABELS, c) for c in migration.columns)]
            )
            for r, source in enumerate(migration.states, start=top + 1):
                sheet.write_string(r, 0, label(STATE_LABELS, source))
                for c, target_state in enumerate(migration.columns, start=1):
                    put(sheet, r, c, migration.cell(source, target_state).balance, money)

        # 6. New NPL
        sheet = sheet_of("new_npl")
        new = report.new_npl
        if new is None:
            sheet.write_string(3, 0, word("no_new_npl"))
        else:
            sheet.write_string(3, 0, word("new_npl_loans"))
            put(sheet, 3, 1, new.loans)
            sheet.write_string(4, 0, word("new_npl_balance"))
            put(sheet, 4, 1, new.balance, money)
            at = 6
            for head_code, tallies in (
                ("unit", new.by_unit),
                (
                    "product",
                    [replace(t, name=label(PRODUCT_LABELS, t.key)) for t in new.by_product],
                ),
                ("household", new.top_households),
            ):
                heads(sheet, at, [word(head_code), word("loans"), word("balance")])
                for tally in tallies:
                    at += 1
                    sheet.write_string(at, 0, safe_cell(tally.name))
                    put(sheet, at, 1, tally.loans)
                    put(sheet, at, 2, tally.balance, money)
                at += 2
            if new.by_unit:
                chart = workbook.add_chart({"type": "pie"})
                chart.add_series(
                    {
                        "name": word("new_npl_balance"),
                        "categories": [sheet.name, 7, 0, 6 + len(new.by_unit), 0],
                        "values": [sheet.name, 7, 2, 6 + len(new.by_unit), 2],
                    }
                )
                sheet.insert_chart(6, 4, chart)

        # 7. Early warning
        sheet = sheet_of("early_warning")
        warning = report.early_warning
        sheet.write_string(3, 0, word("early_warning_loans"))
        put(sheet, 3, 1, warning.loans)
        sheet.write_string(4, 0, word("early_warning_balance"))
        put(sheet, 4, 1, warning.balance, money)
        heads(sheet, 6, [word("unit"), word("loans"), word("balance")])
        for at, tally in enumerate(warning.by_unit, start=7):
            sheet.write_string(at, 0, safe_cell(tally.name))
            put(sheet, at, 1, tally.loans)
            put(sheet, at, 2, tally.balance, money)

        # 8. Casework
        sheet = sheet_of("casework")
        casework = report.casework
        if casework is None:
            sheet.write_string(3, 0, word("no_casework"))
        else:
            sheet.write_string(3, 0, word("open_cases"))
            put(sheet, 3, 1, casework.open_cases)
            sheet.write_string(4, 0, word("deadlines_past"))
            put(sheet, 4, 1, casework.deadlines_past)
            at = 6
            for vocabulary, counts in (
                ("state", casework.by_state),
                ("strategy", casework.by_strategy),
                ("tier", casework.by_tier),
                ("legal_stage", casework.legal_by_stage),
            ):
                heads(
                    sheet,
                    at,
                    [word("stage" if vocabulary == "legal_stage" else vocabulary), word("cases")],
                )
                for choice, count in counts.items():
                    at += 1
                    sheet.write_string(at, 0, safe_cell(case_value(vocabulary, choice)))
                    put(sheet, at, 1, count)
                at += 2
            sheet.write_string(at, 0, word("recoveries"), bold)
            at += 1
            heads(
                sheet,
                at,
                [
                    word("unit"),
                    word("source"),
                    word("write_off_side"),
                    word("this_month"),
                    word("year_to_date"),
                ],
            )
            for recovery in casework.recoveries:
                at += 1
                sheet.write_string(at, 0, safe_cell(recovery.name))
                sheet.write_string(at, 1, safe_cell(case_value("source", recovery.source)))
                sheet.write_string(at, 2, _side(recovery.after_write_off))
                put(sheet, at, 3, recovery.month, money)
                put(sheet, at, 4, recovery.year_to_date, money)
            for after in (False, True):
                at += 1
                sheet.write_string(at, 0, word("recoveries_total"), bold)
                sheet.write_string(at, 2, _side(after))
                put(sheet, at, 3, casework.total("month", after), money)
                put(sheet, at, 4, casework.total("year_to_date", after), money)

        # 9. Year-end outlook
        sheet = sheet_of("outlook")
        outlook = report.outlook
        if outlook is None:
            sheet.write_string(3, 0, word("no_outlook"))
        else:
            sheet.write_string(2, 0, safe_cell(outlook_note(report)), footer)
            heads(
                sheet,
                3,
                [
                    word("unit"),
                    word("npl_p50"),
                    "P10",
                    "P90",
                    word("ratio_p50"),
                    word("probability"),
                    word("tracking"),
                    word("gap"),
                ],
            )
            lines = [*([outlook.unit] if outlook.unit else []), *outlook.rows]
            for at, unit_line in enumerate(lines, start=4):
                sheet.write_string(at, 0, safe_cell(unit_line.name))
                put(sheet, at, 1, unit_line.npl_p50, money)
                put(sheet, at, 2, unit_line.npl_p10, money)
                put(sheet, at, 3, unit_line.npl_p90, money)
                put(sheet, at, 4, unit_line.ratio_p50, percent)
                put(sheet, at, 5, unit_line.probability, percent)
                if unit_line.tracking:
                    sheet.write_string(at, 6, label(TRACKING_LABELS, unit_line.tracking))
                put(sheet, at, 7, unit_line.required_reduction, money)

        # Lineage
        sheet = sheet_of("lineage")
        sheet.write_string(2, 0, safe_cell(lineage_text(report)), footer)
        heads(sheet, 4, [word("snapshot"), word("file"), "SHA-256"])
        for index, snapshot in enumerate(report.snapshots, start=5):
            sheet.write_string(index, 0, month_label(snapshot.as_of))
            sheet.write_string(index, 1, safe_cell(snapshot.source or ""))
            sheet.write_string(index, 2, safe_cell(snapshot.sha256 or ""))
    finally:
        workbook.close()
