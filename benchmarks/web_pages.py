"""One request at a time: the load benchmark's pages for one load user, median of repeats.

    NPLDESK_HOME=/tmp/npldesk-load/home python benchmarks/web_pages.py --repeat 7

The home is the one ``benchmarks/load_seed.py`` builds (casework on PostgreSQL, 200,000 open
cases). Each page is read through Django's test client in this process, signed in as the first
load user; the first call is not timed. The cache is the home's, as a server has it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--user", type=int, default=0, help="index in load-users.json")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "npldesk.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    users = json.loads((Path(os.environ["NPLDESK_HOME"]) / "load-users.json").read_text())
    me = users[args.user]
    client = Client()
    client.force_login(
        get_user_model().objects.get(username=me["username"]),
        backend="npldesk.web.accounts.backends.StaffBackend",
    )
    pages = {
        "worklist": "/worklist/",
        "case page": f"/cases/{me['cases'][0]}/",
        "dashboard": f"/dashboard/?unit={me['unit']}",
        "case list": "/cases/?state=in_progress",
        "case list (all)": "/cases/",
        "api worklist": "/api/v1/worklist?limit=50",
        "api case": f"/api/v1/cases/{me['cases'][0]}",
    }
    results = {}
    for name, url in pages.items():
        headers = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
        if name.startswith("api"):
            headers = {}
            client.logout()
            headers["HTTP_AUTHORIZATION"] = f"Bearer {me['token']}"
        times = []
        response = client.get(url, **headers)
        assert response.status_code == 200, (url, response.status_code)
        for _ in range(args.repeat):
            start = time.perf_counter()
            response = client.get(url, **headers)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        results[name] = {
            "median_ms": round(statistics.median(times), 1),
            "min_ms": round(min(times), 1),
        }
    print(json.dumps({"load": os.getloadavg()[0], "pages": results}, indent=1))


if __name__ == "__main__":
    main()
