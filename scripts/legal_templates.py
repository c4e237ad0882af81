#!/usr/bin/env python3
"""Write the shipped legal-document templates from one text: a DOCX (docxtpl) and an HTML page
(for the PDF) per kind, into ``npldesk/casework/legaldocs/``.

    scripts/legal_templates.py

Both are Jinja templates over the same context (``npldesk.casework.legaldocs.document_context``),
so the DOCX and the PDF say the same thing. A bank replaces either by a file of the same name in
``<home>/legaldocs/``. Run this after changing the text below, and commit what it writes.
"""

from __future__ import annotations

import html
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

OUT = Path(__file__).resolve().parent.parent / "npldesk" / "casework" / "legaldocs"

# A block: (style, text[, condition]). Styles: title, p (paragraph), to (addressee, no indent),
# right (right-aligned), loans (the loan table), cut (the receipt slip's cut line),
# subtitle (a heading inside the document). The condition is a Jinja expression.
LOANS = ("loans", "")
OWED = (
    "p",
    "截至{{ as_of }}，上述借款尚欠本金人民币{{ total.principal }}元、利息（含罚息、复利）"
    "人民币{{ total.interest }}元，合计人民币{{ total.owed }}元（大写：{{ total.owed_words }}）。"
    "上述金额依据{{ snapshot_as_of }}的贷款数据，并已扣除其后收回的款项"
    "人民币{{ total.recovered_since }}元。",
)
INTEREST = (
    "p",
    "自{{ interest_from }}起，以尚欠本金为基数，按借款合同约定的利率（含罚息、复利）"
    "计算至实际清偿之日止的利息另计。",
)
GUARANTORS = (
    "p",
    "保证人：{% for g in guarantors %}{{ g.name }}（身份证号：{{ g.id_number }}）"
    "{% if not loop.last %}、{% endif %}{% endfor %}，对上述借款承担连带保证责任。",
    "guarantors",
)
COLLATERAL = (
    "p",
    "担保物：{% for c in collateral %}{{ c }}{% if not loop.last %}；{% endif %}{% endfor %}。",
    "collateral",
)

