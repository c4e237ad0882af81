"""How a signed-in login is read on every request."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from npldesk.casework import selectors


class StaffBackend(ModelBackend):
    """Django's password check, and a signed-in login read together with its casework person:
    every request reads both (``selectors.person_signed_in``), in one query instead of two."""

    def get_user(self, user_id: Any) -> Any:
        user = selectors.login_with_person(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
