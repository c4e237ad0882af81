"""Options every command shares (``--home``, ``--format``, ``--backend``, ``--rule-set``) and
the reading of months given on the command line, defined once."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from npldesk.cli.output import OutputFormat
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.core.months import MonthError, parse_month

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


def month_option(text: str, option: str) -> date:
    """A ``YYYY-MM`` given with ``option``; a clear usage error otherwise."""
    try:
        return parse_month(text)
    except MonthError as exc:
        raise UsageError(
            translatable("{option}: {reason}", option=option, reason=str(exc))
        ) from exc


def optional_month(text: str | None, option: str) -> date | None:
    return None if text is None else month_option(text, option)
