"""Personal API tokens: made and revoked by their person (or an administrator), audited.

The secret is shown once, when the token is made; only its SHA-256 digest is stored
(``npldesk.casework.accounts`` finds a request's token by that digest).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from npldesk.casework import audit
from npldesk.casework.access import Action, is_system_actor, require, require_person
from npldesk.casework.errors import AccessDenied, InvalidAction
from npldesk.casework.models import ApiToken, Person
from npldesk.core.i18n import translatable

# 32 random bytes (256 bits): guessing is out of reach, so one SHA-256 is a sound digest.
SECRET_BYTES = 32
SECRET_PREFIX = "npl_"  # noqa: S105 (a marker that says what the string is, no secret)
MAX_DAYS = 366


@dataclass(frozen=True)
class NewToken:
    """A token just made, with its secret (never readable again)."""

    token: ApiToken
    secret: str


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _require_owner_or_admin(actor: Person, person: Person, what: str) -> None:
    if actor.pk == person.pk and not is_system_actor(actor):
        return
    try:
        require(actor, Action.ADMINISTER)
    except AccessDenied as exc:
        raise AccessDenied(
            translatable(
                "{actor} may not {what} for {person}: a person manages their own tokens, an "
                "administrator anyone's",
                actor=actor.user.get_username(),
                what=what,
                person=person.user.get_username(),
            )
        ) from exc


@audit.service()
def api_token_create(*, actor: Person, person: Person, name: str, days: int = 90) -> NewToken:
    """A token for ``person`` that expires after ``days`` (1 to 366)."""
    require_person(actor, "to make an API token")
    _require_owner_or_admin(actor, person, translatable("make an API token"))
    if is_system_actor(person) or not person.active:
        raise InvalidAction(
            translatable("{person} cannot hold an API token", person=person.user.get_username())
        )
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidAction(translatable("a token's name has 1 to 100 characters"))
    if not 1 <= days <= MAX_DAYS:
        raise InvalidAction(
            translatable(
                "a token lasts 1 to {max_days} days, not {days}", max_days=MAX_DAYS, days=days
            )
        )
    secret = SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    now = timezone.now()
    token = ApiToken.objects.create(
        person=person,
        name=name,
        digest=token_digest(secret),
        prefix=secret[:10],
        created_at=now,
        created_by=actor,
        expires_at=now + timedelta(days=days),
    )
    audit.record(
        actor=actor,
        action="api_token_create",
        obj=token,
        after={
            "person": person.user.get_username(),
            "name": name,
            "prefix": token.prefix,
            "expires_at": token.expires_at,
        },
    )
    return NewToken(token=token, secret=secret)


@audit.service()
def api_token_revoke(*, actor: Person, token: ApiToken) -> ApiToken:
    """Revoke ``token`` at once: a request that carries it is refused from now on."""
    require_person(actor, "to revoke an API token")
    _require_owner_or_admin(actor, token.person, translatable("revoke an API token"))
    if token.revoked_at is not None:
        raise InvalidAction(translatable("token {prefix}… is already revoked", prefix=token.prefix))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(
        actor=actor,
        action="api_token_revoke",
        obj=token,
        after={"person": token.person.user.get_username(), "revoked_at": token.revoked_at},
    )
    return token
