"""Locust: signed-in people on the web app (``benchmarks/load_run.py --kind web`` runs it).

Each simulated person is one of the seeded load users (``load-users.json`` of the home,
``LOAD_USERS_FILE``), already signed in by the runner (their cookies in ``LOAD_SESSIONS_FILE``),
and pauses 1–3 s between pages: worklist 40 %, case page 30 %, activity entry 10 %,
dashboard 10 %, case list 10 %. Not part of npldesk: run with
locust's own Python (see ``docs/benchmarks.md``).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import threading
from datetime import datetime
from pathlib import Path

from locust import HttpUser, between, task

USERS = json.loads(Path(os.environ["LOAD_USERS_FILE"]).read_text(encoding="utf-8"))
SESSIONS = json.loads(Path(os.environ["LOAD_SESSIONS_FILE"]).read_text(encoding="utf-8"))
_turn = itertools.count()
_lock = threading.Lock()


def _next_user() -> dict:
    with _lock:
        return USERS[next(_turn) % len(USERS)]


class Person(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.me = _next_user()
        cookies = SESSIONS[self.me["username"]]
        for name, value in cookies.items():
            self.client.cookies.set(name, value, domain="127.0.0.1")
        self.csrf = cookies["csrftoken"]

    def _case(self) -> str:
        return random.choice(self.me["cases"])

    @task(40)
    def worklist(self) -> None:
        self.client.get("/worklist/", name="worklist")

    @task(30)
    def case_page(self) -> None:
        self.client.get(f"/cases/{self._case()}/", name="case page")

    @task(10)
    def activity_entry(self) -> None:
        number = self._case()
        token = self.csrf
        with self.client.post(
            f"/cases/{number}/activity/",
            {
                "kind": "asset_search",
                "outcome": "contacted",
                "occurred_at": datetime.now().strftime("%Y-%m-%dT%H:%M"),
                "party": "third_party",
                "purpose": "locating",
                "notes": "load test",
                "csrfmiddlewaretoken": token,
            },
            headers={"X-CSRFToken": token, "Referer": f"{self.host}/cases/{number}/"},
            name="activity entry",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"not saved: {response.status_code}")

    @task(10)
    def dashboard(self) -> None:
        self.client.get(f"/dashboard/?unit={self.me['unit']}", name="dashboard")

    @task(10)
    def case_list(self) -> None:
        state = random.choice(["", "in_progress", "opened", "escalated"])
        self.client.get(f"/cases/?state={state}", name="case list")
