"""Legal documents drafted from a case (``../shared/design/reports.md``, "Legal documents";
ADR 0019): 律师函, 催收通知书 (with its receipt slip), 民事起诉状 (a draft) and 强制执行申请书, in
Chinese, as DOCX (docxtpl) and PDF (WeasyPrint) from one context.

- **Amounts owed** on the document's day come from the last tape snapshot on or before it: each
  loan's principal balance and overdue interest there, less the recoveries received after that
  snapshot up to the day (their principal part from the principal, the rest from the
  interest). The document names that snapshot; interest after it is claimed by formula
  ("until paid in full"), never computed.
- **Contract numbers** are the loan ids unless ``<home>/legaldocs/contract_numbers.csv``
  (``loan_id,contract_number``) maps one.
- **The bank's own details** (legal name, address, legal representative) are the case unit's
  legal details, or the nearest unit above it that has them (kept in administration).
- **Templates** ship beside this module (``<kind>.docx`` and ``<kind>.html``, both Jinja over the
  same context, written by ``scripts/legal_templates.py``); a file of the same name in
  ``<home>/legaldocs/`` replaces one for that bank.
- A document that needs a value the case lacks is refused (``DocumentRefused``), naming every
  missing field, before anything is written.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from npldesk.casework.choices import DocumentKind, LegalStage
from npldesk.casework.errors import InvalidAction
from npldesk.casework.models import Case, LegalCase, Recovery, Unit, UnitLegalDetails
from npldesk.core.i18n import Translatable, translatable
from npldesk.core.kept import Kept
from npldesk.home import Home
from npldesk.tape.store import Store

SHIPPED = Path(__file__).resolve().parent
HOME_FOLDER = "legaldocs"
CONTRACT_NUMBERS = "contract_numbers.csv"
PAY_WITHIN_DAYS = 15
ZERO = Decimal("0.00")

TITLES: dict[str, str] = {
    DocumentKind.LAWYERS_LETTER: "律师函",
    DocumentKind.DEMAND_NOTICE: "催收通知书",
    DocumentKind.COMPLAINT: "民事起诉状",
    DocumentKind.ENFORCEMENT_APPLICATION: "强制执行申请书",
}

COLLATERAL_WORDS = {
    "real_estate": "不动产抵押",
    "vehicle": "机动车抵押",
    "deposit": "存单质押",
    "equipment": "设备抵押",
    "land_use_right": "土地使用权抵押",
    "other": "其他担保物",
}

TAPE_COLUMNS = [
    "loan_id",
    "origination_date",
    "maturity_date",
    "original_amount",
    "principal_balance",
    "overdue_interest",
    "collateral_type",
    "collateral_value",
    "status",
]


class DocumentRefused(InvalidAction):
    """A document the case cannot fill: the message names what is missing."""


# -- the tape ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TapeLoan:
    """A loan's row in one snapshot, as the documents and the clocks read it."""

    loan_id: str
    origination_date: date | None
    maturity_date: date | None
    original_amount: Decimal
    principal_balance: Decimal
    overdue_interest: Decimal
    collateral_type: str
    collateral_value: Decimal
    status: str


def _decimal(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value).quantize(ZERO)


def snapshot_on_or_before(store: Store, day: date) -> date | None:
    """The last month-end of the store on or before ``day``."""
    months = [month for month in store.months() if month <= day]
    return months[-1] if months else None


def _tape_loan(row: dict[str, Any]) -> TapeLoan:
    return TapeLoan(
        loan_id=row["loan_id"],
        origination_date=row["origination_date"],
        maturity_date=row["maturity_date"],
        original_amount=_decimal(row["original_amount"]),
        principal_balance=_decimal(row["principal_balance"]),
        overdue_interest=_decimal(row["overdue_interest"]),
        collateral_type=row["collateral_type"] or "none",
        collateral_value=_decimal(row["collateral_value"]),
        status=row["status"] or "active",
    )


def tape_loans(store: Store, snapshot: date, loan_ids: Iterable[str]) -> dict[str, TapeLoan]:
    """The rows of ``loan_ids`` in the snapshot of ``snapshot`` (absent loans left out)."""
    return _rows_in(store.snapshot_path(snapshot), loan_ids)


