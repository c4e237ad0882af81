"""Options every command shares (``--home``, ``--format``, ``--backend``, ``--rule-set``,
``--as``), the reading of months given on the command line, and who a casework command acts as,
defined once."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from npldesk.cli.output import OutputFormat
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.core.months import MonthError, parse_month

if TYPE_CHECKING:
    from npldesk.casework.models import Person

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="The npldesk home folder (default: $NPLDESK_HOME or ./npldesk-home)",
        show_default=False,
    ),
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", help="table for people, json or csv for tools")
]
BackendOption = Annotated[
    str | None,
    typer.Option("--backend", help="duckdb or pyspark (default: the home's configuration)"),
]
RuleSetOption = Annotated[
    str | None,
    typer.Option("--rule-set", help="cn-2023 or eu-npe (default: the home's configuration)"),
]

AsOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Act as this user: their roles and unit scope apply (default: the system actor)",
        show_default=False,
    ),
]


def acting_person(username: str | None) -> Person:
    """Who a casework command acts as: the system actor, or with ``--as`` that member of
    staff (Django set up on the home first)."""
    from npldesk.casework import access, selectors
    from npldesk.casework.errors import NotFound

    system = selectors.system_actor()
    if username is None:
        return system
    try:
        person = selectors.person_get(system, username)
    except NotFound as exc:
        raise UsageError(
            translatable(
                "--as {username!r}: no such user (see `npldesk users list`)", username=username
            )
        ) from exc
    if not person.active and not access.is_system_actor(person):
        raise UsageError(translatable("--as {username!r}: the user is inactive", username=username))
    return person


def month_option(text: str, option: str) -> date:
    """A ``YYYY-MM`` given with ``option``; a clear usage error otherwise."""
    try:
        return parse_month(text)
    except MonthError as exc:
        raise UsageError(
            # The reason as it was raised: a marked message, said in the reader's language.
            translatable("{option}: {reason}", option=option, reason=exc.args[0])
        ) from exc


def optional_month(text: str | None, option: str) -> date | None:
    return None if text is None else month_option(text, option)
