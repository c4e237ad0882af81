"""Synthetic people: ID numbers with a correct check character, phones, names, credit codes."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from npldesk.synth import people

# GB 11643-1999, written out here rather than imported, so the test checks the module.
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"


def _by_definition(first17: str) -> str:
    """ISO 7064 MOD 11-2: the character whose value makes the weighted sum ≡ 1 (mod 11)."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK[total % 11]


@pytest.mark.parametrize(
    "id_number",
    [
        "11010519491231002X",  # the example of GB 11643-1999
        "440524188001010014",  # the other example of the standard
        # Worked by hand: 3·7+4·9+0·10+6·5+0·8+3·4+1·2+9·1+8·6+5·3+0·7+3·9+1·10+5·5+0·8+1·4+2·2
        # = 21+36+0+30+0+12+2+9+48+15+0+27+10+25+0+4+4 = 243 = 22·11 + 1 → CHECK[1] = "0".
        "340603198503150120",
    ],
)
def test_id_check_digit_of_valid_ids(id_number: str) -> None:
    assert people.id_check_digit(id_number[:17]) == id_number[17]


def test_full_id_passes_iso_7064() -> None:
    """With the check character as 10 for X, Σ digit·2^(17-i) over all 18 is ≡ 1 (mod 11)."""
    for id_number in ("11010519491231002X", "340603198503150120"):
        values = [10 if c == "X" else int(c) for c in id_number]
        assert sum(v * pow(2, 17 - i, 11) for i, v in enumerate(values)) % 11 == 1


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_id_check_digit_matches_the_definition(first17: str) -> None:
    assert people.id_check_digit(first17) == _by_definition(first17)


@pytest.mark.parametrize("bad", ["", "1234", "1101051949123100X", "110105194912310021"])
def test_id_check_digit_refuses_bad_input(bad: str) -> None:
    with pytest.raises(ValueError, match="17 digits"):
        people.id_check_digit(bad)


def test_generated_ids_names_and_phones() -> None:
    rng = np.random.default_rng(5)
    regions = np.array([340602, 340603, 340604, 340621] * 250, dtype=np.int64)
    ids = people.id_numbers(rng, regions, np.datetime64("2018-01-01")).to_pylist()
    assert len(set(ids)) > 990
    for id_number, region in zip(ids, regions, strict=True):
        assert id_number[:6] == str(region)
        assert _by_definition(id_number[:17]) == id_number[17]
        birth_year = int(id_number[6:10])
        assert 1952 <= birth_year <= 1996
    assert all(re.fullmatch(r"1[358]\d{9}", p) for p in people.mobile_numbers(rng, 500).to_pylist())
    landlines = people.landline_numbers(rng, 50, "0561").to_pylist()
    assert all(re.fullmatch(r"0561-[2-8]\d{6}", p) for p in landlines)
    names = people.person_names(rng, 500).to_pylist()
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", name) for name in names)
    assert names[0][0] in people.SURNAMES
    companies = people.company_names(rng, 50).to_pylist()
    assert all(name.startswith("淮北") and name.endswith("公司") for name in companies)


def test_credit_codes_carry_both_check_characters() -> None:
    # A published example of GB 32100-2015.
    assert people.uscc_check_char("91350100M000100Y4") == "3"
    rng = np.random.default_rng(9)
    codes = people.credit_codes(rng, np.array([340600, 340621] * 50, dtype=np.int64)).to_pylist()
    for code in codes:
        assert re.fullmatch(r"91340(600|621)\d{8}[\dX][0-9A-HJ-NP-RTUWXY]", code)
        assert people.uscc_check_char(code[:17]) == code[17]
        weights = [3, 7, 9, 10, 5, 8, 4, 2]  # GB 11714-1997, the organisation code
        total = sum(int(d) * w for d, w in zip(code[8:16], weights, strict=True))
        assert code[16] == "0123456789X"[(11 - total % 11) % 11]
