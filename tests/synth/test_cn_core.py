"""The cn-core export: GB18030, Chinese headers and labels, and a lossless map back to canonical.

The round trip below is the one the import mapping relies on: read the export, convert every
column with the tables of ``npldesk.synth.layouts``, join the customer master by 客户号, and get
the canonical file of the same seed, row for row.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from npldesk.synth import SynthResult
from npldesk.synth.layouts import (
    CN_CORE_COLUMNS,
    CN_CORE_DATE_COLUMNS,
    CN_CORE_ENCODING,
    CN_CORE_PROVISION_UNIT,
    CN_CORE_THOUSANDS_COLUMNS,
    CN_CORE_VALUE_MAPS,
    CN_CUSTOMER_COLUMNS,
    reverse,
)
from npldesk.tape.schema import COLUMN_NAMES
from tests.synth.conftest import read_rows

# The headers as the brief for the lead's import mapping gives them; a change must be deliberate.
LOAN_HEADERS = [
    *("数据日期", "贷款账号", "客户号", "机构号", "客户经理", "产品名称", "放款日期", "到期日期"),
    *("合同金额", "贷款余额", "逾期本金", "欠息金额", "逾期天数", "五级分类", "重组标志"),
    *("重组日期", "减值标志", "担保方式", "押品价值", "保证人", "减值准备", "贷款状态", "退出金额"),
]
CUSTOMER_HEADERS = ["客户号", "客户名称", "证件号码", "联系电话", "客户类型"]
CN_TO_CANONICAL = {**CN_CORE_COLUMNS, **CN_CUSTOMER_COLUMNS}


def _to_canonical(column: str, text: str) -> str:
    """One cn-core value as the canonical CSV writes it."""
    if text == "":
        return ""
    if column in CN_CORE_DATE_COLUMNS:
        return datetime.strptime(text, "%Y%m%d").date().isoformat()
    if column in CN_CORE_THOUSANDS_COLUMNS:
        return text.replace(",", "")
    if column == "provision":
        yuan = Decimal(text) * CN_CORE_PROVISION_UNIT
        assert yuan == yuan.quantize(Decimal("0.01")), "万元 keep the amount exact to the fen"
        return f"{yuan.quantize(Decimal('0.01')):f}"
    if column in CN_CORE_VALUE_MAPS:
        return reverse(CN_CORE_VALUE_MAPS[column])[text]
    return text


def test_headers_and_encoding(cn_core_book: SynthResult) -> None:
    assert list(CN_CORE_COLUMNS) == LOAN_HEADERS
    assert list(CN_CUSTOMER_COLUMNS) == CUSTOMER_HEADERS
    for path in cn_core_book.tape_files:
        raw = path.read_bytes()
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")  # Chinese text in GB18030 is not valid UTF-8
        header, _ = read_rows(path, CN_CORE_ENCODING)
        assert header == LOAN_HEADERS
    assert cn_core_book.customer_file is not None
    assert cn_core_book.customer_file.name == "customers.csv"
    header, _ = read_rows(cn_core_book.customer_file, CN_CORE_ENCODING)
    assert header == CUSTOMER_HEADERS


def test_value_forms(cn_core_book: SynthResult) -> None:
    _, rows = read_rows(cn_core_book.tape_files[-1], CN_CORE_ENCODING)
    assert rows
    big = [row["贷款余额"] for row in rows if Decimal(row["贷款余额"].replace(",", "")) >= 1000]
    assert big
    assert all("," in value for value in big)  # thousands separators
    assert all(len(row["数据日期"]) == 8 and row["数据日期"].isdigit() for row in rows)
    assert {row["产品名称"] for row in rows} <= set(CN_CORE_VALUE_MAPS["product"].values())
    assert {row["五级分类"] for row in rows} <= {"", "正常", "关注", "次级", "可疑", "损失"}
    provision = [row["减值准备"] for row in rows]
    assert all(len(value.split(".")[1]) == 6 for value in provision)


def test_round_trip_to_canonical(canonical_book: SynthResult, cn_core_book: SynthResult) -> None:
    assert cn_core_book.customer_file is not None
    _, customers = read_rows(cn_core_book.customer_file, CN_CORE_ENCODING)
    by_id = {row["客户号"]: row for row in customers}
    assert len(by_id) == len(customers) == cn_core_book.households
    seen_borrowers: set[str] = set()
    compared = 0
    for cn_path, canonical_path in zip(
        cn_core_book.tape_files, canonical_book.tape_files, strict=True
    ):
        assert cn_path.stem == canonical_path.stem
        _, cn_rows = read_rows(cn_path, CN_CORE_ENCODING)
        _, canonical_rows = read_rows(canonical_path)
        assert len(cn_rows) == len(canonical_rows)
        for cn_row, canonical_row in zip(cn_rows, canonical_rows, strict=True):
            joined = {**cn_row, **by_id[cn_row["客户号"]]}
            mapped = {
                CN_TO_CANONICAL[header]: _to_canonical(CN_TO_CANONICAL[header], value)
                for header, value in joined.items()
            }
            assert set(mapped) == set(COLUMN_NAMES)
            assert mapped == canonical_row
            seen_borrowers.add(cn_row["客户号"])
            compared += 1
    assert compared == canonical_book.rows
    assert seen_borrowers == set(by_id), "one customer row per borrower that appears"
