"""The leader's dashboard of a city branch from classified months: first request (computed)
and cached requests.

    NPLDESK_HOME=DEMO_HOME python benchmarks/web_dashboard.py --user demo-leader --calls 20

The home is a demo home (``npldesk demo``): its months classified, its casework in its own
SQLite file. The dashboard is read through Django's test client in this process, signed in as
``--user``; the cache is the home's file cache, as a server has it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--user", default="demo-leader")
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "npldesk.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    cache.clear()
    client = Client()
    user = get_user_model().objects.get(username=args.user)
    client.force_login(user, backend="npldesk.web.accounts.backends.StaffBackend")

    def timed() -> float:
        start = time.perf_counter()
        response = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200, response.status_code
        return (time.perf_counter() - start) * 1000

    first = timed()
    cached = [timed() for _ in range(args.calls)]
    print(
        json.dumps(
            {
                "first_ms": round(first, 1),
                "cached_median_ms": round(statistics.median(cached), 1),
                "cached_max_ms": round(max(cached), 1),
                "calls": args.calls,
            }
        )
    )


if __name__ == "__main__":
    main()
