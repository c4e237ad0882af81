"""Django set up on a home, for every face (the command line, the web server, the jobs).

Wiring, like ``settings.py`` and ``urls.py``: it sits outside the layers, so a face imports it
and no layer below the faces does. Each face calls ``setup_django`` (or enters ``casework``)
before it touches casework, so settings are read from the home the user named.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.home import Home


def setup_django(home: Home) -> None:
    """Point Django at this home's database before anything touches the ORM."""
    # A database URL npldesk cannot use is a clear message here, before Django reads it.
    home.database_url  # noqa: B018
    os.environ["NPLDESK_HOME"] = str(home.path)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "npldesk.settings")
    import django

    django.setup()


@contextmanager
def casework(home: Home) -> Iterator[None]:
    """Django on the home's database; a database never set up is a clear message."""
    setup_django(home)
    from django.db import DatabaseError

    try:
        yield
    except DatabaseError as exc:
        raise UsageError(
            translatable(
                "the casework database of {path} is not ready ({exc}): "
                "run `npldesk init --home {path}` first",
                path=home.path,
                exc=exc,
            )
        ) from exc