TEMPLATES: dict[str, list[tuple[str, ...]]] = {
    "lawyers_letter": [
        ("title", "律师函"),
        ("to", "{{ household.name }}（身份证号：{{ household.id_number }}）："),
        ("to", "地址：{{ household.address }}"),
        (
            "p",
            "{{ lawyer }}受{{ bank.legal_name }}（以下简称“贷款人”）委托，"
            "就您拖欠贷款人借款一事，郑重致函如下：",
        ),
        ("p", "您向贷款人借款，借款合同及借款情况如下："),
        LOANS,
        OWED,
        INTEREST,
        GUARANTORS,
        COLLATERAL,
        (
            "p",
            "请您于收到本函之日起{{ pay_within_days }}日内，向贷款人清偿上述全部欠款。"
            "逾期仍未清偿的，贷款人将依法提起诉讼，由此产生的诉讼费、保全费、律师费等费用"
            "将由您承担。",
        ),
        ("p", "贷款人地址：{{ bank.address }}{{ bank_phone }}。"),
        ("p", "特此函告。"),
        ("right", "{{ lawyer }}"),
        ("right", "{{ as_of }}"),
        ("small", "案件编号：{{ case_number }}"),
    ],
    "demand_notice": [
        ("title", "催收通知书"),
        ("to", "{{ household.name }}（身份证号：{{ household.id_number }}）："),
        ("to", "地址：{{ household.address }}"),
        ("p", "您在{{ bank.legal_name }}（以下简称“我行”）的下列借款已逾期："),
        LOANS,
        OWED,
        INTEREST,
        GUARANTORS,
        COLLATERAL,
        (
            "p",
            "请您于收到本通知书之日起{{ pay_within_days }}日内归还上述欠款。"
            "逾期不还的，我行将依法追究您的法律责任。",
        ),
        ("p", "我行地址：{{ bank.address }}{{ bank_phone }}。"),
        ("right", "{{ bank.legal_name }}（盖章）"),
        ("right", "{{ as_of }}"),
        ("cut", "（沿此线剪下，签收后交回我行）"),
        ("subtitle", "回　执"),
        (
            "p",
            "本人已收到{{ bank.legal_name }}于{{ as_of }}发出的催收通知书，知悉截至{{ as_of }}"
            "尚欠借款本金人民币{{ total.principal }}元、利息人民币{{ total.interest }}元，"
            "合计人民币{{ total.owed }}元。",
        ),
        ("to", "借款人（签字）：________________　　签收日期：______年____月____日"),
        ("small", "案件编号：{{ case_number }}"),
    ],
    "complaint": [
        ("title", "民事起诉状"),
        ("to", "原告：{{ bank.legal_name }}"),
        ("to", "住所：{{ bank.address }}"),
        ("to", "法定代表人（负责人）：{{ bank.legal_representative }}"),
        ("to", "被告：{{ household.name }}，身份证号：{{ household.id_number }}"),
        ("to", "住址：{{ household.address }}"),
        (
            "to",
            "{% for g in guarantors %}被告：{{ g.name }}（保证人），身份证号：{{ g.id_number }}"
            "{% if g.address %}，住址：{{ g.address }}{% endif %}{% if not loop.last %}；"
            "{% endif %}{% endfor %}",
            "guarantors",
        ),
        ("subtitle", "诉讼请求"),
        (
            "p",
            "一、判令被告{{ household.name }}偿还借款本金人民币{{ total.principal }}元、"
            "利息（含罚息、复利，暂计至{{ as_of }}）人民币{{ total.interest }}元，"
            "合计人民币{{ total.owed }}元；",
        ),
        (
            "p",
            "二、判令被告{{ household.name }}支付自{{ interest_from }}起以尚欠本金为基数、"
            "按借款合同约定的利率计算至实际清偿之日止的利息、罚息和复利；",
        ),
        ("p", "三、判令保证人对上述债务承担连带清偿责任；", "guarantors"),
        ("p", "四、判令原告对担保物折价或者拍卖、变卖所得价款享有优先受偿权；", "collateral"),
        ("p", "五、本案诉讼费、保全费等费用由被告承担。"),
        ("subtitle", "事实与理由"),
        ("p", "被告{{ household.name }}向原告借款，借款合同及借款情况如下："),
        LOANS,
        OWED,
        GUARANTORS,
        COLLATERAL,
        (
            "p",
            "借款到期后，被告未按约定履行还款义务，经原告多次催收仍未清偿。为维护原告的合法"
            "权益，依据《中华人民共和国民法典》第六百七十四条、第六百七十六条等规定，"
            "特向贵院提起诉讼，请依法判决。",
        ),
        ("to", "此致"),
        ("to", "{{ court }}"),
        ("right", "具状人：{{ bank.legal_name }}"),
        ("right", "{{ as_of }}"),
        ("small", "案件编号：{{ case_number }}（起诉状草稿，提交前请核对）"),
    ],
    "enforcement_application": [
        ("title", "强制执行申请书"),
        ("to", "申请执行人：{{ bank.legal_name }}"),
        ("to", "住所：{{ bank.address }}"),
        ("to", "法定代表人（负责人）：{{ bank.legal_representative }}"),
        ("to", "被执行人：{{ household.name }}，身份证号：{{ household.id_number }}"),
        ("to", "住址：{{ household.address }}"),
        (
            "to",
            "{% for g in guarantors %}被执行人：{{ g.name }}（保证人），身份证号：{{ g.id_number }}"
            "{% if not loop.last %}；{% endif %}{% endfor %}",
            "guarantors",
        ),
        ("subtitle", "申请事项"),
        (
            "p",
            "一、请求依法强制执行{{ court }}（{{ court_case_number }}）民事判决书，"
            "该判决于{{ judgment_effective_on }}发生法律效力；",
        ),
        (
            "p",
            "二、执行标的：被执行人尚欠本金人民币{{ total.principal }}元、利息人民币"
            "{{ total.interest }}元，合计人民币{{ total.owed }}元（暂计至{{ as_of }}），"
            "以及自{{ interest_from }}起至实际清偿之日止的利息和迟延履行期间的债务利息；",
        ),
        ("p", "三、执行费用由被执行人承担。"),
        ("subtitle", "事实与理由"),
        (
            "p",
            "申请执行人与被执行人借款合同纠纷一案，{{ court }}作出的（{{ court_case_number }}）"
            "民事判决书已发生法律效力。被执行人至今未履行判决确定的义务。借款情况如下：",
        ),
        LOANS,
        OWED,
        (
            "p",
            "依据《中华人民共和国民事诉讼法》的规定，特向贵院申请强制执行。",
        ),
        ("to", "此致"),
        ("to", "{{ court }}"),
        ("right", "申请执行人：{{ bank.legal_name }}"),
        ("right", "{{ as_of }}"),
        ("small", "案件编号：{{ case_number }}"),
    ],
}

LOAN_HEADS = [
    "合同编号",
    "借款日期",
    "到期日期",
    "借款金额（元）",
    "尚欠本金（元）",
    "尚欠利息（元）",
]
LOAN_CELLS = [
    "{{ loan.contract_number }}",
    "{{ loan.origination_date }}",
    "{{ loan.maturity_date }}",
    "{{ loan.original_amount }}",
    "{{ loan.principal }}",
    "{{ loan.interest }}",
]
FONT = "SimSun"


