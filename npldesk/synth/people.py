"""Synthetic personal and company data: names, ID numbers, phones, credit codes. None is real.

Names are drawn from syllable lists; ID numbers follow the layout of GB 11643-1999 (region code,
birth date, sequence, ISO 7064 MOD 11-2 check character) and unified social credit codes that of
GB 32100-2015 (with its MOD 31 check character), so that validators accept them, but the people
and companies do not exist.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from npldesk.synth.textarrays import concat, digit_matrix, fixed_width_text, integer_text

# GB 11643-1999 §8.2: weights 2^(17-i) mod 11 and the check characters for sums mod 11.
ID_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
# GB 32100-2015: the 31 characters of a credit code and the weights 3^(i-1) mod 31.
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))
# GB 11714-1997: the organisation code's own check character over its first eight characters.
ORG_CODE_WEIGHTS: tuple[int, ...] = (3, 7, 9, 10, 5, 8, 4, 2)

# Frequent surnames, most frequent first (drawn with Zipf-like weights).
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史"
)
GIVEN_NAME_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国红文辉玉春梅海燕云飞鹏波斌"
    "宇浩凯健俊帆旭宁龙林欢佳阳雪琳晶倩婷玲丹萍鑫峰成志新金保德永福长庆荣东亮思雨晨"
)
COMPANY_BRAND_CHARS = "恒盛鑫华祥瑞宏达兴旺丰源泰安隆德金通利永昌嘉信诚远博亿和顺富康"
COMPANY_TRADES = (
    "建材",
    "商贸",
    "食品",
    "农业科技",
    "机械制造",
    "物流",
    "纺织",
    "煤炭贸易",
    "电子",
    "服装",
    "餐饮管理",
    "建筑工程",
    "养殖",
    "汽车销售",
    "医药",
    "包装",
)
COMPANY_SUFFIXES = ("有限公司", "有限责任公司", "股份有限公司")
COMPANY_SUFFIX_WEIGHTS = (0.7, 0.25, 0.05)
# Mobile prefixes of the three operators that start 13, 15 and 18.
MOBILE_PREFIXES: tuple[int, ...] = (
    *range(130, 140),
    *(150, 151, 152, 153, 155, 156, 157, 158, 159),
    *range(180, 190),
)


def id_check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of an ID number's first 17 digits (GB 11643)."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"an ID number starts with 17 digits, not {first17!r}")
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character of a unified social credit code's first 17 characters."""
    if len(first17) != 17 or any(char not in USCC_CHARS for char in first17):
        raise ValueError(f"not the start of a credit code: {first17!r}")
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def _ascii(text: str) -> npt.NDArray[np.uint8]:
    return np.frombuffer(text.encode("ascii"), dtype=np.uint8)


def _zipf_weights(count: int, exponent: float = 0.8) -> npt.NDArray[np.float64]:
    weights = 1.0 / np.arange(1, count + 1, dtype=np.float64) ** exponent
    return weights / weights.sum()


def _pick(values: Sequence[str], picks: npt.NDArray[np.int64]) -> pa.Array:
    return pa.array(list(values), pa.string()).take(pa.array(picks))


def person_names(rng: np.random.Generator, count: int) -> pa.Array:
    """Chinese personal names: a surname and one or two given-name characters."""
    surname = rng.choice(len(SURNAMES), size=count, p=_zipf_weights(len(SURNAMES)))
    first = rng.integers(0, len(GIVEN_NAME_CHARS), size=count)
    second = rng.integers(0, len(GIVEN_NAME_CHARS), size=count)
    two_characters = rng.random(count) < 0.65
    given_second = pa.array([*GIVEN_NAME_CHARS, ""], pa.string()).take(
        pa.array(np.where(two_characters, second, len(GIVEN_NAME_CHARS)))
    )
    return concat(_pick(SURNAMES, surname), _pick(GIVEN_NAME_CHARS, first), given_second)


