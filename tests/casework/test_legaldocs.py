"""Legal documents drafted from a case (``casework/legaldocs``, ``document_generate``): each
kind renders as DOCX and PDF with the household, the amounts owed on the day (the last snapshot
on or before it, less later recoveries) and the snapshot named; a missing value is refused by
name with nothing written; the document is kept with the case, as an activity, audited."""

from __future__ import annotations

import stat
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from docx import Document as DocxDocument

from npldesk.casework import legaldocs, selectors, services
from npldesk.casework.errors import AccessDenied
from npldesk.casework.legaldocs import DocumentRefused, amount_in_words
from npldesk.casework.models import (
    Activity,
    AuditRecord,
    Document,
    Household,
    LegalCase,
    Unit,
)
from npldesk.tape.importer import ImportOptions, import_files
from npldesk.tape.org import import_org
from npldesk.tape.store import Store
from tests.casework.legaldocs_world import (
    BANK_NAME,
    COURT,
    GUARANTOR_NAME,
    HOUSEHOLD_NAME,
    INTEREST,
    PRINCIPAL,
    documents_world,
)
from tests.casework.world import World, build_world
from tests.tape_factory import loan_row, write_csv, write_org

DAY = date(2020, 2, 15)
TITLES = {
    "lawyers_letter": "律师函",
    "demand_notice": "催收通知书",
    "complaint": "民事起诉状",
    "enforcement_application": "强制执行申请书",
}