def _rows_in(path: Path, loan_ids: Iterable[str]) -> dict[str, TapeLoan]:
    import pyarrow.parquet as pq

    wanted = sorted(set(loan_ids))
    if not wanted:
        return {}
    table = pq.read_table(path, columns=TAPE_COLUMNS, filters=[("loan_id", "in", wanted)])
    return {row["loan_id"]: _tape_loan(row) for row in table.to_pylist()}


def latest_tape_loans(store: Store, day: date, loan_ids: Iterable[str]) -> dict[str, TapeLoan]:
    """Each loan's row in the latest snapshot on or before ``day`` that has it (for its
    maturity date: the clocks).

    An open case's loans are in the latest snapshot, which is read first; loans that left the
    book (a closed case's) are then looked for in every earlier month at once, one scan of
    their files, rather than a file read per month. The manifest is read once."""
    wanted = set(loan_ids)
    paths = {month: path for month, path in sorted(store.snapshot_paths().items()) if month <= day}
    if not wanted or not paths:
        return {}
    # A committed snapshot file is never written again (an import writes new names and then
    # the manifest), so the files' paths and the loans name the answer for good.
    key = (tuple(str(path) for path in paths.values()), tuple(sorted(wanted)))
    found = _reads.get(key)
    if found is None:
        found = _read_latest(paths, wanted)
        _reads.put(key, found)
    return dict(found)


# The tape reads of the clocks a server process keeps: a case page read again, or the legal
# board, costs no file read until an import commits other files.
_reads: Kept[tuple[tuple[str, ...], tuple[str, ...]], dict[str, TapeLoan]] = Kept(4096)


def forget_tape_reads() -> None:
    """Empty the kept reads (a test that counts file reads starts from none)."""
    _reads.clear()


def _read_latest(paths: dict[date, Path], wanted: set[str]) -> dict[str, TapeLoan]:
    *earlier, latest = paths.values()
    found = _rows_in(latest, wanted)
    missing = sorted(wanted - found.keys())
    if missing and earlier:
        month_of = {str(path): month for month, path in paths.items() if path in earlier}
        found |= _latest_rows(month_of, missing)
    return found


_thread = threading.local()


def _duckdb() -> Any:
    """This thread's in-memory DuckDB connection: opening one costs more than the scan."""
    if not hasattr(_thread, "connection"):
        import duckdb

        _thread.connection = duckdb.connect()
    return _thread.connection


def _latest_rows(month_of: dict[str, date], loan_ids: list[str]) -> dict[str, TapeLoan]:
    """Each loan's row in the latest of the files of ``month_of`` (path → month) that has it."""
    columns = ", ".join(TAPE_COLUMNS)
    rows = (
        _duckdb()
        .execute(
            f"SELECT {columns}, filename FROM read_parquet(?, filename = true, "
            "union_by_name = true) WHERE loan_id IN ?",
            [list(month_of), loan_ids],
        )
        .fetchall()
    )
    latest: dict[str, tuple[date, TapeLoan]] = {}
    for values in rows:
        row = dict(zip([*TAPE_COLUMNS, "filename"], values, strict=True))
        month = month_of[row["filename"]]
        if row["loan_id"] not in latest or latest[row["loan_id"]][0] < month:
            latest[row["loan_id"]] = (month, _tape_loan(row))
    return {loan_id: tape for loan_id, (_, tape) in latest.items()}


# -- amounts owed ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoanOwed:
    loan_id: str
    contract_number: str
    tape: TapeLoan
    recovered: Decimal  # received after the snapshot, up to the document's day
    principal: Decimal
    interest: Decimal

    @property
    def owed(self) -> Decimal:
        return self.principal + self.interest


