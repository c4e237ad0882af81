"""``npldesk serve``: the web app on a home, under gunicorn (``--dev``: Django's dev server).

Thin: it points Django at the home, checks the database is ready, and starts the server; the
server process runs the app of ``npldesk.wsgi``. Registered in ``cli/app.py``.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from npldesk.cli.options import HomeOption
from npldesk.cli.output import console
from npldesk.core.errors import UsageError
from npldesk.home import Home, load_home

DEFAULT_PORT = 8000
# Two cores: one worker each, a few threads for requests that wait on the database.
WORKERS = 2
THREADS = 4


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    home: HomeOption = None,
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1")] = DEFAULT_PORT,
    bind: Annotated[
        str, typer.Option("--bind", help="Address to listen on (the bank's reverse proxy's side)")
    ] = "127.0.0.1",
    dev: Annotated[bool, typer.Option("--dev", help="Django's development server")] = False,
) -> None:
    """Serve the web app of a home (gunicorn; --dev: Django's development server)."""
    loaded = load_home(home)
    if not 0 < port < 65536:
        raise UsageError(f"--port {port}: a port is between 1 and 65535")
    serve_home(loaded, bind=bind, port=port, dev=dev)


def serve_home(home: Home, *, bind: str, port: int, dev: bool) -> None:
    """Run the web app of ``home`` until stopped (the demo calls this too)."""
    os.environ["NPLDESK_HOME"] = str(home.path)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "npldesk.settings")
    if dev:
        os.environ.setdefault("NPLDESK_DEBUG", "1")
    import django

    django.setup()
    from npldesk.casework.selectors import database_ready

    if not database_ready():
        raise UsageError(f"the database of {home.path} is not ready: run `npldesk init` first")
    console().print(f"npldesk web app on http://{bind}:{port}/ (stop with Ctrl+C)")
    if dev:
        from django.core.management import call_command

        call_command("runserver", f"{bind}:{port}", use_reloader=False)
        return
    _gunicorn(bind=bind, port=port)


def _gunicorn(*, bind: str, port: int) -> None:
    from gunicorn.app.base import BaseApplication

    from npldesk.wsgi import application

    class Server(BaseApplication):
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{bind}:{port}",
                "workers": WORKERS,
                "threads": THREADS,
                "worker_class": "gthread",
                "timeout": 120,
                "accesslog": "-",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return application

    Server().run()
