"""Locust: token clients of the API (``benchmarks/load_run.py --kind api`` runs it).

Each client holds one seeded load user's token (``load-users.json``, ``LOAD_USERS_FILE``) and
reads its worklist (half the calls) and one of its cases (the other half), pausing
``LOAD_WAIT`` seconds (default 1–3) between calls. Not part of npldesk: run with locust's own
Python (see ``docs/benchmarks.md``).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import threading
from pathlib import Path

from locust import HttpUser, between, task

USERS = json.loads(Path(os.environ["LOAD_USERS_FILE"]).read_text(encoding="utf-8"))
LOW, HIGH = (float(x) for x in os.environ.get("LOAD_WAIT", "1-3").split("-"))
_turn = itertools.count()
_lock = threading.Lock()


def _next_user() -> dict:
    with _lock:
        return USERS[next(_turn) % len(USERS)]


class Client(HttpUser):
    wait_time = between(LOW, HIGH)

    def on_start(self) -> None:
        self.me = _next_user()
        self.client.headers["Authorization"] = f"Bearer {self.me['token']}"

    @task(1)
    def worklist(self) -> None:
        self.client.get("/api/v1/worklist?limit=50", name="api worklist")

    @task(1)
    def case(self) -> None:
        self.client.get(f"/api/v1/cases/{random.choice(self.me['cases'])}", name="api case")