@dataclass(frozen=True)
class Owed:
    """What the case's loans owe on ``as_of``, from the snapshot of ``snapshot_as_of``."""

    as_of: date
    snapshot_as_of: date
    loans: list[LoanOwed] = field(default_factory=list)

    @property
    def principal(self) -> Decimal:
        return sum((loan.principal for loan in self.loans), ZERO)

    @property
    def interest(self) -> Decimal:
        return sum((loan.interest for loan in self.loans), ZERO)

    @property
    def owed(self) -> Decimal:
        return self.principal + self.interest

    @property
    def recovered_since(self) -> Decimal:
        return sum((loan.recovered for loan in self.loans), ZERO)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "snapshot_as_of": self.snapshot_as_of.isoformat(),
            "principal": str(self.principal),
            "interest": str(self.interest),
            "owed": str(self.owed),
            "recovered_since": str(self.recovered_since),
            "loans": {
                loan.loan_id: {
                    "contract_number": loan.contract_number,
                    "principal": str(loan.principal),
                    "interest": str(loan.interest),
                    "owed": str(loan.owed),
                    "recovered_since": str(loan.recovered),
                }
                for loan in self.loans
            },
        }


def contract_numbers(home: Home) -> dict[str, str]:
    """``<home>/legaldocs/contract_numbers.csv`` (``loan_id,contract_number``), if there."""
    path = home.path / HOME_FOLDER / CONTRACT_NUMBERS
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = csv.DictReader(handle)
        if rows.fieldnames is None or not {"loan_id", "contract_number"} <= set(rows.fieldnames):
            raise InvalidAction(
                translatable("{path}: the columns are loan_id and contract_number", path=str(path))
            )
        return {
            row["loan_id"].strip(): row["contract_number"].strip()
            for row in rows
            if row.get("loan_id") and row.get("contract_number")
        }


def loans_owed(home: Home, case: Case, as_of: date) -> Owed:
    """The amounts the case's loans owe on ``as_of`` (see the module's docstring)."""
    store = Store(home.store_path)
    snapshot = snapshot_on_or_before(store, as_of)
    if snapshot is None:
        raise DocumentRefused(
            translatable(
                "no tape snapshot on or before {as_of}: the amounts owed cannot be stated",
                as_of=as_of.isoformat(),
            )
        )
    loan_ids = sorted(case.loans.values_list("loan_id", flat=True))
    rows = tape_loans(store, snapshot, loan_ids)
    on_book = [rows[loan_id] for loan_id in loan_ids if loan_id in rows]
    on_book = [row for row in on_book if row.status == "active"]
    if not on_book:
        raise DocumentRefused(
            translatable(
                "no loan of case {case_number} is on the books in the snapshot of {snapshot}",
                case_number=case.number,
                snapshot=snapshot.isoformat(),
            )
        )
    received: dict[str, tuple[Decimal, Decimal]] = {}
    for entry in Recovery.objects.filter(
        case=case, received_on__gt=snapshot, received_on__lte=as_of, after_write_off=False
    ):
        amount, principal = received.get(entry.loan_id, (ZERO, ZERO))
        received[entry.loan_id] = (amount + entry.amount, principal + entry.principal_part)
    numbers = contract_numbers(home)
    loans = []
    for row in on_book:
        amount, principal_part = received.get(row.loan_id, (ZERO, ZERO))
        principal = max(row.principal_balance - principal_part, ZERO)
        interest = max(row.overdue_interest - (amount - principal_part), ZERO)
        loans.append(
            LoanOwed(
                loan_id=row.loan_id,
                contract_number=numbers.get(row.loan_id, row.loan_id),
                tape=row,
                recovered=amount,
                principal=principal,
                interest=interest,
            )
        )
    return Owed(as_of=as_of, snapshot_as_of=snapshot, loans=loans)


# -- the context -----------------------------------------------------------------------------


def chinese_date(day: date | None) -> str:
    return "" if day is None else f"{day.year}年{day.month}月{day.day}日"


def yuan(value: Decimal) -> str:
    return f"{value:,.2f}"


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ["", "拾", "佰", "仟"]
_GROUPS = ["", "万", "亿", "万亿"]


