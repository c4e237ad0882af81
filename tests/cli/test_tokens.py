"""``npldesk tokens``: a person makes, lists and revokes their API tokens from the command line;
the secret is shown once and works on the API until it is revoked."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from npldesk.casework.models import ApiToken, AuditRecord

pytestmark = pytest.mark.usefixtures("on_casework")


@pytest.fixture
def people(cli) -> None:
    assert cli("units", "sync")[0] == 0
    for username, role in (("zhao", "officer"), ("qian", "officer"), ("root", "admin")):
        code, _, err = cli(
            "users", "add", username, "--name", username, "--role", role, "--unit", "HB0101"
        )
        assert code == 0, err


def _secret(out: str) -> str:
    return out.split("not stored in clear): ")[1].split()[0]


def test_a_person_makes_lists_and_revokes_their_token(cli, people) -> None:
    code, out, err = cli("tokens", "create", "laptop", "--days", "30", "--as", "zhao")
    assert code == 0, err
    secret = _secret(out)
    stored = ApiToken.objects.get()
    assert secret not in (stored.digest, stored.prefix) and secret.startswith(stored.prefix)
    client = Client()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/worklist", headers=bearer).status_code == 200
    code, out, _ = cli("tokens", "list", "--as", "zhao", "--format", "json")
    [row] = json.loads(out)["tokens"]
    assert row["person"] == "zhao" and row["last_used_at"] is not None
    assert json.loads(cli("tokens", "list", "--as", "qian", "--format", "json")[1]) == {
        "tokens": []
    }
    assert cli("tokens", "revoke", stored.prefix, "--as", "zhao")[0] == 0
    assert client.get("/api/v1/worklist", headers=bearer).status_code == 401
    actions = set(AuditRecord.objects.values_list("action", flat=True))
    assert {"api_token_create", "api_token_revoke"} <= actions


def test_another_persons_token_needs_an_admin(cli, people) -> None:
    code, _, err = cli("tokens", "create", "x", "--for", "zhao", "--as", "qian")
    assert code != 0 and ("may not" in err or "no user" in err)
    assert cli("tokens", "create", "svc", "--for", "zhao", "--as", "root")[0] == 0
    code, _, err = cli("tokens", "create", "x")
    assert code == 2 and "--as" in err
    assert ApiToken.objects.count() == 1
