"""The five loan classes (五级分类) and their order.

Source: 《商业银行金融资产风险分类办法》 (NFRA/PBoC Order 2023 No. 1), Art. 6 — normal, special
mention, substandard, doubtful, loss; the last three are non-performing (confirmed reading).
"""

from __future__ import annotations

from enum import StrEnum


class LoanClass(StrEnum):
    """One of the five regulatory classes; compare with ``rank``, combine with ``worst``."""

    NORMAL = "normal"
    SPECIAL_MENTION = "special_mention"
    SUBSTANDARD = "substandard"
    DOUBTFUL = "doubtful"
    LOSS = "loss"

    @property
    def rank(self) -> int:
        return _ORDER.index(self)

    @property
    def is_npl(self) -> bool:
        return self.rank >= _ORDER.index(LoanClass.SUBSTANDARD)

    @property
    def label_zh(self) -> str:
        return _LABELS_ZH[self]

    @classmethod
    def from_label(cls, label: str) -> LoanClass:
        """Accept the canonical English value or the Chinese label (正常/关注/次级/可疑/损失)."""
        for member in cls:
            if label in (member.value, member.label_zh):
                return member
        raise ValueError(f"not a loan class: {label!r}")


_ORDER = list(LoanClass)
_LABELS_ZH = {
    LoanClass.NORMAL: "正常",
    LoanClass.SPECIAL_MENTION: "关注",
    LoanClass.SUBSTANDARD: "次级",
    LoanClass.DOUBTFUL: "可疑",
    LoanClass.LOSS: "损失",
}
CLASS_ORDER: tuple[LoanClass, ...] = tuple(_ORDER)
NPL_CLASSES: frozenset[LoanClass] = frozenset(c for c in _ORDER if c.is_npl)


def worst(*classes: LoanClass | None) -> LoanClass:
    """The worse (later) of the given classes; ``None`` values are ignored."""
    present = [c for c in classes if c is not None]
    if not present:
        raise ValueError("worst() needs at least one class")
    return max(present, key=lambda c: c.rank)
