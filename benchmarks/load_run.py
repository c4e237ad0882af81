"""Run a load benchmark against ``npldesk serve`` on 127.0.0.1 and print the figures per page.

Not a test. Needs a home seeded by ``benchmarks/load_seed.py`` and locust in an environment of
its own (``--locust`` names its command; the default ``/tmp/locust-venv/bin/locust`` is made
with pip when missing). Loopback only: the server binds 127.0.0.1, locust calls it
there.

    python benchmarks/load_run.py --kind web [--users 50] [--minutes 5]
    python benchmarks/load_run.py --kind api [--users 50] [--minutes 2]
        [--home DIR] [--port 8123] [--locust /tmp/locust-venv/bin/locust]

The server is started (``npldesk serve --no-worker``: gunicorn at the home's ``[web]`` size,
3 processes × 2 threads by default) and stopped afterwards; on the web, every load user signs
in before measuring starts (their session cookies handed to locust); locust runs headless for
the given time, then its per-page figures are printed as JSON, with the server's size:
requests, failures, median, 95th percentile and maximum in milliseconds, with the machine's
load (``/proc/loadavg``) before and after, and whether the targets are met (0 errors, p95
under 150 ms, median under 50 ms on the web).
"""

from __future__ import annotations

import argparse
import csv
import http.cookiejar
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
LOCUST = "locust==2.47.0"
TARGETS = {"web": {"p95": 150, "median": 50}, "api": {"p95": 150, "median": None}}


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load() -> str:
    return Path("/proc/loadavg").read_text().strip()


def serve(home: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NPLDESK_", "DJANGO_"))}
    env |= {"PYTHONPATH": str(REPO), "NPLDESK_HOME": str(home)}
    command = [sys.executable, "-c", "from npldesk.cli import main; main()", "serve"]
    # Without the job worker: its schedule (the daily judge, a month-end run) is not the load.
    command += ["--home", str(home), "--port", str(port), "--no-worker"]
    server = subprocess.Popen(
        command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=5):
                return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"the server stopped: see {log}") from None
            time.sleep(1)
    stop(server)
    raise SystemExit(f"the server did not answer in 120 s: see {log}")


def ensure_locust(command: str) -> None:
    """Locust in an environment of its own (its gevent stays out of npldesk's): made with pip
    the first time when ``command`` is the default and missing."""
    if Path(command).exists():
        return
    venv = Path(command).parents[1]
    say(f"installing locust into {venv}")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", LOCUST], check=True)


def sign_in(port: int, users: list[dict[str, Any]], target: Path) -> None:
    """Sign every load user in (a full password hash each, before measuring starts) and write
    their session and CSRF cookies to ``target`` for the locust file."""
    sessions = {}
    for user in users:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        base = f"http://127.0.0.1:{port}"
        opener.open(f"{base}/login/", timeout=120).read()
        csrf = next(c.value for c in jar if c.name == "csrftoken")
        form = urllib.parse.urlencode(
            {"username": user["username"], "password": user["password"]}
            | {"csrfmiddlewaretoken": csrf}
        ).encode()
        request = urllib.request.Request(f"{base}/login/", data=form, headers={"Referer": base})
        opener.open(request, timeout=120).read()
        cookies = {c.name: c.value for c in jar}
        if "sessionid" not in cookies:
            raise SystemExit(f"{user['username']} could not sign in")
        sessions[user["username"]] = cookies
    target.write_text(json.dumps(sessions), encoding="utf-8")
    target.chmod(0o600)


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def figures(stats: Path) -> list[dict[str, Any]]:
    rows = []
    with stats.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows.append(
                {
                    "page": row["Name"],
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "median_ms": float(row["Median Response Time"]),
                    "p95_ms": float(row["95%"]),
                    "max_ms": round(float(row["Max Response Time"])),
                    "per_s": round(float(row["Requests/s"]), 1),
                }
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=("web", "api"), required=True)
    parser.add_argument(
        "--home",
        type=Path,
        default=Path(os.environ.get("TMPDIR", "/tmp")) / "npldesk-load" / "home",
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=None, help="web: 5, api: 2")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--locust", default="/tmp/locust-venv/bin/locust")
    args = parser.parse_args()
    minutes = args.minutes or (5 if args.kind == "web" else 2)
    users_file = args.home / "load-users.json"
    if not users_file.exists():
        raise SystemExit(f"{users_file} is missing: run benchmarks/load_seed.py first")

    ensure_locust(args.locust)
    work = Path(tempfile.mkdtemp(prefix="npldesk-load-"))
    server = serve(args.home, args.port, work / "server.log")
    try:
        say(f"serving on 127.0.0.1:{args.port}; locust {args.users} users for {minutes} min")
        users = json.loads(users_file.read_text(encoding="utf-8"))[: args.users]
        if args.kind == "web":
            started = time.monotonic()
            sign_in(args.port, users, work / "sessions.json")
            say(f"{len(users)} users signed in in {time.monotonic() - started:.0f} s")
        before = load()
        env = dict(os.environ) | {
            "LOAD_USERS_FILE": str(users_file),
            "LOAD_SESSIONS_FILE": str(work / "sessions.json"),
        }
        command = [
            args.locust,
            "-f",
            str(HERE / f"locust_{args.kind}.py"),
            "--headless",
            "--users",
            str(args.users),
            "--spawn-rate",
            str(max(1, args.users // 5)),
            "--run-time",
            f"{int(minutes * 60)}s",
            "--host",
            f"http://127.0.0.1:{args.port}",
            "--csv",
            str(work / "load"),
            "--only-summary",
            "--stop-timeout",
            "10",
        ]
        done = subprocess.run(
            command, env=env, stdout=(work / "locust.log").open("wb"), stderr=subprocess.STDOUT
        )
        after = load()
    finally:
        stop(server)
    pages = figures(work / "load_stats.csv")
    with (work / "load_exceptions.csv").open(encoding="utf-8") as handle:
        exceptions = sum(int(row["Count"]) for row in csv.DictReader(handle))
    measured = [p for p in pages if p["page"] not in ("sign-in", "Aggregated")]
    target = TARGETS[args.kind]
    # The size npldesk serve ran, as npldesk reads it from the home (its defaults included).
    sys.path.insert(0, str(REPO))
    from npldesk.home import load_home

    served = load_home(args.home)
    result = {
        "kind": args.kind,
        "server": {"workers": served.web_workers, "threads": served.web_threads},
        "users": args.users,
        "minutes": minutes,
        "pages": pages,
        "errors": sum(p["failures"] for p in measured),
        "exceptions_in_locust": exceptions,
        "targets_met": {
            "no_errors": exceptions == 0 and all(p["failures"] == 0 for p in measured),
            "p95": all(p["p95_ms"] < target["p95"] for p in measured),
            "median": target["median"] is None
            or all(p["median_ms"] < target["median"] for p in measured),
        },
        "load_before": before,
        "load_after": after,
        "locust_exit": done.returncode,
        "logs": str(work),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
