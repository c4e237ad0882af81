"""The case page's documents and clocks (``/cases/<case>/documents/``): the legal desk and the
case's officer draft a document from a form (kind and day), a missing value is shown as a
message with nothing written, the document is listed with its activity, and each download is
an export of personal data, recorded before the file is sent. The units' legal details are
kept in administration (``/admin/legal-details/``), one audited service call per change; the
legal board shows the clock alerts."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from npldesk.casework.models import (
    Activity,
    AuditRecord,
    Document,
    Household,
    Person,
    UnitLegalDetails,
)
from npldesk.reports.pii import export_log_path
from tests.casework.factories import PersonFactory
from tests.casework.legaldocs_world import documents_world
from tests.casework.world import World

Sign = Callable[[Person], Client]
DAY = "2020-02-15"


@pytest.fixture
def client_for(client_for: Sign) -> Sign:
    """Clients that read the pages in English (the home's default is Chinese)."""

    def sign_in(person: Person) -> Client:
        client = client_for(person)
        client.cookies["django_language"] = "en"
        return client

    return sign_in


@pytest.fixture
def home(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    documents_world(world, tmp_path, monkeypatch)
    return tmp_path


def _draft(client: Client, world: World, kind: str = "lawyers_letter") -> object:
    return client.post(
        f"/cases/{world.case.number}/documents/", {"kind": kind, "as_of": DAY}, follow=True
    )


def _messages(response: object) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


def test_the_legal_desk_drafts_a_document_and_it_is_listed_with_its_activity(
    world: World, home: Path, client_for: Sign
) -> None:
    client = client_for(world.legal)
    page = client.get(f"/cases/{world.case.number}/").content.decode()
    assert 'action="/cases/' + world.case.number + '/documents/"' in page
    before = AuditRecord.objects.count()
    response = _draft(client, world)
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert [r.action for r in AuditRecord.objects.order_by("id")[before:]] == ["document_generate"]
    document = Document.objects.get()
    text = response.content.decode()  # type: ignore[attr-defined]
    assert "Document drafted." in text
    assert "Lawyer&#x27;s letter (律师函)" in text or "Lawyer's letter (律师函)" in text
    assert f"/cases/{world.case.number}/documents/{document.pk}.pdf" in text
    assert "96,234.56" in text and "2020-01-31" in text
    assert Activity.objects.filter(case=world.case, kind="document").count() == 1
    assert "Legal document drafted" in text  # the activity in the case's list


def test_a_missing_value_is_shown_and_nothing_is_written(
    world: World, home: Path, client_for: Sign
) -> None:
    Household.objects.filter(pk=world.case.household_id).update(address="")
    before = AuditRecord.objects.count()
    response = _draft(client_for(world.legal), world, "demand_notice")
    (message,) = _messages(response)
    assert "cannot be drafted" in message and "the household's address" in message
    assert html.escape(message) in response.content.decode()  # type: ignore[attr-defined]
    assert AuditRecord.objects.count() == before
    assert not Document.objects.exists()
    assert not (home / "documents").exists() or not any((home / "documents").rglob("*.*"))


def test_a_bad_form_is_a_message_not_an_error(world: World, home: Path, client_for: Sign) -> None:
    response = client_for(world.legal).post(
        f"/cases/{world.case.number}/documents/", {"kind": "will", "as_of": "soon"}, follow=True
    )
    assert response.status_code == 200
    assert len(_messages(response)) == 2 and not Document.objects.exists()


def test_who_may_not_draft_is_refused(world: World, home: Path, client_for: Sign) -> None:
    # A role that drafts none, or an officer who does not work the case: refused (a refusal
    # of access is a 404, as everywhere in the app; a refused action a message).
    for person in (world.finance, world.officer2, world.lead):
        before = AuditRecord.objects.count()
        response = _draft(client_for(person), world)
        assert response.status_code in (200, 404), person.roles  # type: ignore[attr-defined]
        if response.status_code == 200:  # type: ignore[attr-defined]
            assert _messages(response)
        assert AuditRecord.objects.count() == before
    assert not Document.objects.exists()
    # Outside the person's units the case is not found.
    assert (
        client_for(world.outsider)
        .post(f"/cases/{world.case.number}/documents/", {"kind": "complaint", "as_of": DAY})
        .status_code
        == 404
    )


def test_a_download_is_recorded_as_a_personal_data_export_before_it_is_sent(
    world: World, home: Path, client_for: Sign
) -> None:
    _draft(client_for(world.legal), world, "complaint")
    document = Document.objects.get()
    for fmt, content_type in (
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("pdf", "application/pdf"),
    ):
        before = AuditRecord.objects.count()
        response = client_for(world.officer).get(
            f"/cases/{world.case.number}/documents/{document.pk}.{fmt}"
        )
        assert response.status_code == 200 and response["Content-Type"] == content_type
        body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        assert body == (home / document.files[fmt]).read_bytes()
        assert "attachment" in response["Content-Disposition"]
        (record,) = AuditRecord.objects.order_by("id")[before:]
        assert (record.action, record.actor_id) == ("personal_data_export", world.officer.pk)
    lines = export_log_path(home).read_text(encoding="utf-8").splitlines()
    logged = [json.loads(line) for line in lines]
    assert [(e["document"], e["format"], e["case"]) for e in logged] == [
        (document.pk, "docx", world.case.number),
        (document.pk, "pdf", world.case.number),
    ]


def test_who_does_not_work_the_case_downloads_nothing(
    world: World, home: Path, client_for: Sign
) -> None:
    _draft(client_for(world.legal), world)
    document = Document.objects.get()
    url = f"/cases/{world.case.number}/documents/{document.pk}.pdf"
    before = AuditRecord.objects.count()
    page = client_for(world.finance).get(f"/cases/{world.case.number}/").content.decode()
    assert url not in page  # listed, without links
    response = client_for(world.finance).get(url, follow=True)
    assert response.status_code == 200 and "does not work case" in _messages(response)[0]
    assert client_for(world.outsider).get(url).status_code == 404
    assert client_for(world.legal).get(url.replace(".pdf", ".exe")).status_code == 404
    assert (
        client_for(world.legal)
        .get(f"/cases/{world.case.number}/documents/{document.pk + 1}.pdf")
        .status_code
        == 404
    )
    assert AuditRecord.objects.count() == before
    assert not export_log_path(home).exists()


def test_the_case_page_shows_its_clocks(world: World, home: Path, client_for: Sign) -> None:
    page = client_for(world.legal).get(f"/cases/{world.case.number}/")
    clocks = page.context["clocks"]
    assert [loan.loan_id for loan in clocks.loans] == [world.loan_id]
    text = page.content.decode()
    assert "Limitation" in text and "2022-06-30" in text  # three years from maturity
    assert "Enforcement" in text and "2022-02-03" in text  # two years from the judgment
    assert "Guarantee periods" in text and "2019-12-30" in text


def test_the_legal_board_shows_the_clock_alerts(world: World, home: Path, client_for: Sign) -> None:
    # The judgment took effect in 2020: its enforcement clock ran out in February 2022.
    response = client_for(world.legal).get("/legal/")
    (alert,) = response.context["alerts"]
    assert (alert.case_number, alert.clock, alert.state) == (
        world.case.number,
        "enforcement",
        "expired",
    )
    text = response.content.decode()
    assert "Clock alerts" in text and "2022-02-03" in text


def test_the_units_legal_details_are_kept_in_administration(
    world: World, home: Path, client_for: Sign
) -> None:
    for person in (world.officer, world.legal, world.lead):
        assert client_for(person).get("/admin/legal-details/").status_code == 404
        assert client_for(person).get("/admin/legal-details/HB0101/").status_code == 404
    admin = client_for(world.admin)
    listing = admin.get("/admin/legal-details/").content.decode()
    assert "某某农村商业银行股份有限公司濉溪支行" in listing and "HB0101" in listing
    before = AuditRecord.objects.count()
    response = admin.post(
        "/admin/legal-details/HB0101/",
        {
            "legal_name": "濉溪城关支行",
            "address": "城关路2号",
            "legal_representative": "钱七",
            "phone": "",
        },
    )
    assert response.status_code == 302
    assert [r.action for r in AuditRecord.objects.order_by("id")[before:]] == [
        "unit_legal_details_set"
    ]
    assert UnitLegalDetails.objects.get(unit__code="HB0101").legal_representative == "钱七"
    # An edit names the version it read; a stale one is refused.
    details = UnitLegalDetails.objects.get(unit__code="HB")
    form = admin.get("/admin/legal-details/HB/").context["form"]
    assert form.initial["version"] == details.version
    data = {"legal_name": "新名称", "address": "a", "legal_representative": "b", "phone": ""}
    first = admin.post(
        "/admin/legal-details/HB/", {**data, "version": details.version}, follow=True
    )
    assert _messages(first) == ["Saved."]
    stale = admin.post(
        "/admin/legal-details/HB/", {**data, "version": details.version}, follow=True
    )
    assert "Not saved" in _messages(stale)[0]
    # A blank field is the form's message; nothing is written.
    before = AuditRecord.objects.count()
    blank = admin.post("/admin/legal-details/HB0101/", {"legal_name": "", "address": "x"})
    assert blank.status_code == 200 and blank.context["form"].errors
    assert AuditRecord.objects.count() == before
    # Another county's admin does not see this county's units.
    county_admin = PersonFactory(roles=["admin"], units=[world.units["HB02"]], user__password="!")
    assert client_for(county_admin).get("/admin/legal-details/HB0101/").status_code == 404
