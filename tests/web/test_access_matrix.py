"""Every URL of the web app × every role × an object of the person's own unit, of another unit,
and signed out: the page, "not found" (never a 403 that confirms something exists), or the
sign-in page. The URLs come from one table (``tests/web/urltable.py``); a URL of the resolver
missing from it fails here."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from npldesk.casework.choices import Role
from npldesk.casework.models import Person, Unit
from tests.conftest import REPO
from tests.web.urltable import (
    DONE,
    NOT_FOUND,
    OWN_TESTS,
    PAGE,
    SIGN_IN,
    URLS,
    Objects,
    Url,
    people_of,
    resolver_names,
    unit_objects,
)


def test_every_url_of_the_resolver_is_in_the_table() -> None:
    names = set(resolver_names())
    listed = set(URLS) | set(OWN_TESTS)
    assert sorted(names - listed) == [], "add these URLs to tests/web/urltable.py"
    assert sorted(listed - names) == [], "the table names URLs the resolver does not have"
    assert not set(URLS) & set(OWN_TESTS), "a URL is either in the matrix or in OWN_TESTS"
    for name, test_file in OWN_TESTS.items():
        assert (REPO / test_file).is_file(), f"{name}: {test_file} does not exist"


@dataclass
class Cell:
    url: str
    who: str
    where: str
    expected: str
    got: str


def _address(name: str, url: Url, objects: Objects) -> str:
    address = reverse(name, kwargs=url.kwargs(objects) if url.kwargs else None)
    return f"{address}?{url.query(objects)}" if url.query else address


def _outcome(response: HttpResponse) -> str:
    if response.status_code == 200:
        return PAGE
    if response.status_code == 404:
        return NOT_FOUND
    if response.status_code == 302:
        target = response["Location"]
        return SIGN_IN if target.startswith(reverse("web:login")) else DONE
    return f"status {response.status_code}"


def _expected(url: Url, role: str | None, own: bool) -> str:
    if role is None:
        return url.signed_out
    if role not in url.roles or (url.scoped and not own):
        return NOT_FOUND
    return url.answers


def _signed_in(member: Person) -> Client:
    client = Client()
    client.force_login(member.user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _call(client: Client, url: Url, address: str) -> str:
    response = client.get(address) if url.method == "GET" else client.post(address, {})
    outcome = _outcome(response)
    # A POST that ends on a page (personal data shown, a form with errors) was handled too.
    return DONE if url.method != "GET" and outcome == PAGE else outcome


@pytest.mark.django_db
def test_every_url_answers_each_role_in_and_out_of_scope(units: dict[str, Unit]) -> None:
    staff = people_of(units["HB01"])
    own = unit_objects(units["HB0101"], staff[Role.OFFICER])
    other = unit_objects(units["HB0201"], people_of(units["HB02"])[Role.OFFICER])
    clients = {role: _signed_in(member) for role, member in staff.items()}
    wrong: list[Cell] = []
    for name, url in URLS.items():
        for where, objects in (("own unit", own), ("other unit", other)):
            address = _address(name, url, objects)
            for role, member in staff.items():
                # Signing out ends the session: that URL gets a session of its own.
                client = _signed_in(member) if url.answers == SIGN_IN else clients[role]
                got = _call(client, url, address)
                expected = _expected(url, role, where == "own unit")
                if got != expected:
                    wrong.append(Cell(name, role, where, expected, got))
            if where == "own unit":
                got = _call(Client(), url, address)
                expected = _expected(url, None, True)
                if got != expected:
                    wrong.append(Cell(name, "signed out", where, expected, got))
    table = "\n".join(f"{c.url} {c.who} {c.where}: {c.expected} expected, {c.got}" for c in wrong)
    assert wrong == [], table
