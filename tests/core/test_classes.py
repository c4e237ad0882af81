import pytest

from npldesk.core.classes import CLASS_ORDER, NPL_CLASSES, LoanClass, worst


def test_order_and_npl():
    assert [c.value for c in CLASS_ORDER] == [
        "normal",
        "special_mention",
        "substandard",
        "doubtful",
        "loss",
    ]
    assert {LoanClass.SUBSTANDARD, LoanClass.DOUBTFUL, LoanClass.LOSS} == NPL_CLASSES
    assert not LoanClass.SPECIAL_MENTION.is_npl
    assert LoanClass.NORMAL.rank < LoanClass.LOSS.rank


def test_worst_takes_the_later_class_and_ignores_missing():
    assert worst(LoanClass.NORMAL, LoanClass.DOUBTFUL, None) is LoanClass.DOUBTFUL
    assert worst(LoanClass.LOSS) is LoanClass.LOSS
    with pytest.raises(ValueError, match="at least one"):
        worst(None)


def test_labels_both_ways():
    assert LoanClass.from_label("次级") is LoanClass.SUBSTANDARD
    assert LoanClass.from_label("loss").label_zh == "损失"
    with pytest.raises(ValueError, match="not a loan class"):
        LoanClass.from_label("bad")
