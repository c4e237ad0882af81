"""The served application's database connections (``npldesk/wsgi.py``)."""

from __future__ import annotations

import pytest
from django.db import connections


@pytest.mark.django_db
def test_a_served_connection_runs_its_queries_without_parallel_workers() -> None:
    if connections["default"].vendor != "postgresql":
        pytest.skip("PostgreSQL's parallel query setting; SQLite has no parallel workers")
    import npldesk.wsgi  # noqa: F401  (connects the served connections' setup)

    served = connections.create_connection("default")  # a connection as a server thread opens
    try:
        with served.cursor() as cursor:
            cursor.execute("SHOW max_parallel_workers_per_gather")
            assert cursor.fetchone()[0] == "0"
    finally:
        served.close()
