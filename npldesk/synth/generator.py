"""``generate()``: write a synthetic branch network (organisation file and monthly tape files)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa

from npldesk.core.errors import UsageError
from npldesk.core.months import month_end, month_label, shift_month_end
from npldesk.synth.book import BLOCK_LOANS, BlockBook, MonthRows, month_index
from npldesk.synth.layouts import (
    CANONICAL,
    CN_CORE,
    CN_CORE_ENCODING,
    CN_CUSTOMER_FILE_STEM,
    FILE_FORMATS,
    LAYOUTS,
)
from npldesk.synth.org import write_org_file
from npldesk.synth.profiles import PROFILES, Profile, new_lending_rates
from npldesk.synth.render import (
    CN_CORE_SCHEMA,
    CN_CUSTOMER_SCHEMA,
    canonical_table,
    cn_core_table,
    cn_customer_table,
)
from npldesk.synth.writers import XLSX_MAX_DATA_ROWS, TableWriter, WriterSet, open_writer
from npldesk.tape.schema import TAPE_SCHEMA

ORG_FILE_NAME = "org_units.csv"
TAPE_DIR_NAME = "tape"
# Poisson noise on new lending: an xlsx book is refused when its expected rows come this close.
_XLSX_MARGIN = 1.02

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SynthResult:
    """What ``generate()`` wrote and how much of it."""

    out_dir: Path
    org_file: Path
    tape_files: list[Path]  # one per month, in month order
    customer_file: Path | None  # the cn-core customer master; None for the canonical layout
    loans: int  # distinct loans in the files: the opening book plus new lending
    rows: int  # rows in all tape files together
    households: int  # distinct borrowers


def generate(
    out_dir: Path,
    *,
    profile: str = "huaibei",
    layout: str = CANONICAL,
    seed: int = 20191231,
    loans: int | None = None,
    start: date = date(2018, 1, 31),
    months: int = 24,
    file_format: str = "csv",
    progress: Progress | None = None,
) -> SynthResult:
    """Write ``out_dir/org_units.csv`` and ``out_dir/tape/YYYY-MM.<ext>`` for each month.

    ``loans`` is the number of loans on the book in the first month (the profile's default when
    None); new loans are lent every later month on top. The same arguments always give the same
    bytes. Existing files of the same names are replaced; other files are left alone.
    """
    chosen = _profile(profile)
    _check_choice("layout", layout, LAYOUTS)
    _check_choice("file format", file_format, FILE_FORMATS)
    opening = chosen.default_loans if loans is None else loans
    if opening < 1:
        raise UsageError(f"loans must be at least 1, not {opening}")
    if months < 1:
        raise UsageError(f"months must be at least 1, not {months}")
    if seed < 0:
        raise UsageError(f"seed must not be negative, not {seed}")
    first = month_end(start)
    if file_format == "xlsx":
        _check_fits_excel(chosen, opening, first, months)

    out_dir = Path(out_dir)
    tape_dir = out_dir / TAPE_DIR_NAME
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"cannot write into {out_dir}: it is a file, not a folder")
    try:
        tape_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot write into {out_dir}: {exc.strerror or exc}") from exc
    org_file = out_dir / ORG_FILE_NAME
    write_org_file(org_file, chosen.org)

    cn_core = layout == CN_CORE
    schema = CN_CORE_SCHEMA if cn_core else TAPE_SCHEMA
    encoding = CN_CORE_ENCODING if cn_core else "utf-8"
    render: Callable[[MonthRows, tuple[str, ...]], pa.Table] = (
        cn_core_table if cn_core else canonical_table
    )
    products = chosen.product_codes()
    blocks = block_sizes(opening)
    total_steps = len(blocks) * months
    done = 0
    loan_count = households = 0
    customer_file: Path | None = None
    with WriterSet() as writers:
        tape_writers = [
            writers.add(
                open_writer(
                    tape_dir / f"{month_label(shift_month_end(first, offset))}.{file_format}",
                    schema,
                    file_format,
                    encoding=encoding,
                )
            )
            for offset in range(months)
        ]
        customer_writer: TableWriter | None = None
        if cn_core:
            customer_file = out_dir / f"{CN_CUSTOMER_FILE_STEM}.{file_format}"
            customer_writer = writers.add(
                open_writer(customer_file, CN_CUSTOMER_SCHEMA, file_format, encoding=encoding)
            )
        if progress is not None:
            progress(0, total_steps)
        for block, size in enumerate(blocks):
            book = BlockBook(
                chosen, seed=seed, block=block, opening=size, start=first, months=months
            )
            loan_count += book.size
            households += len(book.borrowers)
            if customer_writer is not None:
                customer_writer.write(cn_customer_table(book.borrowers))
            for writer, rows in zip(tape_writers, book.rows(), strict=True):
                writer.write(render(rows, products))
                done += 1
                if progress is not None:
                    progress(done, total_steps)
            # Free this block before the next one is drawn: memory holds one block at a time.
            del book, rows
    return SynthResult(
        out_dir=out_dir,
        org_file=org_file,
        tape_files=[writer.path for writer in tape_writers],
        customer_file=customer_file,
        loans=loan_count,
        rows=sum(writer.rows for writer in tape_writers),
        households=households,
    )


def block_sizes(opening: int) -> list[int]:
    """Opening loans per block: as equal as possible, none above ``BLOCK_LOANS``."""
    count = math.ceil(opening / BLOCK_LOANS)
    base, extra = divmod(opening, count)
    return [base + 1 if block < extra else base for block in range(count)]


def expected_loans(profile: Profile, opening: int, first: date, months: int) -> float:
    """The opening book plus the new loans expected over ``months`` months from ``first``."""
    return opening * (1.0 + sum(new_lending_rates(profile, month_index(first), months)))


def _profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise UsageError(
            f"unknown profile {name!r}: expected one of {', '.join(sorted(PROFILES))}"
        ) from None


def _check_choice(what: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UsageError(f"unknown {what} {value!r}: expected one of {', '.join(choices)}")


def _check_fits_excel(profile: Profile, opening: int, first: date, months: int) -> None:
    """Refuse up front an xlsx book whose last month could pass Excel's sheet limit."""
    worst_month = expected_loans(profile, opening, first, months) * _XLSX_MARGIN
    if worst_month > XLSX_MAX_DATA_ROWS:
        raise UsageError(
            f"an xlsx sheet holds at most {XLSX_MAX_DATA_ROWS:,} rows, and {opening:,} opening "
            f"loans over {months} months may reach {math.ceil(worst_month):,}: "
            "use --format csv or parquet, or fewer loans"
        )
