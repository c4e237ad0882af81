"""Rows to Arrow tables, one function per layout: canonical (typed) and cn-core (Chinese text)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from npldesk.synth.book import Borrowers, MonthRows
from npldesk.synth.layouts import (
    BORROWER_TYPE_LABELS,
    CLASS_LABELS,
    CN_CORE_COLUMNS,
    CN_CORE_PROVISION_PLACES,
    CN_CUSTOMER_COLUMNS,
    COLLATERAL_LABELS,
    FLAG_LABELS,
    PRODUCT_LABELS,
    STATUS_LABELS,
)
from npldesk.synth.textarrays import compact_date_text, decimal_text, integer_text, labels
from npldesk.tape.schema import (
    BORROWER_TYPES,
    CLASSES,
    COLLATERAL_TYPES,
    COLUMN_NAMES,
    STATUSES,
    TAPE_SCHEMA,
)

CN_CORE_SCHEMA: pa.Schema = pa.schema([pa.field(name, pa.string()) for name in CN_CORE_COLUMNS])
CN_CUSTOMER_SCHEMA: pa.Schema = pa.schema(
    [pa.field(name, pa.string()) for name in CN_CUSTOMER_COLUMNS]
)


def money_array(fen: npt.NDArray[np.int64], valid: npt.NDArray[np.bool_] | None = None) -> pa.Array:
    """DECIMAL(18,2) yuan from integer fen, built from the buffers (exact, no float)."""
    words = np.zeros((len(fen), 2), dtype=np.int64)
    words[:, 0] = fen
    words[:, 1] = np.where(fen < 0, -1, 0)  # two's complement sign of the 128-bit value
    validity = None
    if valid is not None and not bool(valid.all()):
        validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(
        pa.decimal128(18, 2), len(fen), [validity, pa.py_buffer(words.tobytes())]
    )


def _dates(
    days: npt.NDArray[np.datetime64], valid: npt.NDArray[np.bool_] | None = None
) -> pa.Array:
    mask = None if valid is None else ~valid
    return pa.array(days.astype("datetime64[D]"), type=pa.date32(), mask=mask)


def canonical_table(rows: MonthRows, products: Sequence[str]) -> pa.Table:
    """The rows in the canonical columns with their storage types (``TAPE_SCHEMA``)."""
    count = len(rows)
    as_of = np.full(count, np.datetime64(rows.as_of, "D"))
    columns: dict[str, pa.Array] = {
        "as_of": _dates(as_of),
        "loan_id": rows.loan_id,
        "borrower_id": rows.borrower_id,
        "borrower_name": rows.borrower_name,
        "id_number": rows.id_number,
        "phone": rows.phone,
        "borrower_type": labels(BORROWER_TYPES, rows.borrower_type),
        "org_unit": rows.org_unit,
        "officer_id": rows.officer_id,
        "product": labels(products, rows.product),
        "origination_date": _dates(rows.origination_date),
        "maturity_date": _dates(rows.maturity_date),
        "original_amount": money_array(rows.original_amount),
        "principal_balance": money_array(rows.principal_balance),
        "overdue_principal": money_array(rows.overdue_principal),
        "overdue_interest": money_array(rows.overdue_interest),
        "days_past_due": pa.array(rows.days_past_due.astype(np.int32)),
        "reported_class": labels(CLASSES, rows.reported_class),
        "restructured": pa.array(rows.restructured),
        "restructure_date": _dates(rows.restructure_date, rows.restructured),
        "credit_impaired": pa.array(rows.credit_impaired),
        "collateral_type": labels(COLLATERAL_TYPES, rows.collateral_type),
        "collateral_value": money_array(rows.collateral_value, rows.collateral_value >= 0),
        "guarantor_ids": rows.guarantor_ids,
        "provision": money_array(rows.provision),
        "status": labels(STATUSES, rows.status),
        "exit_amount": money_array(rows.exit_amount, rows.exit_amount >= 0),
    }
    return pa.Table.from_arrays([columns[name] for name in COLUMN_NAMES], schema=TAPE_SCHEMA)


def _mapped(values: Sequence[str], mapping: dict[str, str]) -> list[str]:
    return [mapping[value] for value in values]


def _yuan(fen: npt.NDArray[np.int64]) -> pa.Array:
    valid = fen >= 0
    return decimal_text(np.maximum(fen, 0), 2, thousands=True, valid=valid)


def cn_core_table(rows: MonthRows, products: Sequence[str]) -> pa.Table:
    """The rows as a Chinese core-banking export: every column text (``CN_CORE_COLUMNS``)."""
    count = len(rows)
    flags = _mapped(("false", "true"), FLAG_LABELS)
    by_canonical: dict[str, pa.Array] = {
        "as_of": compact_date_text(np.full(count, np.datetime64(rows.as_of, "D"))),
        "loan_id": rows.loan_id,
        "borrower_id": rows.borrower_id,
        "org_unit": rows.org_unit,
        "officer_id": rows.officer_id,
        "product": labels(_mapped(products, PRODUCT_LABELS), rows.product),
        "origination_date": compact_date_text(rows.origination_date),
        "maturity_date": compact_date_text(rows.maturity_date),
        "original_amount": _yuan(rows.original_amount),
        "principal_balance": _yuan(rows.principal_balance),
        "overdue_principal": _yuan(rows.overdue_principal),
        "overdue_interest": _yuan(rows.overdue_interest),
        "days_past_due": integer_text(rows.days_past_due),
        "reported_class": labels(_mapped(CLASSES, CLASS_LABELS), rows.reported_class),
        "restructured": labels(flags, rows.restructured.astype(np.int64)),
        "restructure_date": compact_date_text(rows.restructure_date, rows.restructured),
        "credit_impaired": labels(flags, rows.credit_impaired.astype(np.int64)),
        "collateral_type": labels(
            _mapped(COLLATERAL_TYPES, COLLATERAL_LABELS), rows.collateral_type
        ),
        "collateral_value": _yuan(rows.collateral_value),
        "guarantor_ids": rows.guarantor_ids,
        "provision": decimal_text(rows.provision, CN_CORE_PROVISION_PLACES),
        "status": labels(_mapped(STATUSES, STATUS_LABELS), rows.status),
        "exit_amount": _yuan(rows.exit_amount),
    }
    return pa.Table.from_arrays(
        [by_canonical[column] for column in CN_CORE_COLUMNS.values()], schema=CN_CORE_SCHEMA
    )


def cn_customer_table(borrowers: Borrowers) -> pa.Table:
    """The customer master of the cn-core layout: one row per borrower (``CN_CUSTOMER_COLUMNS``)."""
    by_canonical: dict[str, pa.Array] = {
        "borrower_id": borrowers.borrower_id,
        "borrower_name": borrowers.name,
        "id_number": borrowers.id_number,
        "phone": borrowers.phone,
        "borrower_type": labels(
            _mapped(BORROWER_TYPES, BORROWER_TYPE_LABELS), borrowers.borrower_type
        ),
    }
    return pa.Table.from_arrays(
        [by_canonical[column] for column in CN_CUSTOMER_COLUMNS.values()],
        schema=CN_CUSTOMER_SCHEMA,
    )