def amount_in_words(value: Decimal) -> str:
    """An amount in capital Chinese numerals, as a cheque or a court filing writes it
    (``1,234.50`` → 壹仟贰佰叁拾肆元伍角整)."""
    fen_total = int((value.quantize(ZERO) * 100).to_integral_value())
    if fen_total < 0:
        return "负" + amount_in_words(-value)
    yuan_part, cents = divmod(fen_total, 100)
    jiao, fen = divmod(cents, 10)
    text = ""
    if yuan_part:
        groups = []
        n = yuan_part
        while n:
            groups.append(n % 10000)
            n //= 10000
        pieces: list[str] = []
        zero_pending = False
        for index in range(len(groups) - 1, -1, -1):
            group = groups[index]
            if group == 0:
                zero_pending = True
                continue
            if pieces and (zero_pending or group < 1000):
                pieces.append("零")
            zero_pending = False
            digits = f"{group:04d}"
            group_text = ""
            inner_zero = False
            for position, digit in enumerate(digits):
                d = int(digit)
                if d == 0:
                    inner_zero = bool(group_text)
                    continue
                if inner_zero:
                    group_text += "零"
                    inner_zero = False
                group_text += _DIGITS[d] + _UNITS[3 - position]
            pieces.append(group_text + _GROUPS[index])
        text = "".join(pieces) + "元"
    if jiao == 0 and fen == 0:
        return (text or "零元") + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif text:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    else:
        text += "整"
    return text


def unit_legal_details(unit: Unit) -> UnitLegalDetails | None:
    """The unit's legal details, or those of the nearest unit above it that has them."""
    codes = [p for p in unit.path.split("/") if p]
    found = {
        details.unit.code: details
        for details in UnitLegalDetails.objects.filter(unit__code__in=codes).select_related("unit")
    }
    for code in reversed(codes):
        if code in found:
            return found[code]
    return found.get(unit.code)


def _legal_case(case: Case) -> LegalCase | None:
    return (
        LegalCase.objects.filter(case=case)
        .exclude(stage=LegalStage.CLOSED)
        .order_by("-stage_since", "-pk")
        .first()
        or LegalCase.objects.filter(case=case).order_by("-stage_since", "-pk").first()
    )


def _needs(kind: str) -> list[tuple[str, Translatable]]:
    """What ``kind`` needs beyond the household's name, ID number and address and the bank's
    legal details: (context key, the field named when it is missing)."""
    court = ("court", translatable("the legal case's court"))
    needs: dict[str, list[tuple[str, Translatable]]] = {
        DocumentKind.LAWYERS_LETTER: [("lawyer", translatable("the legal case's lawyer"))],
        DocumentKind.DEMAND_NOTICE: [],
        DocumentKind.COMPLAINT: [court],
        DocumentKind.ENFORCEMENT_APPLICATION: [
            court,
            ("court_case_number", translatable("the legal case's court case number")),
            ("judgment_effective_on", translatable("the date the judgment took effect")),
        ],
    }
    return needs[kind]


