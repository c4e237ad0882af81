"""``npldesk serve``: a real gunicorn on loopback serves the home's web app."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from npldesk.cli import run
from npldesk.home import create_home, load_home


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _npldesk(*args: str) -> list[str]:
    return [sys.executable, "-c", "from npldesk.cli import main; main()", *args]


def test_serve_runs_the_web_app_under_gunicorn(tmp_path: Path) -> None:
    home = tmp_path / "home"
    port = _free_port()
    env = {**os.environ, "NPLDESK_HOME": str(home)}
    env.pop("NPLDESK_DATABASE_URL", None)
    subprocess.run(_npldesk("init"), env=env, check=True, capture_output=True)
    config = home / "npldesk.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("workers = 3", "workers = 2"), encoding="utf-8"
    )
    server = subprocess.Popen(
        _npldesk("serve", "--port", str(port)),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/") as answer:
                    assert answer.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("the server did not answer /health/")
                time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/web/vendor/htmx.min.js") as js:
            assert js.status == 200
        request = urllib.request.Request(f"http://127.0.0.1:{port}/cases/")
        opener = urllib.request.build_opener(_NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as signed_out:
            opener.open(request)
        assert signed_out.value.code == 302
        (worker,) = _children_running(server.pid, "worker")
        # The home's [web] workers, not the default of three: two gunicorn processes under the
        # one serving.
        assert len(_children_running(server.pid, "serve")) == 2
    finally:
        server.terminate()
        server.wait(timeout=30)
    # The worker beside the web app stops with it.
    assert not Path(f"/proc/{worker}").exists() or _state(worker) == "Z"


def _children_running(parent: int, argument: str) -> list[int]:
    """The processes whose parent is ``parent`` and whose command line holds ``argument``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and argument.encode() in arguments:
            found.append(int(entry.name))
    return found


def _state(pid: int) -> str:
    try:
        return (Path(f"/proc/{pid}") / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def test_serve_refuses_a_port_out_of_range(tmp_path: Path) -> None:
    home, _ = create_home(tmp_path / "home")
    assert run(["serve", "--port", "70000", "--home", str(home.path)]) == 2


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@pytest.mark.parametrize(
    "line", ["workers = 0", "workers = 2.5", 'workers = "many"', "threads = 65"]
)
def test_a_server_size_that_is_no_count_is_a_clear_message(
    tmp_path: Path, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    create_home(home)
    config = home / "npldesk.toml"
    text = config.read_text(encoding="utf-8")
    key = line.split(" ")[0]
    text = text.replace(f"{key} = {2 if key == 'threads' else 3}", line)
    config.write_text(text, encoding="utf-8")
    assert run(["serve", "--home", str(home), "--no-worker"]) == 2
    said = " ".join(capsys.readouterr().err.split())
    assert f"[web] {key} = " in said and "is not a whole number from 1 to 64" in said
    assert "Traceback" not in said


def test_a_new_home_serves_with_three_processes_of_two_threads(tmp_path: Path) -> None:
    """The default size measured best on two cores (docs/adr/0027): the config file written
    at init says it, and a [web] table without the keys means it too."""
    home, _ = create_home(tmp_path / "home")
    assert (home.web_workers, home.web_threads) == (3, 2)
    config = home.config_file
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("workers = 3\n", "").replace("threads = 2\n", ""), "utf-8")
    bare = load_home(home.path)
    assert "workers" not in bare.config.get("web", {})
    assert (bare.web_workers, bare.web_threads) == (3, 2)
