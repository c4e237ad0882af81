"""What an import is given and what it gives back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from npldesk.core.errors import Problem
from npldesk.tape.mapping import Mapping

Progress = Callable[[str], None]
# A month whose unexplained exits pass this share of the month before's loans on book looks like
# a partial export (``docs/tape-import.md``); ``[import] unexplained_exits_limit`` sets it.
UNEXPLAINED_EXITS_LIMIT = Decimal("0.20")


@dataclass
class SnapshotSummary:
    """What one committed snapshot holds."""

    as_of: date
    rows: int
    loans_on_book: int
    balance: str
    source: str
    replaced: bool


@dataclass
class ImportResult:
    import_id: str
    snapshots: list[SnapshotSummary]
    warnings: list[Problem] = field(default_factory=list)
    warning_total: int = 0


@dataclass(frozen=True)
class ImportOptions:
    mapping: Mapping | None = None
    as_of: date | None = None
    replace: bool = False
    join_files: dict[str, Path] = field(default_factory=dict)
    user: str | None = None
    max_problems: int = 1000
    memory_limit: str = "1GB"
    threads: int | None = None
    # The whole-book check: a month losing more than this share of the month before's loans
    # without a terminal row is refused unless the exits are accepted (``--accept-exits``).
    unexplained_exits_limit: Decimal = UNEXPLAINED_EXITS_LIMIT
    accept_exits: bool = False
