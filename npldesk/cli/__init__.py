"""The ``npldesk`` command: one front door over tape, analytics, casework and the web app.

Commands are thin: they parse options, call the layer below, and print. A user's mistake
(``NpldeskError``, a bad option) prints a clear message and exits 2 (usage) or 1 (data),
never a traceback.
"""

from __future__ import annotations

import sys

from rich.markup import escape

from npldesk.cli.app import app
from npldesk.cli.language import current_language, home_language, restore_language, say
from npldesk.cli.output import err_console, print_problems
from npldesk.core.errors import NpldeskError
from npldesk.core.system import owner_only_files


def run(argv: list[str]) -> int:
    """Run the CLI with ``argv`` and return its exit code (the tests' entry point)."""
    previous = current_language()
    owner_only_files()
    try:
        # Typer's standalone mode prints usage errors (exit 2) and ends with SystemExit.
        app(args=argv, prog_name="npldesk", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except NpldeskError as exc:
        with home_language(argv):
            if exc.problems:
                print_problems(exc.problems, exc.total)
            err_console().print(
                f"[bold red]{escape(say(_('error')))}:[/] {escape(say(exc.message))}",
                highlight=False,
            )
        return exc.exit_code
    except KeyboardInterrupt:
        with home_language(argv):
            err_console().print(say(_("interrupted; the interrupted step committed nothing")))
        return 130
    finally:
        restore_language(previous)
    return 0


def _(message: str) -> str:
    """Marks a message for the catalogues; ``say`` translates it when it is printed."""
    return message


def main() -> None:
    """The console script."""
    sys.exit(run(sys.argv[1:]))
