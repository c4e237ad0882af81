"""The language walk: every page of the URL table, for every role that uses it, reads in Chinese
with no English product word left in it, and reads in English too.

A word is untranslated when one of the catalogue's English messages (a msgid whose Chinese
differs from it) appears verbatim, as whole words, in the visible text of the Chinese page. Codes,
numbers and names are data, not messages, and the language menu names each language in its own.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from functools import cache
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from npldesk.casework.models import Department, Household, Person, Team, Unit
from npldesk.home import Home
from tests.conftest import REPO
from tests.web.urltable import URLS, Objects, Url, people_of, unit_objects

sys.path.insert(0, str(REPO / "scripts"))
import messages

sys.path.remove(str(REPO / "scripts"))

# Attributes people read (or hear from a screen reader) as well as the text.
READ_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")
# Printf and brace placeholders: a message is matched by its literal pieces between them.
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_]+\}")
# A message is looked for when it has an English word of three letters or more ("to" is not).
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
# A command the text names (the monthly report's outlook is ``npldesk plan``'s): a code.
COMMAND = re.compile(r"\bnpldesk [a-z][a-z-]*")


class VisibleText(HTMLParser):
    """The text a person reads on the page: text nodes and read attributes, without scripts,
    styles or the language menu."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("script", "style") or (tag == "select" and found.get("id") == "language"):
            self._skipping.append(tag)
            return
        if not self._skipping:
            self.pieces += [v for k, v in attrs if k in READ_ATTRIBUTES and v]

    def handle_endtag(self, tag: str) -> None:
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipping and data.strip():
            self.pieces.append(" ".join(data.split()))


def visible_text(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.pieces


@cache
def english_messages() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Each translated msgid with the pattern that finds it as whole words: its longest literal
    piece between placeholders, when that piece is English words at all."""
    found = []
    catalogue = messages.read_po(messages.po_path(messages.REQUIRED))
    for entry in catalogue.values():
        if not entry.msgstr or entry.msgstr == entry.msgid:
            continue
        piece = max(PLACEHOLDER.split(entry.msgid), key=len).strip(" :,.;()")
        if not ENGLISH_WORD.search(piece):
            continue
        # A code (``cases_sync``) is not the word ``cases``.
        found.append((entry.msgid, re.compile(rf"(?<![\w-]){re.escape(piece)}(?![\w-])")))
    return tuple(found)


def untranslated(pieces: list[str], names: frozenset[str] = frozenset()) -> set[str]:
    """The English messages in ``pieces`` once the data's ``names`` and the commands named are
    taken out."""
    text = COMMAND.sub("·", "\n".join(pieces))
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "·")
    return {msgid for msgid, pattern in english_messages() if pattern.search(text)}


def data_names() -> frozenset[str]:
    """The names the data gives people, units, teams, departments and households (the test
    factories name them in English): data, not the product's words."""
    names: set[str] = set()
    for model, fields in (
        (Unit, ("name",)),
        (Person, ("name", "user__username")),
        (Team, ("name",)),
        (Department, ("name",)),
        (Household, ("name",)),
    ):
        for row in model.objects.values_list(*fields):
            names.update(value for value in row if value)
    return frozenset(names)


def _address(name: str, url: Url, objects: Objects) -> str:
    address = reverse(name, kwargs=url.kwargs(objects) if url.kwargs else None)
    return f"{address}?{url.query(objects)}" if url.query else address


def _pages() -> Iterator[str]:
    """The GET pages a signed-in person reads (not the sign-in page, not the health check)."""
    for name, url in URLS.items():
        if url.method == "GET" and url.answers == "page" and url.signed_out != "page":
            yield name


def _client(member: Person, language: str) -> Client:
    client = Client()
    client.force_login(member.user, backend="npldesk.web.accounts.backends.StaffBackend")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


@pytest.mark.django_db
def test_every_page_reads_in_chinese_without_an_english_word_and_in_english(
    units: dict[str, Unit], figures_home: Home
) -> None:
    staff = people_of(units["HB01"])
    objects = unit_objects(units["HB0101"], staff, figures_home)
    chinese = {role: _client(member, "zh-hans") for role, member in staff.items()}
    english = {role: _client(member, "en") for role, member in staff.items()}
    names = data_names()
    found: dict[str, set[str]] = {}
    walked = 0
    for name in _pages():
        url = URLS[name]
        for role in sorted(url.roles):
            if url.answers_to(role) != "page":
                continue
            address = _address(name, url, objects.asked_by(role))
            page = chinese[role].get(address)
            assert page.status_code == 200, (name, role, page.status_code)
            # A fragment is swapped into a page that says its language.
            if not url.fragment:
                assert '<html lang="zh-hans">' in page.content.decode()
            words = untranslated(visible_text(page.content.decode()), names)
            if words:
                found[f"{address} ({role})"] = words
            walked += 1
            page = english[role].get(address)
            assert page.status_code == 200, (name, role, page.status_code)
            if not url.fragment:
                assert '<html lang="en">' in page.content.decode()
    assert walked > 40
    report = "\n".join(f"{where}: {sorted(words)}" for where, words in sorted(found.items()))
    assert found == {}, f"English words on Chinese pages:\n{report}"


def test_the_walk_finds_an_english_word_on_a_chinese_page() -> None:
    page = (
        '<html lang="zh-hans"><title>工作清单</title><main><h1>工作清单</h1>'
        '<button aria-label="Sign out">退出</button><p>HB0101 · 12,000.00</p>'
        '<select id="language"><option>English</option></select></main></html>'
    )
    assert untranslated(visible_text(page)) == {"Sign out"}
    assert untranslated(visible_text(page.replace("Sign out", "退出"))) == set()


def test_a_command_named_is_a_code_not_a_word() -> None:
    assert "plan {plan_id}" not in untranslated(["抽样 1,000 次（npldesk plan）"])
    assert "plan {plan_id}" in untranslated(["抽样 1,000 次（plan）"])
