from datetime import date

import pytest

from npldesk.core.months import (
    MonthError,
    add_months,
    is_month_end,
    month_end,
    month_label,
    month_range,
    months_between,
    parse_month,
    previous_december,
    previous_month_end,
    shift_month_end,
)


def test_parse_month_accepts_month_and_month_end():
    assert parse_month("2019-12") == date(2019, 12, 31)
    assert parse_month("2020-02") == date(2020, 2, 29)
    assert parse_month("2019-02-28") == date(2019, 2, 28)


@pytest.mark.parametrize("bad", ["2019-13", "2019-2", "201912", "2019-02-27", "2019-02-30", "x"])
def test_parse_month_rejects_other_forms(bad):
    with pytest.raises(MonthError):
        parse_month(bad)


def test_month_arithmetic():
    assert month_end(date(2019, 2, 3)) == date(2019, 2, 28)
    assert is_month_end(date(2020, 2, 29)) and not is_month_end(date(2020, 2, 28))
    assert previous_month_end(date(2019, 3, 31)) == date(2019, 2, 28)
    assert previous_month_end(date(2019, 1, 31)) == date(2018, 12, 31)
    assert shift_month_end(date(2019, 2, 28), 1) == date(2019, 3, 31)
    assert add_months(date(2019, 1, 31), 1) == date(2019, 2, 28)  # clamped to the month's end
    assert add_months(date(2018, 6, 15), 12) == date(2019, 6, 15)
    assert add_months(date(2019, 3, 31), -13) == date(2018, 2, 28)
    assert previous_december(date(2019, 12, 31)) == date(2018, 12, 31)
    assert previous_december(date(2019, 1, 31)) == date(2018, 12, 31)
    assert months_between(date(2018, 1, 31), date(2019, 12, 31)) == 23
    assert month_label(date(2019, 12, 31)) == "2019-12"


def test_month_range_includes_both_ends():
    months = list(month_range(date(2018, 11, 30), date(2019, 2, 28)))
    assert months == [date(2018, 11, 30), date(2018, 12, 31), date(2019, 1, 31), date(2019, 2, 28)]
    assert list(month_range(date(2019, 2, 28), date(2019, 1, 31))) == []
