"""The language of a command's output: the home's (``[web] language``) for tables and
workbooks; JSON and CSV keep English keys and codes whatever it is."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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
def home_language(argv: Sequence[str] = ()) -> Iterator[None]:
    """Speak the language of the home the command names (``--home`` in ``argv``, else
    ``NPLDESK_HOME``, else ``./npldesk-home``; a home not made yet speaks the default), so that
    a mistake is said as the command's tables are, even one found before the command set
    Django up. English when Django cannot be set up on it."""
    language = _language_of(_home_argument(argv))
    if language is None:
        yield
        return
    from django.utils import translation

    with translation.override(language):
        yield


def _home_argument(argv: Sequence[str]) -> str | None:
    """The value of ``--home`` in ``argv`` (``--home DIR`` or ``--home=DIR``), if given."""
    for index, argument in enumerate(argv):
        if argument == "--home" and index + 1 < len(argv):
            return argv[index + 1]
        if argument.startswith("--home="):
            return argument.partition("=")[2]
    return None


def _language_of(home_argument: str | None) -> str | None:
    from django.conf import settings

    from npldesk.bootstrap import setup_django
    from npldesk.home import load_home

    try:
        home = load_home(home_argument, must_exist=False)
        language = home.language
        if not settings.configured:
            setup_django(home)
    # Whatever keeps Django from starting on this home (a broken configuration, a database
    # URL it cannot read), the mistake being reported is still said, in English.
    except Exception:
        return None
    return language


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
