"""Which pages each role uses: the navigation shows only those, and any other is a 404.

A page a role never uses answers as if it did not exist (``docs/web.md``: a refusal to a
signed-in person is a 404, never a 403), so a loan officer cannot learn that ``/finance/`` is
there by trying it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase

from npldesk.casework.choices import Role
from npldesk.monthend.uploads import TAPE_ROLES

# Page (or group of pages) → the roles that use it. The one gate of the web app: views use
# ``for_page``, the navigation ``nav_pages``, and a view that chooses between pages ``uses``.
PAGE_ROLES: dict[str, frozenset[str]] = {
    # The units' dashboard, a leader's or risk analyst's home.
    "dashboard": frozenset({Role.LEADER, Role.RISK_ANALYST}),
    # The figures pages: asset quality, the NPL movement, migration and the loan lists, with
    # their downloads.
    "figures": frozenset({Role.LEADER, Role.RISK_ANALYST, Role.TEAM_LEAD, Role.FINANCE}),
    # The monthly asset-quality report for the leaders.
    "reports": frozenset({Role.LEADER, Role.RISK_ANALYST}),
    # The double-reduction planner.
    "planner": frozenset({Role.LEADER, Role.RISK_ANALYST}),
    "teams": frozenset({Role.TEAM_LEAD}),
    "legal": frozenset({Role.LEGAL}),
    "finance": frozenset({Role.FINANCE, Role.LEADER}),
    "administration": frozenset({Role.ADMIN}),
    # The roles that may import a month (``casework.services.jobs.ENQUEUERS``).
    "tape": TAPE_ROLES,
}

View = Callable[..., HttpResponseBase]


def uses(person: Any, page: str) -> bool:
    return person is not None and person.active and person.has_role(*PAGE_ROLES[page])


def for_page(page: str) -> Callable[[View], View]:
    """Answer 404 to anyone whose roles do not use ``page``."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not uses(getattr(request, "person", None), page):
                raise Http404(page)
            return view(request, *args, **kwargs)

        return guarded

    return decorate


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Template context: the role pages the signed-in person uses (``nav_pages``)."""
    person = getattr(request, "person", None)
    return {"nav_pages": frozenset(page for page in PAGE_ROLES if uses(person, page))}