def id_numbers(
    rng: np.random.Generator,
    region_codes: npt.NDArray[np.int64],
    reference: np.datetime64,
    *,
    min_age: int = 22,
    max_age: int = 65,
) -> pa.Array:
    """18-character ID numbers: region, birth date (age in range), sequence, check."""
    count = len(region_codes)
    age_days = rng.integers(min_age * 365 + 10, max_age * 365, size=count)
    birth = reference.astype("datetime64[D]") - age_days
    months = birth.astype("datetime64[M]")
    years = months.astype("datetime64[Y]").astype(np.int64) + 1970
    stamp = (
        years * 10_000
        + (months.astype(np.int64) % 12 + 1) * 100
        + (birth - months.astype("datetime64[D]")).astype(np.int64)
        + 1
    )
    sequence = rng.integers(0, 1000, size=count)
    first17 = region_codes * 10**11 + stamp * 1000 + sequence
    chars = np.empty((count, 18), dtype=np.uint8)
    chars[:, :17] = digit_matrix(first17, 17)
    weighted = (chars[:, :17].astype(np.int64) - ord("0")) @ np.array(ID_WEIGHTS, dtype=np.int64)
    chars[:, 17] = _ascii(ID_CHECK_CHARS)[weighted % 11]
    return fixed_width_text(chars)


def mobile_numbers(rng: np.random.Generator, count: int) -> pa.Array:
    """11-digit mobile numbers starting 13, 15 or 18."""
    prefix = np.array(MOBILE_PREFIXES, dtype=np.int64)[
        rng.integers(0, len(MOBILE_PREFIXES), size=count)
    ]
    return integer_text(prefix * 10**8 + rng.integers(0, 10**8, size=count))


def landline_numbers(rng: np.random.Generator, count: int, area_code: str) -> pa.Array:
    """Fixed-line numbers ``0561-3012345``: area code and seven digits starting 2-8."""
    local = rng.integers(2_000_000, 9_000_000, size=count)
    return concat(f"{area_code}-", integer_text(local))


def company_names(rng: np.random.Generator, count: int) -> pa.Array:
    """Company names ``淮北市恒盛建材有限公司``: place, two brand characters, trade, legal form."""
    brands = len(COMPANY_BRAND_CHARS)
    first = rng.integers(0, brands, size=count)
    second = (first + rng.integers(1, brands, size=count)) % brands
    place = np.where(rng.random(count) < 0.7, 0, 1)
    trade = rng.integers(0, len(COMPANY_TRADES), size=count)
    suffix = rng.choice(len(COMPANY_SUFFIXES), size=count, p=COMPANY_SUFFIX_WEIGHTS)
    return concat(
        _pick(("淮北市", "淮北"), place),
        _pick(COMPANY_BRAND_CHARS, first),
        _pick(COMPANY_BRAND_CHARS, second),
        _pick(COMPANY_TRADES, trade),
        _pick(COMPANY_SUFFIXES, suffix),
    )


def credit_codes(rng: np.random.Generator, region_codes: npt.NDArray[np.int64]) -> pa.Array:
    """18-character unified social credit codes ``91340600…``: type 91, region, org code, check."""
    count = len(region_codes)
    body = rng.integers(10_000_000, 100_000_000, size=count)
    body_digits = digit_matrix(body, 8).astype(np.int64) - ord("0")
    org_sum = body_digits @ np.array(ORG_CODE_WEIGHTS, dtype=np.int64)
    org_check = (11 - org_sum % 11) % 11  # 10 is written X
    org_check_chars = _ascii("0123456789X")[org_check]
    chars = np.empty((count, 18), dtype=np.uint8)
    chars[:, :2] = _ascii("91")
    chars[:, 2:8] = digit_matrix(region_codes, 6)
    chars[:, 8:16] = digit_matrix(body, 8)
    chars[:, 16] = org_check_chars
    lookup = np.full(128, -1, dtype=np.int64)
    lookup[_ascii(USCC_CHARS)] = np.arange(len(USCC_CHARS))
    values = lookup[chars[:, :17]]
    total = values @ np.array(USCC_WEIGHTS, dtype=np.int64)
    chars[:, 17] = _ascii(USCC_CHARS)[(31 - total % 31) % 31]
    return fixed_width_text(chars)
