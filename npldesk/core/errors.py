"""Typed errors and problem records.

Validation never stops at the first problem: it returns a list of ``Problem`` records, and the
caller decides. ``NpldeskError`` is a user's mistake or bad data: the CLI prints its message and
exits with its code, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where it is, what it holds, which rule it breaks."""

    rule: str
    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    severity: Severity = Severity.ERROR

    def location(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def describe(self) -> str:
        where = self.location()
        shown = "" if self.value is None else f" (value {self.value!r})"
        return f"{where + ': ' if where else ''}{self.message}{shown} [{self.rule}]"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "rule": self.rule,
            "message": self.message,
            "severity": self.severity.value,
        }


class NpldeskError(Exception):
    """A mistake a user can fix; the message says what and how. Exit code 1: bad data."""

    exit_code = 1

    def __init__(
        self, message: str, *, problems: list[Problem] | None = None, total: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.problems: list[Problem] = problems or []
        # How many problems there were in all; ``problems`` lists the first of them.
        self.total = len(self.problems) if total is None else total


class UsageError(NpldeskError):
    """A command used wrongly: bad option, missing file, unknown name. Exit code 2."""

    exit_code = 2


class DataError(NpldeskError):
    """Input data that breaks a rule; carries every problem found. Exit code 1."""

    exit_code = 1


@dataclass
class ProblemList:
    """Problems collected up to ``limit`` in detail, with a count of all of them."""

    limit: int = 1000
    problems: list[Problem] = field(default_factory=list)
    total: int = 0

    def add(self, problem: Problem) -> None:
        self.total += 1
        if len(self.problems) < self.limit:
            self.problems.append(problem)

    def extend_count(self, count: int) -> None:
        """Count problems that were found but not listed (beyond the limit)."""
        self.total += count

    def __bool__(self) -> bool:
        return self.total > 0
