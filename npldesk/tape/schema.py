"""The canonical loan-tape columns, version 1 (``docs/tape.md``).

One ``Column`` per canonical column: its storage type, whether it is required, its allowed
values and its default. The importer, the synthetic generator and the analytics all read
this table, so a column is defined once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa

SCHEMA_VERSION = 1


class Kind(StrEnum):
    TEXT = "text"
    DATE = "date"
    MONEY = "money"
    INTEGER = "integer"
    BOOL = "bool"
    ENUM = "enum"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False
    choices: tuple[str, ...] = ()
    default: str | None = None
    personal: bool = False
    description: str = ""
    # Text: the most characters casework keeps (``npldesk/casework/models.py``); a longer value
    # is refused at import rather than cut short by one database and kept whole by another.
    max_length: int | None = None

    @property
    def sql_type(self) -> str:
        return _SQL_TYPES[self.kind]

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW_TYPES[self.kind]


_SQL_TYPES = {
    Kind.TEXT: "VARCHAR",
    Kind.ENUM: "VARCHAR",
    Kind.DATE: "DATE",
    Kind.MONEY: "DECIMAL(18,2)",
    Kind.INTEGER: "INTEGER",
    Kind.BOOL: "BOOLEAN",
}
_ARROW_TYPES = {
    Kind.TEXT: pa.string(),
    Kind.ENUM: pa.string(),
    Kind.DATE: pa.date32(),
    Kind.MONEY: pa.decimal128(18, 2),
    Kind.INTEGER: pa.int32(),
    Kind.BOOL: pa.bool_(),
}

CLASSES = ("normal", "special_mention", "substandard", "doubtful", "loss")
BORROWER_TYPES = ("retail", "non_retail")
COLLATERAL_TYPES = (
    "none",
    "real_estate",
    "vehicle",
    "deposit",
    "equipment",
    "land_use_right",
    "guarantee_only",
    "other",
)
STATUSES = ("active", "repaid", "written_off", "transferred", "foreclosed")
# Terminal rows whose exit goes through a non-cash route and so must say how much left that way.
EXIT_STATUSES = ("written_off", "transferred", "foreclosed")

COLUMNS: tuple[Column, ...] = (
    Column("as_of", Kind.DATE, required=True, description="Month-end date of the snapshot"),
    Column(
        "loan_id", Kind.TEXT, required=True, description="Unique within a snapshot", max_length=64
    ),
    Column(
        "borrower_id",
        Kind.TEXT,
        required=True,
        description="The household / customer",
        max_length=64,
    ),
    Column("borrower_name", Kind.TEXT, personal=True, max_length=200),
    Column("id_number", Kind.TEXT, personal=True, description="National ID number", max_length=32),
    Column("phone", Kind.TEXT, personal=True, max_length=200),
    Column("borrower_type", Kind.ENUM, choices=BORROWER_TYPES, default="retail"),
    Column(
        "org_unit",
        Kind.TEXT,
        required=True,
        description="Code of the holding unit",
        max_length=32,
    ),
    Column("officer_id", Kind.TEXT, max_length=64),
    Column("product", Kind.TEXT, required=True, max_length=40),
    Column("origination_date", Kind.DATE, required=True),
    Column("maturity_date", Kind.DATE, required=True),
    Column("original_amount", Kind.MONEY, required=True),
    Column("principal_balance", Kind.MONEY, required=True),
    Column("overdue_principal", Kind.MONEY, default="0"),
    Column("overdue_interest", Kind.MONEY, default="0"),
    Column("days_past_due", Kind.INTEGER, required=True),
    Column("reported_class", Kind.ENUM, choices=CLASSES),
    Column("restructured", Kind.BOOL, default="false"),
    Column("restructure_date", Kind.DATE),
    Column("credit_impaired", Kind.BOOL, default="false"),
    Column("collateral_type", Kind.ENUM, choices=COLLATERAL_TYPES, default="none"),
    Column("collateral_value", Kind.MONEY),
    Column("guarantor_ids", Kind.TEXT, description="Semicolon-separated borrower ids"),
    Column("provision", Kind.MONEY),
    Column("status", Kind.ENUM, choices=STATUSES, default="active"),
    Column("exit_amount", Kind.MONEY),
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
PERSONAL_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.personal)

TAPE_SCHEMA: pa.Schema = pa.schema(
    [pa.field(c.name, c.arrow_type, nullable=not c.required) for c in COLUMNS]
)

ORG_COLUMNS: tuple[str, ...] = ("code", "name", "parent_code", "level")
