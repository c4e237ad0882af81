"""Prove that npldesk's machine-readable outputs on the demo home do not change.

Builds a small seeded demo home (about 3,000 loans over 24 months, through the ``npldesk demo``
command), runs every figure command, every list and a few cases with ``--format json`` (and
the lists as CSV, and the cells of the lists' workbooks) and compares the SHA-256 of each
output with the record in ``scripts/golden_outputs.json``:

    python scripts/golden_outputs.py check            # exit 1 naming every output that differs
    python scripts/golden_outputs.py record           # write the record from the code as it is
    python scripts/golden_outputs.py check --home DIR # reuse (or build once) a demo home there

JSON and CSV keep their English keys, codes and exact decimal strings whatever the home's
language, so the record holds in every language. Tables for people are not recorded: they are
meant to change with the language and the number formats. An import id names the moment of an
import, so it is replaced by a placeholder before hashing; nothing else is.

Run it in a clean environment: it ignores ``NPLDESK_DATABASE_URL`` and ``NPLDESK_BACKEND`` so
that the demo's casework goes to the demo home's own SQLite file and figures run on DuckDB.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RECORD = REPO / "scripts" / "golden_outputs.json"
LOANS = "3000"
MONTHS = "24"
AS_OF = "2019-12"
LISTS = ("new-npl", "early-warning", "upgraded", "top-npl", "deviation")
# Every output an import id appears in carries it as a JSON string field.
_IMPORT_ID = re.compile(r'"import_id": "[^"]*"')


def figure_commands() -> dict[str, list[str]]:
    """Name of each recorded output → the ``npldesk`` arguments that print it (no ``--home``)."""
    quality = ["quality", "--as-of", AS_OF, "--format", "json"]
    movement = ["movement", "--as-of", AS_OF, "--format", "json"]
    migration = ["migration", "--from", "2018-12", "--to", AS_OF, "--format", "json"]
    commands: dict[str, list[str]] = {
        "quality": quality,
        "quality-by-org_unit": [*quality, "--by", "org_unit"],
        "quality-by-product": [*quality, "--by", "product"],
        "quality-by-org_unit-county": [*quality, "--by", "org_unit", "--level", "county_branch"],
        "quality-baseline-2019-06": [*quality, "--baseline", "2019-06"],
        "movement-month": movement,
        "movement-ytd": [*movement, "--period", "ytd"],
        "movement-ytd-by-org_unit": [*movement, "--period", "ytd", "--by", "org_unit"],
        "movement-month-by-product": [*movement, "--by", "product"],
        "migration-class": migration,
        "migration-dpd": [*migration, "--basis", "dpd"],
        "migration-dpd-f18": [*migration, "--basis", "dpd", "--buckets", "f18"],
        "migration-class-csv": [*migration[:-1], "csv"],
    }
    for name in LISTS:
        listing = ["list", name, "--as-of", AS_OF]
        commands[f"list-{name}-json"] = [*listing, "--format", "json"]
        commands[f"list-{name}-csv"] = [*listing, "--format", "csv"]
    commands["list-top-npl-limit-5-json"] = [
        "list", "top-npl", "--as-of", AS_OF, "--limit", "5", "--format", "json",
    ]  # fmt: skip
    commands["list-new-npl-from-2019-06-csv"] = [
        "list", "new-npl", "--as-of", AS_OF, "--from", "2019-06", "--format", "csv",
    ]  # fmt: skip
    commands["list-upgraded-from-2018-12-json"] = [
        "list", "upgraded", "--as-of", AS_OF, "--from", "2018-12", "--format", "json",
    ]  # fmt: skip
    commands["cases-list"] = ["cases", "list", "--format", "json"]
    commands["cases-list-unit-HB01"] = ["cases", "list", "--unit", "HB01", "--format", "json"]
    return commands


@contextlib.contextmanager
def clean_environment() -> Iterator[None]:
    """No database URL or backend from the caller's environment while the script runs, and
    English: the demo writes the names of strategies and stages into its casework notes in
    the language of the build, and those notes are part of ``cases show``."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("NPLDESK_")}
    os.environ["NPLDESK_LANGUAGE"] = "en"
    try:
        yield
    finally:
        del os.environ["NPLDESK_LANGUAGE"]
        os.environ.update(saved)


