"""The accounts area's plumbing for the API: which token a request carries, and writes that
happen once per ``Idempotency-Key``.

Neither is a casework write of its own (no audit record): a token's last use is bookkeeping, and
an idempotency record keeps the first response of a write whose service is audited already.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from npldesk.casework.access import is_system_actor
from npldesk.casework.errors import InvalidAction
from npldesk.casework.models import ApiToken, IdempotencyRecord, Person
from npldesk.casework.services.accounts import token_digest
from npldesk.core.i18n import translatable

IDEMPOTENCY_DAYS = 7
# A token's last use is written at most once a minute: one write per request would make every
# read a write.
LAST_USE_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class TokenCheck:
    """What a presented secret is: a person to act as, or why not."""

    person: Person | None
    token: ApiToken | None
    problem: str  # "", "unknown", "expired", "revoked", "inactive"


def token_check(secret: str, *, now: datetime | None = None) -> TokenCheck:
    """The person a secret acts as; records the token's last use."""
    now = now or timezone.now()
    token = (
        ApiToken.objects.select_related("person__user").filter(digest=token_digest(secret)).first()
    )
    if token is None:
        return TokenCheck(None, None, "unknown")
    if token.revoked_at is not None:
        return TokenCheck(None, token, "revoked")
    if token.expires_at <= now:
        return TokenCheck(None, token, "expired")
    person = token.person
    if not person.active or is_system_actor(person):
        return TokenCheck(None, token, "inactive")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return TokenCheck(person, token, "")


def request_fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


class IdempotencyMismatch(InvalidAction):
    """The key was used before with another request."""


def run_once(
    *,
    person: Person,
    key: str,
    fingerprint: str,
    write: Callable[[], tuple[int, Any]],
) -> tuple[int, Any, bool]:
    """Run ``write`` once per ``(person, key)``: ``(status, body, replayed)``.

    The record is inserted first, in the same transaction as the write: a concurrent request
    with the same key waits on the unique constraint until the first commits, then replays its
    response. A write that fails rolls its record back with it, so the key may be tried again.
    """
    if not key or len(key) > 200:
        raise InvalidAction(translatable("an Idempotency-Key has 1 to 200 characters"))
    now = timezone.now()
    with transaction.atomic():
        IdempotencyRecord.objects.filter(
            person=person, created_at__lt=now - timedelta(days=IDEMPOTENCY_DAYS)
        ).delete()
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    person=person, key=key, fingerprint=fingerprint, created_at=now
                )
        except IntegrityError:
            record = None
        if record is None:
            first = IdempotencyRecord.objects.get(person=person, key=key)
            if first.fingerprint != fingerprint:
                raise IdempotencyMismatch(
                    "this Idempotency-Key was used with another request: use a new key"
                )
            return first.status, first.response, True
        status, body = write()
        record.status = status
        record.response = body
        record.save(update_fields=["status", "response"])
        return status, body, False