@pytest.fixture
def world(units: dict[str, Unit], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    return documents_world(build_world(units), tmp_path, monkeypatch)


def docx_text(path: Path) -> str:
    document = DocxDocument(str(path))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def _draft(world: World, kind: str, on: date = DAY) -> Document:
    document: Document = services.document_generate(
        actor=world.legal, case=world.case, kind=kind, as_of=on
    )
    return document


@pytest.mark.parametrize("kind", sorted(TITLES))
def test_each_document_states_the_household_and_what_it_owes_on_the_day(
    world: World, tmp_path: Path, kind: str
) -> None:
    # A recovery after the January snapshot: 1,500.00 of principal and 500.00 of interest.
    services.recovery_enter(
        actor=world.officer,
        case=world.case,
        loan_id=world.loan_id,
        received_on=date(2020, 2, 10),
        amount=Decimal("2000.00"),
        principal_part=Decimal("1500.00"),
        source="borrower",
    )
    document = _draft(world, kind)
    principal, interest = PRINCIPAL - Decimal("1500.00"), INTEREST - Decimal("500.00")
    assert document.snapshot_as_of == date(2020, 1, 31)
    assert document.figures["principal"] == str(principal) == "93500.00"
    assert document.figures["interest"] == str(interest) == "734.56"
    assert document.figures["owed"] == "94234.56"
    assert document.figures["recovered_since"] == "2000.00"
    for fmt, read in (("docx", docx_text), ("pdf", pdf_text)):
        # Lines broken anywhere (a PDF's lines, a table's cells): compare without blanks.
        text = "".join(read(tmp_path / document.files[fmt]).split())
        assert TITLES[kind] in text, fmt
        assert HOUSEHOLD_NAME in text, fmt
        for amount in ("93,500.00", "734.56", "94,234.56"):
            assert amount in text, (fmt, amount)
        assert "2020年1月31日" in text  # the snapshot the amounts come from
        assert "2020年2月1日" in text  # interest after it: by formula, from the next day
        assert "实际清偿之日" in text
        assert world.loan_id in text  # the contract number (no mapping: the loan id)
    if kind in ("complaint", "enforcement_application"):
        text = "".join(pdf_text(tmp_path / document.files["pdf"]).split())
        assert BANK_NAME in text and COURT in text and "赵六" in text
    if kind == "enforcement_application":
        assert "（2020）皖0621民初100号" in docx_text(tmp_path / document.files["docx"])
        assert "2020年2月3日" in text  # the judgment took effect
    if kind != "enforcement_application":
        assert GUARANTOR_NAME in docx_text(tmp_path / document.files["docx"])


def test_the_last_snapshot_on_or_before_the_day_is_used(world: World) -> None:
    document = _draft(world, "demand_notice", on=date(2020, 1, 20))
    assert document.snapshot_as_of == date(2019, 12, 31)
    assert document.figures["owed"] == "100900.00"  # December: 100,000.00 and 900.00


def test_the_document_is_kept_with_the_case_as_an_activity_and_audited(
    world: World, tmp_path: Path
) -> None:
    before = AuditRecord.objects.count()
    document = _draft(world, "lawyers_letter")
    detail = selectors.case_detail(world.legal, world.case.number)
    assert selectors.case_documents(world.legal, detail) == [document]
    activity = Activity.objects.get(pk=document.activity_id)
    assert (activity.kind, activity.outcome, activity.person_id) == (
        "document",
        "drafted",
        world.legal.pk,
    )
    assert "律师函" in activity.notes and "2020-01-31" in activity.notes
    assert activity.attachments == [document.files["docx"], document.files["pdf"]]
    (record,) = AuditRecord.objects.order_by("id")[before:]
    assert (record.action, record.case_id, record.actor_id) == (
        "document_generate",
        world.case.pk,
        world.legal.pk,
    )
    assert record.after["figures"]["owed"] == "96234.56"
    for fmt in ("docx", "pdf"):
        path = tmp_path / document.files[fmt]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        import hashlib

        assert hashlib.sha256(path.read_bytes()).hexdigest() == document.checksums[fmt]


def _nothing_written(world: World, tmp_path: Path, audit_before: int) -> None:
    assert not Document.objects.exists()
    assert not Activity.objects.filter(case=world.case, kind="document").exists()
    assert AuditRecord.objects.count() == audit_before
    assert not (tmp_path / "documents").exists() or not any((tmp_path / "documents").rglob("*.*"))


def test_a_missing_value_is_refused_by_name_and_nothing_is_written(
    world: World, tmp_path: Path
) -> None:
    Household.objects.filter(pk=world.case.household_id).update(address="", id_number="")
    world.case.refresh_from_db()
    before = AuditRecord.objects.count()
    with pytest.raises(DocumentRefused) as refused:
        _draft(world, "demand_notice")
    assert "the household's ID number" in str(refused.value)
    assert "the household's address" in str(refused.value)
    assert "催收通知书" in str(refused.value)
    _nothing_written(world, tmp_path, before)


def test_an_enforcement_application_needs_the_judgment(world: World, tmp_path: Path) -> None:
    LegalCase.objects.filter(case=world.case).update(
        court_case_number="", judgment_effective_on=None
    )
    before = AuditRecord.objects.count()
    with pytest.raises(DocumentRefused) as refused:
        _draft(world, "enforcement_application")
    message = str(refused.value)
    assert "court case number" in message and "the judgment took effect" in message
    _nothing_written(world, tmp_path, before)


def test_without_the_banks_legal_details_nothing_is_drafted(world: World, tmp_path: Path) -> None:
    from npldesk.casework.models import UnitLegalDetails

    UnitLegalDetails.objects.all().delete()
    before = AuditRecord.objects.count()
    with pytest.raises(DocumentRefused, match="legal details of unit HB0101"):
        _draft(world, "demand_notice")
    _nothing_written(world, tmp_path, before)


def test_no_snapshot_on_or_before_the_day_is_a_refusal(world: World, tmp_path: Path) -> None:
    before = AuditRecord.objects.count()
    with pytest.raises(DocumentRefused, match="no tape snapshot on or before 2019-12-30"):
        _draft(world, "demand_notice", on=date(2019, 12, 30))
    _nothing_written(world, tmp_path, before)


def test_only_who_works_the_case_with_the_role_drafts(world: World) -> None:
    with pytest.raises(AccessDenied):
        services.document_generate(
            actor=world.finance, case=world.case, kind="demand_notice", as_of=DAY
        )
    with pytest.raises(AccessDenied, match="does not work case"):
        services.document_generate(
            actor=world.officer2, case=world.case, kind="demand_notice", as_of=DAY
        )
    # The case's own officer drafts.
    document = services.document_generate(
        actor=world.officer, case=world.case, kind="demand_notice", as_of=DAY
    )
    assert document.generated_by_id == world.officer.pk


def test_a_bank_replaces_a_template_and_maps_contract_numbers(world: World, tmp_path: Path) -> None:
    own = tmp_path / "legaldocs"
    own.mkdir()
    (own / "demand_notice.html").write_text(
        "<html><body><h1>{{ title }}</h1><p>本行专用格式 {{ household.name }}</p>"
        "{% for loan in loans %}<p>{{ loan.contract_number }}</p>{% endfor %}</body></html>",
        encoding="utf-8",
    )
    (own / "contract_numbers.csv").write_text(
        f"loan_id,contract_number\n{world.loan_id},濉农商借字2018第0042号\n", encoding="utf-8"
    )
    document = _draft(world, "demand_notice")
    pdf = pdf_text(tmp_path / document.files["pdf"])
    assert "本行专用格式" in pdf and "濉农商借字2018第0042号" in pdf
    assert "濉农商借字2018第0042号" in docx_text(tmp_path / document.files["docx"])
    assert document.figures["loans"][world.loan_id]["contract_number"] == "濉农商借字2018第0042号"


def test_the_shipped_templates_are_those_the_script_writes() -> None:
    for kind in TITLES:
        for fmt in ("docx", "html"):
            assert (legaldocs.SHIPPED / f"{kind}.{fmt}").is_file()


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("96234.56", "玖万陆仟贰佰叁拾肆元伍角陆分"),
        ("100000.00", "壹拾万元整"),
        ("1005.00", "壹仟零伍元整"),
        ("10000000.10", "壹仟万元壹角整"),
        ("0.05", "伍分"),
        ("100010.00", "壹拾万零壹拾元整"),
    ],
)
def test_amounts_in_capital_numerals(amount: str, words: str) -> None:
    assert amount_in_words(Decimal(amount)) == words


