"""Every URL of the web app × every role × an object of the person's own unit, of another unit,
and signed out: the page, "not found" (never a 403 that confirms something exists), or the
sign-in page; a person's own object (a reminder pack delivered to them) also as a colleague's.
The URLs come from one table (``tests/web/urltable.py``); a URL of the resolver missing from it
fails here."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from npldesk.casework.models import Person, Unit
from npldesk.home import Home
from tests.web.urltable import (
    DONE,
    FILE,
    NOT_FOUND,
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
    assert sorted(names - set(URLS)) == [], "add these URLs to tests/web/urltable.py"
    assert sorted(set(URLS) - names) == [], "the table names URLs the resolver does not have"


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
        if response.streaming:
            # Read to the end, so that the file is closed.
            b"".join(response.streaming_content)  # type: ignore[attr-defined]
        attachment = response.get("Content-Disposition", "").startswith("attachment")
        return FILE if attachment else PAGE
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
    return url.answers_to(role)


def _signed_in(member: Person) -> Client:
    client = Client()
    client.force_login(member.user, backend="npldesk.web.accounts.backends.StaffBackend")
    return client


def _call(client: Client, url: Url, address: str) -> str:
    if url.method == "GET":
        return _outcome(client.get(address))
    response = client.post(address, {})
    # A POST that ends on a page (personal data shown, a form with its errors, 400 where the
    # page says so) was handled too.
    return DONE if response.status_code in (200, 400) else _outcome(response)


@pytest.mark.django_db
def test_every_url_answers_each_role_in_and_out_of_scope(
    units: dict[str, Unit], web_home: Home
) -> None:
    # No month imported: the figures pages answer without figures (their own tests read them).
    staff = people_of(units["HB01"])
    own = unit_objects(units["HB0101"], staff, web_home)
    other = unit_objects(units["HB0201"], people_of(units["HB02"]), web_home)
    clients = {role: _signed_in(member) for role, member in staff.items()}
    roles = list(staff)
    wrong: list[Cell] = []
    for name, url in URLS.items():
        for where, objects in (("own unit", own), ("other unit", other)):
            for role, member in staff.items():
                # Signing out ends the session: that URL gets a session of its own.
                client = _signed_in(member) if url.answers == SIGN_IN else clients[role]
                address = _address(name, url, objects.asked_by(role))
                got = _call(client, url, address)
                expected = _expected(url, role, where == "own unit")
                if got != expected:
                    wrong.append(Cell(name, role, where, expected, got))
                if url.personal and where == "own unit":
                    # The next role's person of the same unit: a colleague's is not theirs.
                    colleague = roles[(roles.index(role) + 1) % len(roles)]
                    address = _address(name, url, objects.asked_by(colleague))
                    got = _call(client, url, address)
                    if got != NOT_FOUND:
                        wrong.append(Cell(name, role, "a colleague's", NOT_FOUND, got))
            if where == "own unit":
                got = _call(Client(), url, _address(name, url, objects))
                expected = _expected(url, None, True)
                if got != expected:
                    wrong.append(Cell(name, "signed out", where, expected, got))
    table = "\n".join(f"{c.url} {c.who} {c.where}: {c.expected} expected, {c.got}" for c in wrong)
    assert wrong == [], table