def _run_font(run: object, size: float | None = None, bold: bool = False) -> None:
    run.font.name = FONT  # type: ignore[attr-defined]
    run._element.rPr.rFonts.set(qn("w:eastAsia"), FONT)  # type: ignore[attr-defined]
    if size:
        run.font.size = Pt(size)  # type: ignore[attr-defined]
    run.font.bold = bold  # type: ignore[attr-defined]


def write_docx(kind: str, blocks: list[tuple[str, ...]]) -> None:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    style.font.size = Pt(12)

    def para(text: str, how: str) -> None:
        p = doc.add_paragraph()
        run = p.add_run(text)
        if how == "title":
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _run_font(run, 20, bold=True)
        elif how == "subtitle":
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _run_font(run, 14, bold=True)
        elif how == "right":
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _run_font(run)
        elif how == "cut":
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run.text = "- " * 12 + text + " -" * 12
            _run_font(run, 9)
        elif how == "small":
            _run_font(run, 9)
        else:
            if how == "p":
                p.paragraph_format.first_line_indent = Pt(24)
            _run_font(run)

    for block in blocks:
        how, text = block[0], block[1]
        condition = block[2] if len(block) > 2 else None
        if condition:
            doc.add_paragraph("{%p if " + condition + " %}")
        if how == "loans":
            table = doc.add_table(rows=4, cols=len(LOAN_HEADS))
            table.style = "Table Grid"
            for n, head in enumerate(LOAN_HEADS):
                cell = table.rows[0].cells[n]
                cell.text = head
                _run_font(cell.paragraphs[0].runs[0], 10, bold=True)
            table.rows[1].cells[0].text = "{%tr for loan in loans %}"
            for n, value in enumerate(LOAN_CELLS):
                cell = table.rows[2].cells[n]
                cell.text = value
                _run_font(cell.paragraphs[0].runs[0], 10)
                if n >= 3:
                    cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
            table.rows[3].cells[0].text = "{%tr endfor %}"
        else:
            para(text, how)
        if condition:
            doc.add_paragraph("{%p endif %}")
    doc.save(str(OUT / f"{kind}.docx"))


CSS = """@page { size: A4; margin: 25mm 22mm 22mm 25mm;
  @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt; color: #777; } }
html { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", serif; font-size: 12pt;
  line-height: 1.7; color: #000; }
h1 { text-align: center; font-size: 20pt; letter-spacing: 0.3em; margin: 0 0 18pt; }
h2 { text-align: center; font-size: 14pt; margin: 14pt 0 6pt; }
p { margin: 0 0 6pt; }
p.p { text-indent: 2em; }
p.right { text-align: right; }
p.small { font-size: 9pt; color: #444; margin-top: 18pt; }
div.slip { break-inside: avoid; }
p.cut { text-align: center; font-size: 9pt; color: #444; border-top: 1px dashed #000;
  padding-top: 4pt; margin-top: 28pt; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 8pt; font-size: 9.5pt; }
th, td { border: 1px solid #000; padding: 2pt 4pt; white-space: nowrap; }
th { font-weight: bold; }
td.num { text-align: right; white-space: nowrap; }"""


def write_html(kind: str, blocks: list[tuple[str, ...]]) -> None:
    lines = [
        "<!DOCTYPE html>",
        '<html lang="zh-Hans"><head><meta charset="utf-8">',
        "<title>{{ title }}</title>",
        "<style>",
        CSS,
        "</style></head><body>",
    ]
    slip = False
    for block in blocks:
        how, text = block[0], block[1]
        condition = block[2] if len(block) > 2 else None
        if how == "cut":
            # The receipt slip stays whole, with its cut line, on one page.
            lines.append('<div class="slip">')
            slip = True
        if condition:
            lines.append("{% if " + condition + " %}")
        if how == "title":
            lines.append(f"<h1>{text}</h1>")
        elif how == "subtitle":
            lines.append(f"<h2>{text}</h2>")
        elif how == "loans":
            heads = "".join(f"<th>{html.escape(h)}</th>" for h in LOAN_HEADS)
            cells = "".join(
                f'<td class="num">{c}</td>' if n >= 3 else f"<td>{c}</td>"
                for n, c in enumerate(LOAN_CELLS)
            )
            lines.append(f"<table><thead><tr>{heads}</tr></thead><tbody>")
            lines.append("{% for loan in loans %}<tr>" + cells + "</tr>{% endfor %}")
            lines.append("</tbody></table>")
        else:
            lines.append(f'<p class="{how}">{text}</p>')
        if condition:
            lines.append("{% endif %}")
    if slip:
        lines.append("</div>")
    lines.append("</body></html>")
    (OUT / f"{kind}.html").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for kind, blocks in TEMPLATES.items():
        write_docx(kind, blocks)
        write_html(kind, blocks)
        print(f"wrote {kind}.docx and {kind}.html")


if __name__ == "__main__":
    main()
