"""Marked messages (``core.i18n``) kept as JSON data and made again: a job's result keeps a tape
problem's template and values, so a page says it in the reader's language later."""

from __future__ import annotations

import json

from django.utils import translation

from npldesk.core.i18n import Translatable, as_data, from_data, translatable
from npldesk.reports.labels import localise


def test_a_marked_message_survives_json_with_its_nested_values() -> None:
    inner = translatable("longer than {length} characters", length=20)
    outer = translatable("{message} ({column})", message=inner, column="borrower_name")
    again = from_data(json.loads(json.dumps(as_data(outer))))
    assert isinstance(again, Translatable)
    assert again == outer == "longer than 20 characters (borrower_name)"
    with translation.override("zh-hans"):
        assert localise(again) == "超过 20 个字符（borrower_name）"


def test_plain_text_and_odd_values_pass_through() -> None:
    assert as_data("plain") == "plain" and from_data("plain") == "plain"
    assert from_data(None) is None
    kept = as_data(translatable("{path} is missing", path=__import__("pathlib").Path("a.csv")))
    assert kept == {"template": "{path} is missing", "values": {"path": "a.csv"}}
    # A template whose values are lost is shown as the template, never raised.
    assert from_data({"template": "{gone} here", "values": {}}) == "{gone} here"


def test_a_marked_message_is_pickled_marked() -> None:
    """The page cache pickles what it keeps (a plan document and its warnings)."""
    import pickle

    message = translatable("must be one of {choices}", choices="a, b")
    again = pickle.loads(pickle.dumps(message))
    assert isinstance(again, Translatable) and again == message
    assert again.template == message.template and again.values == {"choices": "a, b"}