def npldesk(argv: list[str]) -> str:
    """Run one ``npldesk`` command in this process and return what it printed on stdout."""
    from npldesk.cli import run

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(io.StringIO()) as errors:
        code = run(argv)
    if code != 0:
        raise SystemExit(f"npldesk {' '.join(argv)} exited {code}: {errors.getvalue()}")
    return buffer.getvalue()


def build_demo(home: Path) -> None:
    """The seeded demo home (idempotent: an existing demo home is used as it is)."""
    npldesk(["demo", "--home", str(home), "--no-serve", "--loans", LOANS, "--months", MONTHS])


def shown_cases(home: Path) -> list[str]:
    """A few cases of different states: the first case of each state, in case-number order."""
    listed = json.loads(npldesk(["cases", "list", "--format", "json", "--home", str(home)]))
    first_of_state: dict[str, str] = {}
    for case in sorted(listed["cases"], key=lambda c: c["case_id"]):
        first_of_state.setdefault(case["state"], case["case_id"])
    return [first_of_state[state] for state in sorted(first_of_state)]


def workbook_cells(path: Path) -> str:
    """The cells of a list's workbook below its header row, one JSON array per row.

    The title and the header row follow the home's language; the cells hold codes and exact
    yuan in every language, so they are what is recorded."""
    import openpyxl

    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    # Row 1 is the title, row 3 the header; the data ends at the empty row before the footer
    # (the footer's words follow the language too).
    body = []
    for row in rows[3:]:
        if all(value is None for value in row):
            break
        body.append([_cell(value) for value in row])
    return json.dumps(body, ensure_ascii=False)


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value)
    if value is not None and not isinstance(value, str | int | bool):
        return str(value)
    return value


def collect(home: Path) -> dict[str, str]:
    """Every recorded output of the demo home, by name, as printed (import ids masked)."""
    outputs: dict[str, str] = {}
    for name, argv in figure_commands().items():
        outputs[name] = _IMPORT_ID.sub('"import_id": "…"', npldesk([*argv, "--home", str(home)]))
    for case_id in shown_cases(home):
        outputs[f"cases-show-{case_id}"] = npldesk(
            ["cases", "show", case_id, "--format", "json", "--home", str(home)]
        )
    with tempfile.TemporaryDirectory() as folder:
        for name in LISTS:
            target = Path(folder) / f"{name}.xlsx"
            npldesk(["list", name, "--as-of", AS_OF, "--out", str(target), "--home", str(home)])
            outputs[f"list-{name}-xlsx-cells"] = workbook_cells(target)
    return outputs


def digests(outputs: dict[str, str]) -> dict[str, str]:
    return {
        name: hashlib.sha256(text.encode("utf-8")).hexdigest()
        for name, text in sorted(outputs.items())
    }


def compare(found: dict[str, str], recorded: dict[str, str]) -> list[str]:
    """One line for every output that differs from the record, is new, or is missing."""
    problems = []
    for name in sorted(set(found) | set(recorded)):
        if name not in recorded:
            problems.append(f"{name}: not in the record")
        elif name not in found:
            problems.append(f"{name}: recorded but no longer produced")
        elif found[name] != recorded[name]:
            problems.append(f"{name}: differs (sha256 {found[name]} != {recorded[name]})")
    return problems


def outputs_of(home: Path | None) -> dict[str, str]:
    """Build the demo home (in ``home``, else a temporary folder) and collect its outputs."""
    with clean_environment():
        if home is not None:
            build_demo(home)
            return collect(home)
        with tempfile.TemporaryDirectory() as folder:
            built = Path(folder) / "demo"
            build_demo(built)
            return collect(built)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("check", "record"))
    parser.add_argument("--home", type=Path, help="Build (once) and reuse the demo home here")
    parser.add_argument("--dump", type=Path, help="Also write every output into this folder")
    args = parser.parse_args(argv)
    outputs = outputs_of(args.home)
    if args.dump is not None:
        args.dump.mkdir(parents=True, exist_ok=True)
        for name, text in outputs.items():
            (args.dump / name).write_text(text, encoding="utf-8")
    found = digests(outputs)
    if args.action == "record":
        RECORD.write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
        print(f"recorded {len(found)} outputs in {RECORD.relative_to(REPO)}")
        return 0
    recorded = json.loads(RECORD.read_text(encoding="utf-8"))
    problems = compare(found, recorded)
    for line in problems:
        print(line)
    if problems:
        return 1
    print(f"all {len(found)} outputs match {RECORD.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
