"""The message catalogues: every string marked for translation has Chinese, keeps the
placeholders of its English, and the compiled ``.mo`` files are those of the ``.po`` files."""

from __future__ import annotations

import gettext
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))
import messages

sys.path.remove(str(REPO / "scripts"))


def test_every_marked_string_has_chinese_and_the_catalogues_are_compiled():
    assert messages.problems(messages.collect()) == []


def test_a_string_marked_without_chinese_is_named(tmp_path: Path):
    (tmp_path / "new.py").write_text(
        'from django.utils.translation import gettext_lazy as _\nLABEL = _("Brand-new word")\n'
        'NAMED = translatable("{count} new {thing}", count=1, thing="x")\n',
        encoding="utf-8",
    )
    marked = messages.collect() | messages.collect(tmp_path)
    found = messages.problems(marked)
    assert any("no Chinese for 'Brand-new word'" in line for line in found)
    assert any("no Chinese for '{count} new {thing}'" in line for line in found)


def test_the_compiled_catalogue_reads_back_as_its_source():
    with messages.mo_path("zh_Hans").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    entries = messages.read_po(messages.po_path("zh_Hans"))
    assert len(entries) > 200
    for entry in entries.values():
        if entry.context is None:
            assert catalogue.gettext(entry.msgid) == entry.msgstr
        else:
            assert catalogue.pgettext(entry.context, entry.msgid) == entry.msgstr


@pytest.mark.parametrize(
    ("code", "chinese"),
    [
        ("normal", "正常"),
        ("special_mention", "关注"),
        ("substandard", "次级"),
        ("doubtful", "可疑"),
        ("loss", "损失"),
    ],
)
def test_the_five_classes_are_said_in_chinese(code: str, chinese: str):
    from django.utils import translation

    from npldesk.reports.labels import CLASS_LABELS, label

    with translation.override("zh-hans"):
        assert label(CLASS_LABELS, code) == chinese


def test_the_products_words_are_said_in_chinese():
    from django.utils import translation

    from npldesk.casework.choices import CaseState, Strategy, Tier
    from npldesk.reports.labels import MOVEMENT_LABELS, TERMS, label, localise

    with translation.override("zh-hans"):
        assert [str(t.label) for t in Tier] == ["短期", "中期", "长期"]
        assert localise(TERMS["npl"]) == "不良贷款" and label(TERMS, "npl_ratio") == "不良率"
        assert label(TERMS, "double_reduction") == "双降"
        assert label(MOVEMENT_LABELS, "cash") == "现金清收"
        assert str(CaseState.ESCALATED.label) == "已转诉讼"
        assert str(Strategy.WRITE_OFF.label) == "核销"
