"""Sign-in, sign-out, lockout and the signed-out redirect, as a browser meets them."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from npldesk.casework import selectors
from npldesk.web.accounts.backends import StaffBackend
from tests.casework.world import World
from tests.web.conftest import PASSWORD


def _with_password(world: World) -> None:
    world.officer.user.set_password(PASSWORD)
    world.officer.user.save()


def test_every_page_sends_a_signed_out_browser_to_sign_in(db: None) -> None:
    response = Client().get("/cases/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/cases/")


def test_health_answers_without_sign_in_and_shows_no_data(db: None) -> None:
    response = Client().get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_a_person_signs_in_with_their_password_and_lands_on_the_worklist(world: World) -> None:
    _with_password(world)
    client = Client()
    response = client.post(
        "/login/", {"username": world.officer.user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(world: World) -> None:
    _with_password(world)
    client = Client()
    username = world.officer.user.username
    for _ in range(5):
        client.post("/login/", {"username": username, "password": "wrong"})
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 429
    assert "15" in response.content.decode()
    assert client.get("/").status_code == 302


def test_a_signed_in_login_is_read_with_its_person_in_one_query(world: World) -> None:
    """Every request reads the login and its person: the sign-in backend reads both at once,
    and a login with no person, or an inactive one, still has no place."""
    _with_password(world)
    client = Client()
    client.post("/login/", {"username": world.officer.user.username, "password": PASSWORD})
    assert client.session["_auth_user_backend"] == "npldesk.web.accounts.backends.StaffBackend"
    backend = StaffBackend()
    with CaptureQueriesContext(connection) as captured:
        login = backend.get_user(world.officer.user.pk)
        person = selectors.person_signed_in(login)
    assert person is not None and person.pk == world.officer.pk and person.user is login
    assert len(captured) == 1 and '"casework_person"' in captured[0]["sql"]
    bare = get_user_model().objects.create_user("bare-login", password=PASSWORD)
    with CaptureQueriesContext(connection) as captured:
        assert selectors.person_signed_in(backend.get_user(bare.pk)) is None
    assert len(captured) == 1
    type(world.officer).objects.filter(pk=world.officer.pk).update(active=False)
    assert selectors.person_signed_in(backend.get_user(world.officer.user.pk)) is None


def test_an_account_without_an_active_person_is_signed_out(world: World) -> None:
    client = Client()
    client.force_login(world.officer.user, backend="npldesk.web.accounts.backends.StaffBackend")
    type(world.officer).objects.filter(pk=world.officer.pk).update(active=False)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session


def test_sign_out_is_a_post_and_ends_the_session(world: World) -> None:
    client = Client()
    client.force_login(world.officer.user, backend="npldesk.web.accounts.backends.StaffBackend")
    assert client.get("/logout/").status_code == 405
    client.post("/logout/")
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_sign_in_page_speaks_the_chosen_language(db: None, language: str) -> None:
    client = Client()
    client.cookies["django_language"] = language
    text = client.get("/login/").content.decode()
    assert ("登录" in text) == (language == "zh-hans")
    assert ("Sign in" in text) == (language == "en")


def test_a_session_in_use_is_renewed_at_most_once_a_minute_and_an_idle_one_ends(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time
    from datetime import UTC, datetime

    from django.contrib.sessions.models import Session

    _with_password(world)
    client = Client()
    client.post("/login/", {"username": world.officer.user.username, "password": PASSWORD})
    key = client.cookies["sessionid"].value

    def expires() -> object:
        return Session.objects.get(session_key=key).expire_date

    assert client.get("/worklist/").status_code == 200
    first = expires()
    assert client.get("/worklist/").status_code == 200
    assert expires() == first  # a page a few seconds later writes nothing

    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 61)
    assert client.get("/worklist/").status_code == 200
    assert expires() > first  # a minute on: renewed, its 30 minutes counted again

    Session.objects.filter(session_key=key).update(expire_date=datetime(2000, 1, 1, tzinfo=UTC))
    assert client.get("/worklist/").status_code == 302  # idle past its age: signed out
