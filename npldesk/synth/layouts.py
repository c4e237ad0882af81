"""The layouts the generator writes, and every label of the Chinese core-banking export.

``canonical`` writes the canonical columns as they are (``npldesk.tape.schema``). ``cn-core``
imitates a typical Chinese core-banking export: Chinese headers, ``%Y%m%d`` dates, amounts with
thousands separators, the provision in 万元, Chinese labels for the coded values, GB18030 CSV,
and the borrowers' personal data in a separate customer master joined by 客户号.

The import mapping for ``cn-core`` is written from the dicts below (headers and value maps); the
tests map the export back with them, so a change here shows up as a failing round trip.
"""

from __future__ import annotations

CANONICAL = "canonical"
CN_CORE = "cn-core"
LAYOUTS: tuple[str, ...] = (CANONICAL, CN_CORE)
FILE_FORMATS: tuple[str, ...] = ("csv", "parquet", "xlsx")

CN_CORE_ENCODING = "gb18030"
CN_CORE_DATE_FORMAT = "%Y%m%d"
# 减值准备 is given in 万元 (10,000 yuan) with six decimal places: exact to the fen.
CN_CORE_PROVISION_UNIT = 10_000
CN_CORE_PROVISION_PLACES = 6

# The monthly loan file: Chinese header → canonical column, in file order.
CN_CORE_COLUMNS: dict[str, str] = {
    "数据日期": "as_of",
    "贷款账号": "loan_id",
    "客户号": "borrower_id",
    "机构号": "org_unit",
    "客户经理": "officer_id",
    "产品名称": "product",
    "放款日期": "origination_date",
    "到期日期": "maturity_date",
    "合同金额": "original_amount",
    "贷款余额": "principal_balance",
    "逾期本金": "overdue_principal",
    "欠息金额": "overdue_interest",
    "逾期天数": "days_past_due",
    "五级分类": "reported_class",
    "重组标志": "restructured",
    "重组日期": "restructure_date",
    "减值标志": "credit_impaired",
    "担保方式": "collateral_type",
    "押品价值": "collateral_value",
    "保证人": "guarantor_ids",
    "减值准备": "provision",
    "贷款状态": "status",
    "退出金额": "exit_amount",
}

# The customer master (customers.<ext>): one row per borrower, joined to the loans by 客户号.
CN_CUSTOMER_COLUMNS: dict[str, str] = {
    "客户号": "borrower_id",
    "客户名称": "borrower_name",
    "证件号码": "id_number",
    "联系电话": "phone",
    "客户类型": "borrower_type",
}
CN_CUSTOMER_FILE_STEM = "customers"

# Canonical columns written as ``%Y%m%d`` dates and as amounts with thousands separators.
CN_CORE_DATE_COLUMNS: tuple[str, ...] = (
    "as_of",
    "origination_date",
    "maturity_date",
    "restructure_date",
)
CN_CORE_THOUSANDS_COLUMNS: tuple[str, ...] = (
    "original_amount",
    "principal_balance",
    "overdue_principal",
    "overdue_interest",
    "collateral_value",
    "exit_amount",
)

# Value maps: canonical value → Chinese label. Reverse them with ``reverse()`` to import.
PRODUCT_LABELS: dict[str, str] = {
    "personal_business": "个人经营贷款",
    "consumer": "个人消费贷款",
    "mortgage": "个人住房贷款",
    "agricultural": "农户贷款",
    "small_business": "小企业贷款",
}
CLASS_LABELS: dict[str, str] = {
    "normal": "正常",
    "special_mention": "关注",
    "substandard": "次级",
    "doubtful": "可疑",
    "loss": "损失",
}
FLAG_LABELS: dict[str, str] = {"true": "是", "false": "否"}
COLLATERAL_LABELS: dict[str, str] = {
    "none": "信用",
    "real_estate": "抵押-房产",
    "vehicle": "抵押-车辆",
    "deposit": "质押-存单",
    "equipment": "抵押-设备",
    "land_use_right": "抵押-土地使用权",
    "guarantee_only": "保证",
    "other": "其他",
}
STATUS_LABELS: dict[str, str] = {
    "active": "正常",
    "repaid": "结清",
    "written_off": "核销",
    "transferred": "转让",
    "foreclosed": "以物抵债",
}
BORROWER_TYPE_LABELS: dict[str, str] = {"retail": "个人", "non_retail": "对公"}

# Which value map applies to which canonical column of the cn-core files.
CN_CORE_VALUE_MAPS: dict[str, dict[str, str]] = {
    "product": PRODUCT_LABELS,
    "reported_class": CLASS_LABELS,
    "restructured": FLAG_LABELS,
    "credit_impaired": FLAG_LABELS,
    "collateral_type": COLLATERAL_LABELS,
    "status": STATUS_LABELS,
    "borrower_type": BORROWER_TYPE_LABELS,
}


def reverse(labels: dict[str, str]) -> dict[str, str]:
    """Chinese label → canonical value, for reading an export back."""
    return {label: value for value, label in labels.items()}
