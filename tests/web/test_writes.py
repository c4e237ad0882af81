"""Every write made through the web is one service call with its one audit record, by the
person signed in; a stale form (the object changed in another tab) gets the conflict message
and changes nothing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from npldesk.casework import services
from npldesk.casework.audit import SERVICES
from npldesk.casework.choices import Role
from npldesk.casework.models import AuditRecord, Person, Unit
from npldesk.home import Home
from tests.casework.factories import case_with_loan
from tests.web.urltable import (
    NOT_WRITES,
    URLS,
    WRITES,
    Objects,
    Write,
    people_of,
    unit_objects,
)


def _signed_in(member: Person) -> Client:
    client = Client()
    client.force_login(member.user, backend="npldesk.web.accounts.backends.StaffBackend")
    return client


def test_every_post_url_of_the_table_has_its_write() -> None:
    posts = {name for name, url in URLS.items() if url.method == "POST"}
    assert sorted(posts - NOT_WRITES - set(WRITES)) == [], "add a Write to tests/web/urltable.py"


# A read the web records (personal data shown) is audited by its selector, not a service.
RECORDED_READS = frozenset({"personal_data_view"})


def _count_service_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every registered service, as the views reach it, counted when called."""
    calls: list[str] = []
    for name in SERVICES:
        original = getattr(services, name, None)
        if original is None:
            continue

        def counted(*args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(services, name, counted)
    return calls


def _objects(units: dict[str, Unit], write: Write, home: Home) -> tuple[Objects, Person]:
    """The unit's objects as the write's person asks for them, and that person."""
    staff = people_of(units["HB01"])
    # The objects' own entries are someone else's: four eyes lets the person decide on them.
    objects = unit_objects(units["HB0101"], staff, home).asked_by(write.role)
    if write.bare:
        objects = replace(objects, case=case_with_loan(units["HB0101"], owner=staff[Role.OFFICER]))
    if write.prepare is not None:
        write.prepare(objects, home)
    return objects, staff[write.role]


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(WRITES))
def test_a_write_is_one_service_call_with_one_audit_record(
    units: dict[str, Unit], web_home: Home, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    write = WRITES[name]
    objects, actor = _objects(units, write, web_home)
    url = URLS[name]
    before = AuditRecord.objects.count()
    calls = _count_service_calls(monkeypatch)
    response = _signed_in(actor).post(
        reverse(name, kwargs=url.kwargs(objects) if url.kwargs else None),
        write.data(objects, timezone.localdate()),
    )
    errors = [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
    assert errors == []
    assert response.status_code in (200, 302)
    new = list(AuditRecord.objects.order_by("id")[before:])
    assert [(r.action, r.actor_id) for r in new] == [
        (action, actor.pk) for action in (write.action, *write.more)
    ]
    if write.action in RECORDED_READS:
        assert calls == []
    else:
        assert calls == [write.action]
        assert SERVICES[write.action].bulk == bool(write.more)


# The versioned forms: two tabs open on the same object, the first tab's write lands.
# (A form is versioned when its data carries the object's ``version``.)
VERSIONED = sorted(
    name for name, write in WRITES.items() if "'version'" in str(write.data.__code__.co_consts)
)


@pytest.mark.django_db
@pytest.mark.parametrize("name", VERSIONED)
def test_a_stale_form_gets_the_conflict_message_not_an_overwrite(
    units: dict[str, Unit], web_home: Home, name: str
) -> None:
    write = WRITES[name]
    objects, actor = _objects(units, write, web_home)
    url = URLS[name]
    address = reverse(name, kwargs=url.kwargs(objects) if url.kwargs else None)
    stale = write.data(objects, timezone.localdate())
    # Another tab saved a change to the object after this form was opened.
    for changed in (objects.case, objects.plan, objects.legal, objects.writeoff):
        type(changed).objects.filter(pk=changed.pk).update(version=F("version") + 1)
    before = AuditRecord.objects.count()
    response = _signed_in(actor).post(address, stale)
    errors = [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
    assert response.status_code == 302
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        conflict = gettext("Not saved: %(message)s").split("%")[0]
    assert len(errors) == 1 and errors[0].startswith(conflict), errors
    assert AuditRecord.objects.count() == before
