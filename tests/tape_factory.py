"""Factories for canonical loan-tape rows, organisation files and files in every format."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from npldesk.tape.schema import COLUMN_NAMES

ORG_ROWS = [
    {"code": "HB00", "name": "淮北分行", "parent_code": "", "level": "city_branch"},
    {"code": "HB01", "name": "濉溪县支行", "parent_code": "HB00", "level": "county_branch"},
    {"code": "HB0101", "name": "濉溪城关支行", "parent_code": "HB01", "level": "sub_branch"},
    {"code": "HB0102", "name": "百善支行", "parent_code": "HB01", "level": "sub_branch"},
    {"code": "HB02", "name": "相山区支行", "parent_code": "HB00", "level": "county_branch"},
    {"code": "HB0201", "name": "相山路支行", "parent_code": "HB02", "level": "sub_branch"},
]

# Valid synthetic ID numbers (MOD 11-2 check digits computed for these made-up people).
ID_NUMBERS = ["340602198001010017", "340603198502150022", "34062119701231001X"]


def loan_row(n: int = 1, as_of: date = date(2019, 12, 31), **overrides: Any) -> dict[str, str]:
    """A valid canonical row as text; ``overrides`` replace any column."""
    row = {
        "as_of": as_of.isoformat(),
        "loan_id": f"L{n:06d}",
        "borrower_id": f"B{n:06d}",
        "borrower_name": "张三",
        "id_number": ID_NUMBERS[n % len(ID_NUMBERS)],
        "phone": "13800000000",
        "borrower_type": "retail",
        "org_unit": "HB0101",
        "officer_id": "HB0101-01",
        "product": "consumer",
        "origination_date": "2018-03-15",
        "maturity_date": "2023-03-15",
        "original_amount": "100000.00",
        "principal_balance": "80000.00",
        "overdue_principal": "0.00",
        "overdue_interest": "0.00",
        "days_past_due": "0",
        "reported_class": "normal",
        "restructured": "false",
        "restructure_date": "",
        "credit_impaired": "false",
        "collateral_type": "none",
        "collateral_value": "",
        "guarantor_ids": "",
        "provision": "1000.00",
        "status": "active",
        "exit_amount": "",
    }
    row.update({k: "" if v is None else str(v) for k, v in overrides.items()})
    return row


def loan_rows(
    count: int, as_of: date = date(2019, 12, 31), **overrides: Any
) -> list[dict[str, str]]:
    return [loan_row(n, as_of, **overrides) for n in range(1, count + 1)]


def write_csv(
    path: Path,
    rows: Iterable[dict[str, str]],
    *,
    columns: Sequence[str] = COLUMN_NAMES,
    encoding: str = "utf-8",
    header: bool = True,
    delimiter: str = ",",
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(
            handle,
            fieldnames=list(columns),
            delimiter=delimiter,
            extrasaction="ignore",
            lineterminator="\n",
        )
        if header:
            writer.writeheader()
        writer.writerows(rows)
    return path


def write_org(path: Path, rows: Iterable[dict[str, str]] = ORG_ROWS) -> Path:
    return write_csv(path, rows, columns=["code", "name", "parent_code", "level"])
