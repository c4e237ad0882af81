"""The language of a command's output: the home's (``[web] language``) for tables and
workbooks; JSON and CSV keep English keys and codes whatever it is."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from npldesk.home import Home


def use_language(home: Home) -> None:
    """Speak the home's language for the rest of this command."""
    from npldesk.bootstrap import setup_django

    setup_django(home)
    from django.utils import translation

    translation.activate(home.language)


def say(text: Any) -> str:
    """``text`` in the active language (``reports.labels.localise``)."""
    from npldesk.reports.labels import localise

    return localise(text)


def current_language() -> str | None:
    """The language active before a command (``None`` before Django is set up)."""
    from django.conf import settings

    if not settings.configured:
        return None
    from django.utils import translation

    return translation.get_language()


@contextmanager
def home_language() -> Iterator[None]:
    """Speak the language of the home the command set Django up on (``NPLDESK_HOME``), so that a
    mistake reported after the command is said as its tables are; English without Django."""
    from django.conf import settings

    if not settings.configured or not os.environ.get("NPLDESK_HOME"):
        yield
        return
    from django.utils import translation

    from npldesk.core.errors import NpldeskError
    from npldesk.home import load_home

    try:
        language = load_home(os.environ["NPLDESK_HOME"]).language
    except NpldeskError:
        yield
        return
    with translation.override(language):
        yield


def restore_language(previous: str | None) -> None:
    """Back to the language active before the command (tests run many in one process)."""
    from django.conf import settings

    if settings.configured:
        from django.utils import translation

        if previous is None:
            translation.deactivate()
        else:
            translation.activate(previous)


def chinese() -> bool:
    """Whether the active language is Chinese (money in 万元 where tables compare units)."""
    from django.utils.translation import get_language

    return (get_language() or "").lower().startswith("zh")