def test_each_loan_is_read_from_the_latest_month_that_has_it(tmp_path: Path) -> None:
    """A loan still on the book comes from the last month; one that left it from the last
    month it was in (its maturity may have changed on the way); a loan never seen is absent."""
    store = Store(tmp_path / "store")
    import_org(store, write_org(tmp_path / "org_units.csv"), user="tester")
    months = [date(2019, 10, 31), date(2019, 11, 30), date(2019, 12, 31)]
    maturities = {
        (1, months[0]): "2021-01-31",
        (1, months[1]): "2021-02-28",
        (1, months[2]): "2021-03-31",
        (2, months[0]): "2022-01-31",
        (2, months[1]): "2022-06-30",
    }
    files = []
    for month in months:
        rows = [
            loan_row(n, month, maturity_date=maturity)
            for (n, in_month), maturity in maturities.items()
            if in_month == month
        ]
        files.append(write_csv(tmp_path / f"{month}.csv", rows))
    import_files(store, files, ImportOptions(accept_exits=True))

    loans = legaldocs.latest_tape_loans(store, months[2], ["L000001", "L000002", "L000003"])

    assert {loan_id: row.maturity_date for loan_id, row in loans.items()} == {
        "L000001": date(2021, 3, 31),
        "L000002": date(2022, 6, 30),
    }
    # Read as of November, the loan still on the book that month comes from November's file.
    november = legaldocs.latest_tape_loans(store, months[1], ["L000001"])
    assert november["L000001"].maturity_date == date(2021, 2, 28)
    assert legaldocs.latest_tape_loans(store, date(2019, 9, 30), ["L000001"]) == {}

    # Read again, the rows are the ones kept, with no file read; a month imported again is a
    # new file, read as soon as the manifest names it.
    def unread(*args: Any) -> Any:
        raise AssertionError("the tape was read again")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(legaldocs, "_rows_in", unread)
        patch.setattr(legaldocs, "_latest_rows", unread)
        assert legaldocs.latest_tape_loans(store, months[2], ["L000003", "L000002", "L000001"]) == (
            loans
        )
    again = [loan_row(1, months[2], maturity_date="2023-12-31")]
    import_files(
        store,
        [write_csv(tmp_path / "again.csv", again)],
        ImportOptions(accept_exits=True, replace=True),
    )
    assert legaldocs.latest_tape_loans(store, months[2], ["L000001"])["L000001"].maturity_date == (
        date(2023, 12, 31)
    )
