"""A live server for browser and end-to-end tests: a copy of the session's demo home served by a
real gunicorn on loopback, started the way a person starts it.

The copy keeps the session demo home unchanged for the tests that read it (the golden outputs
compare its cases): journeys write to their own copy. The demo home's database is the SQLite
file inside the home (the child gets no database of the caller's), so a folder copy is a whole
copy, on either leg of the suite.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import clean_environment

STARTUP_SECONDS = 90


@dataclass(frozen=True)
class LiveServer:
    url: str
    home: Path
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def copy_home(demo_home: Path, target: Path) -> Path:
    shutil.copytree(demo_home, target, symlinks=True)
    return target


@contextmanager
def served(home: Path, log: Path, *args: str) -> Iterator[LiveServer]:
    """Run ``npldesk <args> --home <home> --port <free>`` until its /health/ answers; stop it
    (by its own process id) when the block ends."""
    port = free_port()
    command = [sys.executable, "-c", "from npldesk.cli import main; main()", *args]
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [*command, "--home", str(home), "--port", str(port)],
            env=clean_environment(),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    live = LiveServer(url, home, log)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health/", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server did not answer /health/:\n{live.output()}")
            time.sleep(0.3)
        yield live
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
