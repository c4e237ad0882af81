"""``npldesk serve``: the web app on a home, under gunicorn (``--dev``: Django's dev server).

Thin: it points Django at the home, checks the database is ready, and starts the server; the
server process runs the app of ``npldesk.wsgi``. Registered in ``cli/app.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Annotated, Any

import typer

from npldesk.cli.language import say
from npldesk.cli.options import HomeOption
from npldesk.cli.output import console
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.home import Home, load_home

DEFAULT_PORT = 8000


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    home: HomeOption = None,
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1")] = DEFAULT_PORT,
    bind: Annotated[
        str, typer.Option("--bind", help="Address to listen on (the bank's reverse proxy's side)")
    ] = "127.0.0.1",
    dev: Annotated[bool, typer.Option("--dev", help="Django's development server")] = False,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Run `npldesk worker` beside the web workers (queued jobs and the schedule)",
        ),
    ] = True,
) -> None:
    """Serve the web app of a home (gunicorn; --dev: Django's development server), with
    ``npldesk worker`` beside it."""
    loaded = load_home(home)
    if not 0 < port < 65536:
        raise UsageError(translatable("--port {port}: a port is between 1 and 65535", port=port))
    serve_home(loaded, bind=bind, port=port, dev=dev, worker=worker)


def _start_worker(home: Home) -> subprocess.Popen[bytes]:
    """``npldesk worker`` on the same home, in a process of its own: long jobs never hold a
    web worker, and a job killed with it is claimed again when the server starts again."""
    command = [sys.executable, "-c", "from npldesk.cli import main; main()", "worker"]
    # The command is this interpreter and npldesk itself; the home is the one being served.
    return subprocess.Popen([*command, "--home", str(home.path)])  # noqa: S603


def _stop_worker(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def serve_home(home: Home, *, bind: str, port: int, dev: bool, worker: bool = True) -> None:
    """Run the web app of ``home`` until stopped (the demo calls this too)."""
    # Read first: a mistake in [web] is said before anything starts.
    workers, threads = home.web_workers, home.web_threads
    os.environ["NPLDESK_HOME"] = str(home.path)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "npldesk.settings")
    if dev:
        os.environ.setdefault("NPLDESK_DEBUG", "1")
    import django

    django.setup()
    from npldesk.casework.selectors import database_ready

    if not database_ready():
        raise UsageError(
            translatable(
                "the database of {path} is not ready: run `npldesk init` first", path=home.path
            )
        )
    from django.utils import translation

    serving = translatable(
        "npldesk web app on {address} (stop with Ctrl+C)", address=f"http://{bind}:{port}/"
    )
    # Said in the home's language; each request then speaks its reader's (the middleware).
    with translation.override(home.language):
        console().print(say(serving))
    process = _start_worker(home) if worker else None
    try:
        if dev:
            from django.core.management import call_command

            call_command("runserver", f"{bind}:{port}", use_reloader=False)
            return
        _gunicorn(bind=bind, port=port, workers=workers, threads=threads)
    finally:
        _stop_worker(process)


def _gunicorn(*, bind: str, port: int, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    from npldesk.wsgi import application

    class Server(BaseApplication):
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{bind}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "timeout": 120,
                # Longer than a person's pause between pages: a connection the server closes
                # (default 2 s) just as the browser reuses it is reset under the request.
                "keepalive": 10,
                "accesslog": "-",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return application

    Server().run()
