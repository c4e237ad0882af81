"""The WSGI application of a home (``npldesk serve`` runs it under gunicorn)."""

import os
from typing import Any

from django.core.wsgi import get_wsgi_application
from django.db.backends.signals import connection_created

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "npldesk.settings")
application = get_wsgi_application()


def _serial_queries(sender: Any, connection: Any, **kwargs: Any) -> None:
    """A served page's queries run in their own backend only. PostgreSQL would start parallel
    workers for a case list's count or a dashboard's counts (thousands of rows): processes
    started per query that take the cores the other requests are waiting for. The month-end
    jobs and the command line, outside the server, keep PostgreSQL's default."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET max_parallel_workers_per_gather = 0")


connection_created.connect(_serial_queries, dispatch_uid="npldesk-serial-queries")