def document_context(home: Home, case: Case, kind: str, as_of: date) -> dict[str, Any]:
    """Everything a template of ``kind`` shows for ``case`` on ``as_of``, unmasked; or
    ``DocumentRefused`` naming every value the case lacks."""
    if kind not in TITLES:
        raise InvalidAction(
            translatable(
                "unknown document kind {kind!r}: one of {choices}",
                kind=kind,
                choices=", ".join(DocumentKind.values),
            )
        )
    household = case.household
    bank = unit_legal_details(case.unit)
    legal = _legal_case(case)
    missing: list[Translatable] = []
    for value, name in (
        (household.name, translatable("the household's name")),
        (household.id_number, translatable("the household's ID number")),
        (household.address, translatable("the household's address")),
    ):
        if not value.strip():
            missing.append(name)
    if bank is None:
        missing.append(
            translatable(
                "the legal details of unit {unit_code} (administration)", unit_code=case.unit.code
            )
        )
    else:
        for value, name in (
            (bank.legal_name, translatable("the bank unit's legal name")),
            (bank.address, translatable("the bank unit's address")),
            (bank.legal_representative, translatable("the bank unit's legal representative")),
        ):
            if not value.strip():
                missing.append(name)
    legal_values: dict[str, Any] = {
        "lawyer": legal.lawyer.strip() if legal is not None else "",
        "court": legal.court.strip() if legal is not None else "",
        "court_case_number": legal.court_case_number.strip() if legal is not None else "",
        "judgment_effective_on": legal.judgment_effective_on if legal is not None else None,
    }
    for key, name in _needs(kind):
        if not legal_values[key]:
            missing.append(name)
    if missing:
        named = missing[0]
        for more in missing[1:]:
            named = translatable("{first}; {more}", first=named, more=more)
        raise DocumentRefused(
            translatable(
                "the {title} of case {case_number} cannot be drafted: it needs {missing}",
                title=TITLES[kind],
                case_number=case.number,
                missing=named,
            )
        )
    assert bank is not None
    owed = loans_owed(home, case, as_of)
    guarantors = [
        {"name": g.name or g.borrower_id, "id_number": g.id_number, "address": g.address}
        for g in household.guarantors.order_by("borrower_id")
    ]
    collateral = [
        f"合同编号{loan.contract_number}项下{COLLATERAL_WORDS[loan.tape.collateral_type]}"
        f"（评估价值人民币{yuan(loan.tape.collateral_value)}元）"
        for loan in owed.loans
        if loan.tape.collateral_type in COLLATERAL_WORDS
    ]
    return {
        "kind": kind,
        "title": TITLES[kind],
        "case_number": case.number,
        "as_of": chinese_date(as_of),
        "snapshot_as_of": chinese_date(owed.snapshot_as_of),
        "interest_from": chinese_date(owed.snapshot_as_of + timedelta(days=1)),
        "pay_within_days": PAY_WITHIN_DAYS,
        "bank": {
            "legal_name": bank.legal_name,
            "address": bank.address,
            "legal_representative": bank.legal_representative,
            "phone": bank.phone,
        },
        "household": {
            "name": household.name,
            "id_number": household.id_number,
            "address": household.address,
            "borrower_id": household.borrower_id,
        },
        "bank_phone": f"，电话：{bank.phone}" if bank.phone else "",
        "guarantors": guarantors,
        "collateral": collateral,
        "loans": [
            {
                "loan_id": loan.loan_id,
                "contract_number": loan.contract_number,
                "origination_date": chinese_date(loan.tape.origination_date),
                "maturity_date": chinese_date(loan.tape.maturity_date),
                "original_amount": yuan(loan.tape.original_amount),
                "principal": yuan(loan.principal),
                "interest": yuan(loan.interest),
                "owed": yuan(loan.owed),
            }
            for loan in owed.loans
        ],
        "total": {
            "principal": yuan(owed.principal),
            "interest": yuan(owed.interest),
            "owed": yuan(owed.owed),
            "owed_words": amount_in_words(owed.owed),
            "recovered_since": yuan(owed.recovered_since),
        },
        "lawyer": legal_values["lawyer"],
        "court": legal_values["court"],
        "court_case_number": legal_values["court_case_number"],
        "judgment_effective_on": chinese_date(legal_values["judgment_effective_on"]),
        "owed": owed,
    }


# -- rendering -------------------------------------------------------------------------------


def template_path(home: Home, name: str) -> Path:
    """The bank's own template ``<home>/legaldocs/<name>`` if there, else the shipped one."""
    own = home.path / HOME_FOLDER / name
    return own if own.is_file() else SHIPPED / name


def render_docx(home: Home, kind: str, context: Mapping[str, Any]) -> bytes:
    from docxtpl import DocxTemplate

    template = DocxTemplate(str(template_path(home, f"{kind}.docx")))
    template.render(dict(context), autoescape=True)
    buffer = io.BytesIO()
    template.save(buffer)
    return buffer.getvalue()


def render_html(home: Home, kind: str, context: Mapping[str, Any]) -> str:
    import jinja2

    source = template_path(home, f"{kind}.html").read_text(encoding="utf-8")
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return environment.from_string(source).render(dict(context))


def render_pdf(home: Home, kind: str, context: Mapping[str, Any]) -> bytes:
    """The same content as the DOCX, A4, in Debian's Noto CJK fonts (WeasyPrint)."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=render_html(home, kind, context)).write_pdf()
    return pdf
