"""``npldesk cases document``: a legal document drafted from a case as a named user, its copy
written to --out (an export of personal data, recorded); mistakes as messages."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from docx import Document as DocxDocument

from npldesk.casework.models import AuditRecord, Document
from npldesk.reports.pii import export_log_path
from tests.casework.factories import build_tree
from tests.casework.legaldocs_world import HOUSEHOLD_NAME, documents_world
from tests.casework.world import World, build_world
from tests.cli.conftest import Cli

pytestmark = pytest.mark.usefixtures("on_casework")


@pytest.fixture
def world(home: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    return documents_world(build_world(build_tree()), home, monkeypatch)


def test_a_document_is_drafted_and_its_copy_written(
    cli: Cli, world: World, home: Path, tmp_path: Path
) -> None:
    target = tmp_path / "letter.docx"
    code, out, err = cli(
        "cases",
        "document",
        world.case.number,
        "--kind",
        "lawyers_letter",
        "--as-of",
        "2020-02-15",
        "--out",
        str(target),
        "--as",
        world.legal.user.username,
    )
    assert code == 0, err
    assert "snapshot of 2020-01-31" in out and "owed 96,234.56" in out
    document = Document.objects.get()
    assert target.read_bytes() == (home / document.files["docx"]).read_bytes()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    text = "\n".join(p.text for p in DocxDocument(str(target)).paragraphs)
    assert "律师函" in text and HOUSEHOLD_NAME in text
    assert [r.action for r in AuditRecord.objects.order_by("id")][-2:] == [
        "document_generate",
        "personal_data_export",
    ]
    (logged,) = [json.loads(line) for line in export_log_path(home).read_text().splitlines()]
    assert (logged["document"], logged["format"]) == (document.pk, "docx")


def test_mistakes_are_messages(cli: Cli, world: World, tmp_path: Path) -> None:
    user = world.legal.user.username
    base = ["cases", "document", world.case.number, "--as", user]
    code, _, err = cli(
        *base, "--kind", "will", "--as-of", "2020-02-15", "--out", str(tmp_path / "a.pdf")
    )
    assert code != 0 and "unknown document kind 'will'" in err
    code, _, err = cli(
        *base, "--kind", "complaint", "--as-of", "soon", "--out", str(tmp_path / "a.pdf")
    )
    assert code != 0 and "--as-of" in err
    code, _, err = cli(
        *base, "--kind", "complaint", "--as-of", "2020-02-15", "--out", str(tmp_path / "a.txt")
    )
    assert code != 0 and ".docx or .pdf" in err
    # Without --as: the system actor drafts no document.
    code, _, err = cli(
        "cases",
        "document",
        world.case.number,
        "--kind",
        "complaint",
        "--as-of",
        "2020-02-15",
        "--out",
        str(tmp_path / "b.pdf"),
    )
    assert code != 0 and "Traceback" not in err
    assert not Document.objects.exists() and not (tmp_path / "a.pdf").exists()
