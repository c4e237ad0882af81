"""Tokens and sessions on ``/api/v1/``: who may call, and the 401s of a missing, expired or
revoked token; tokens made and revoked through audited services, stored hashed."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from npldesk.casework import services
from npldesk.casework.errors import AccessDenied
from npldesk.casework.models import ApiToken, AuditRecord
from npldesk.casework.selectors import api_tokens
from tests.casework.world import World


def test_a_token_is_stored_hashed_audited_and_used_with_its_person(world: World, api_for) -> None:
    made = services.api_token_create(actor=world.officer, person=world.officer, name="laptop")
    stored = ApiToken.objects.get()
    assert stored.digest == hashlib.sha256(made.secret.encode()).hexdigest()
    assert made.secret not in str(AuditRecord.objects.filter(action="api_token_create").get().after)
    client = Client()
    response = client.get("/api/v1/worklist", headers={"Authorization": f"Bearer {made.secret}"})
    assert response.status_code == 200
    assert api_tokens(world.officer).get().last_used_at is not None


@pytest.mark.parametrize("problem", ["missing", "unknown", "expired", "revoked"])
def test_without_a_live_token_every_call_is_401_problem_json(world: World, problem: str) -> None:
    made = services.api_token_create(actor=world.officer, person=world.officer, name="t")
    headers = {
        "missing": {},
        "unknown": {"Authorization": "Bearer npl_nothing"},
        "expired": {"Authorization": f"Bearer {made.secret}"},
        "revoked": {"Authorization": f"Bearer {made.secret}"},
    }[problem]
    if problem == "expired":
        ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    if problem == "revoked":
        services.api_token_revoke(actor=world.officer, token=made.token)
    response = Client().get("/api/v1/cases", headers={**headers, "Accept-Language": "en"})
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 401 and body["title"] and body["detail"]
    if problem in ("expired", "revoked"):
        assert problem in body["detail"]


def test_only_the_person_or_an_admin_manages_a_token(world: World) -> None:
    with pytest.raises(AccessDenied):
        services.api_token_create(actor=world.lead, person=world.officer, name="x")
    made = services.api_token_create(actor=world.admin, person=world.officer, name="service")
    with pytest.raises(AccessDenied):
        services.api_token_revoke(actor=world.lead, token=made.token)
    services.api_token_revoke(actor=world.admin, token=made.token)
    assert AuditRecord.objects.filter(action="api_token_revoke").count() == 1
    assert list(api_tokens(world.lead)) == []


def test_a_browser_session_calls_the_api_and_writes_need_csrf(world: World, client_for) -> None:
    client = client_for(world.officer)
    assert client.get("/api/v1/worklist").status_code == 200
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.officer.user, backend="npldesk.web.accounts.backends.StaffBackend")
    response = strict.post(
        f"/api/v1/cases/{world.case.number}/activities", {}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_a_token_over_its_rate_is_429(world: World, api_for, settings) -> None:
    settings.NPLDESK_API_RATE_PER_MINUTE = 2
    api = api_for(world.officer)
    assert [api.get("/worklist").status_code for _ in range(3)] == [200, 200, 429]


def test_the_schema_and_the_docs_page_are_served_without_a_cdn(db: None) -> None:
    client = Client()
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.1")
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "https://" not in html


def test_problem_titles_are_in_the_callers_language(db: None) -> None:
    response = Client().get("/api/v1/cases", headers={"Accept-Language": "zh-hans"})
    assert response.status_code == 401
    assert response.json()["title"] == "未登录"
    assert "API 令牌" in response.json()["detail"]
