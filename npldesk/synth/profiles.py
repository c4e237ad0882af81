"""Profiles: every parameter of a synthetic book in one frozen dataclass, so it can be tuned.

A profile says what the book holds (products, sizes, terms, collateral, borrowers, units) and how
it moves month by month (arrears, cures, prepayments, restructuring, write-offs, bulk transfers,
foreclosures, new lending). Probabilities are per loan and per month unless a name says otherwise.
The ``huaibei`` profile is calibrated roughly to the figures of the Huaibei branch article: on-book
balance about 4.6 billion yuan and NPL ratio about 0.64 % at 2019-12-31, NPL balance about
30.7 million (0.86 %) at 2018-12-31.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from npldesk.synth.org import HUAIBEI_ORG, OrgUnit

RETAIL = "retail"
NON_RETAIL = "non_retail"


@dataclass(frozen=True)
class ProductParams:
    """How loans of one product are drawn: who borrows, how much, for how long, against what."""

    code: str  # canonical ``product`` value
    borrower_type: str  # ``retail`` or ``non_retail``
    share: float  # share of loans by count, in the opening book and in new lending
    amount_median: float  # yuan; amounts are log-normal around it
    amount_sigma: float
    amount_min: float
    amount_max: float
    amount_step: float  # amounts are rounded to this many yuan
    terms: tuple[int, ...]  # contract terms in months
    term_weights: tuple[float, ...]
    bullet_share: float  # share repaying principal at maturity (interest monthly); rest annuity
    annual_rate: float
    risk: float  # multiplies the profile's monthly probability of missing a payment
    prepay: float  # monthly probability that a current loan is repaid early
    collateral: tuple[tuple[str, float], ...]  # (collateral_type, weight)
    max_age_months: int = 120  # opening book: oldest origination, in months before the start


@dataclass(frozen=True)
class Target:
    """A figure the profile is tuned to reach with its default size and seed (yuan)."""

    as_of: date
    balance: float  # on-book principal balance
    npl_balance: float  # on-book loans with dpd > 90 or reported substandard or worse
    source: str


@dataclass(frozen=True)
class Profile:
    """All parameters of one synthetic branch network."""

    name: str
    description: str
    org: tuple[OrgUnit, ...]
    products: tuple[ProductParams, ...]
    # ``loans`` = loans on the book in the first month; new lending comes on top.
    default_loans: int
    # New loans per month as a share of the opening book, by calendar year, times a multiplier
    # per calendar month (January first). In every ``*_by_year`` table the last year's value
    # holds for later years and the first year's for earlier ones.
    new_loans_by_year: tuple[tuple[int, float], ...]
    new_loans_seasonality: tuple[float, ...]
    # Borrowers: distribution of the number of loans per borrower (index 0 = one loan).
    loans_per_retail_borrower: tuple[float, ...]
    loans_per_company: tuple[float, ...]
    company_credit_code_share: float  # companies with a unified social credit code on file
    company_mobile_share: float  # companies whose contact is a mobile phone (else a landline)
    phone_area_code: str
    city_region_code: str  # GB/T 2260 code of the city, in companies' credit codes
    # Borrower frailty: gamma-distributed with mean 1 and this shape; multiplies ``miss``.
    frailty_shape: float
    # Arrears. A current loan misses a payment with probability ``miss`` × product risk ×
    # frailty × the year's factor; a loan in arrears by k instalments (k = 1, 2, 3) cures
    # (pays all arrears), pays one instalment, or rolls on (dpd grows by about 30).
    miss: float
    risk_by_year: tuple[tuple[int, float], ...]
    cure_by_arrears: tuple[float, float, float]
    partial_by_arrears: tuple[float, float, float]
    # Loans more than 90 days past due (NPL): monthly probabilities of each way out.
    npl_cure: float
    npl_partial: float
    npl_collect: float  # repaid in full (terminal ``repaid``)
    npl_write_off: float  # 91-360 dpd
    npl_write_off_loss: float  # > 360 dpd
    npl_foreclose: float  # secured loans (real estate, land, vehicle, equipment), > 180 dpd
    npl_transfer: float  # > 180 dpd, in bulk-sale months only
    transfer_months: tuple[int, ...]
    workout_by_year: tuple[tuple[int, float], ...]  # multiplies every NPL way out
    exit_part_cash_share: float  # exits where part of last month's balance was paid in cash
    # Restructuring: loans two or more instalments behind; the schedule restarts from the
    # balance with the remaining term (at least 12 months) plus ``restructure_extension``.
    restructure: float
    restructure_extension: int
    restructure_floor_substandard: float  # share graded substandard (else special mention)
    restructure_observation_months: int
    # The bank's own grade: per loan, a bias one class better (under-reporting) or worse.
    under_report_share: float
    over_report_share: float
    unrated_new_share: float  # new loans without a grade in their first month
    impaired_share: float  # loans > 90 dpd that the bank flags credit-impaired
    impaired_judgement_share: float  # loans flagged credit-impaired from 31 dpd on
    provision_rates: tuple[float, float, float, float, float]  # by class, normal … loss
    guarantor_share_secured: float  # secured loans that also have a guarantor
    # Opening book: share of loans behind by 1, 2, 3 months, and more than 3 months (NPL, with
    # the months behind drawn as 4 + geometric with the given mean).
    opening_arrears: tuple[float, float, float]
    opening_npl_share: float
    opening_npl_extra_months: float
    opening_restructured_share: float
    targets: tuple[Target, ...] = ()

    def product_codes(self) -> tuple[str, ...]:
        """The canonical product values, in profile order (the product index of a loan)."""
        return tuple(product.code for product in self.products)


def by_year(pairs: tuple[tuple[int, float], ...], year: int) -> float:
    """The value of the latest pair not after ``year``; the earliest pair's before them all."""
    ordered = sorted(pairs)
    if not ordered:
        return 1.0
    value = ordered[0][1]
    for pair_year, pair_value in ordered:
        if pair_year <= year:
            value = pair_value
    return value


def new_lending_rates(profile: Profile, first_month: int, months: int) -> list[float]:
    """New loans per month as a share of the opening book, for months ``0 … months - 1``.

    ``first_month`` is an absolute month index (``year * 12 + month - 1``); month 0 lends
    nothing, its lending being part of the opening book.
    """
    rates = [0.0]
    for offset in range(1, months):
        year, calendar_month = divmod(first_month + offset, 12)
        rates.append(
            by_year(profile.new_loans_by_year, year) * profile.new_loans_seasonality[calendar_month]
        )
    return rates


HUAIBEI = Profile(
    name="huaibei",
    description="A city branch of a large retail bank in northern Anhui, 2018-2019",
    org=HUAIBEI_ORG,
    products=(
        ProductParams(
            code="personal_business",
            borrower_type=RETAIL,
            share=0.24,
            amount_median=125_000,
            amount_sigma=0.7,
            amount_min=30_000,
            amount_max=1_000_000,
            amount_step=1_000,
            terms=(12, 24, 36),
            term_weights=(0.5, 0.3, 0.2),
            bullet_share=0.6,
            annual_rate=0.065,
            risk=1.6,
            prepay=0.012,
            collateral=(
                ("real_estate", 0.45),
                ("guarantee_only", 0.35),
                ("none", 0.15),
                ("other", 0.05),
            ),
        ),
        ProductParams(
            code="consumer",
            borrower_type=RETAIL,
            share=0.30,
            amount_median=34_000,
            amount_sigma=0.8,
            amount_min=5_000,
            amount_max=300_000,
            amount_step=100,
            terms=(12, 24, 36, 60),
            term_weights=(0.3, 0.3, 0.3, 0.1),
            bullet_share=0.0,
            annual_rate=0.07,
            risk=1.0,
            prepay=0.015,
            collateral=(
                ("none", 0.7),
                ("vehicle", 0.2),
                ("deposit", 0.05),
                ("guarantee_only", 0.05),
            ),
        ),
        ProductParams(
            code="mortgage",
            borrower_type=RETAIL,
            share=0.23,
            amount_median=335_000,
            amount_sigma=0.5,
            amount_min=100_000,
            amount_max=2_000_000,
            amount_step=1_000,
            terms=(120, 180, 240, 300, 360),
            term_weights=(0.1, 0.15, 0.25, 0.2, 0.3),
            bullet_share=0.0,
            annual_rate=0.052,
            risk=0.3,
            prepay=0.006,
            collateral=(("real_estate", 1.0),),
        ),
        ProductParams(
            code="agricultural",
            borrower_type=RETAIL,
            share=0.20,
            amount_median=50_000,
            amount_sigma=0.6,
            amount_min=10_000,
            amount_max=500_000,
            amount_step=1_000,
            terms=(12, 24, 36),
            term_weights=(0.6, 0.3, 0.1),
            bullet_share=0.7,
            annual_rate=0.068,
            risk=1.3,
            prepay=0.008,
            collateral=(
                ("guarantee_only", 0.5),
                ("none", 0.2),
                ("land_use_right", 0.2),
                ("real_estate", 0.1),
            ),
        ),
        ProductParams(
            code="small_business",
            borrower_type=NON_RETAIL,
            share=0.03,
            amount_median=840_000,
            amount_sigma=0.8,
            amount_min=200_000,
            amount_max=10_000_000,
            amount_step=10_000,
            terms=(12, 24, 36),
            term_weights=(0.6, 0.3, 0.1),
            bullet_share=0.6,
            annual_rate=0.058,
            risk=1.4,
            prepay=0.008,
            collateral=(
                ("real_estate", 0.5),
                ("guarantee_only", 0.2),
                ("equipment", 0.15),
                ("deposit", 0.05),
                ("land_use_right", 0.05),
                ("other", 0.05),
            ),
        ),
    ),
    default_loans=22_000,
    new_loans_by_year=((2017, 0.045), (2019, 0.05)),
    new_loans_seasonality=(1.5, 0.8, 1.4, 1.1, 1.0, 1.0, 0.9, 0.9, 1.0, 0.8, 0.8, 0.8),
    loans_per_retail_borrower=(0.86, 0.11, 0.03),
    loans_per_company=(0.45, 0.25, 0.15, 0.1, 0.05),
    company_credit_code_share=0.9,
    company_mobile_share=0.4,
    phone_area_code="0561",
    city_region_code="340600",
    frailty_shape=0.6,
    miss=0.0105,
    risk_by_year=((2018, 0.76), (2019, 0.96)),
    cure_by_arrears=(0.55, 0.35, 0.25),
    partial_by_arrears=(0.1, 0.1, 0.1),
    npl_cure=0.03,
    npl_partial=0.05,
    npl_collect=0.02,
    npl_write_off=0.03,
    npl_write_off_loss=0.08,
    npl_foreclose=0.03,
    npl_transfer=0.25,
    transfer_months=(6, 12),
    workout_by_year=((2018, 1.0), (2019, 1.3)),
    exit_part_cash_share=0.25,
    restructure=0.01,
    restructure_extension=12,
    restructure_floor_substandard=0.4,
    restructure_observation_months=12,
    under_report_share=0.03,
    over_report_share=0.01,
    unrated_new_share=0.1,
    impaired_share=0.85,
    impaired_judgement_share=0.002,
    provision_rates=(0.015, 0.03, 0.3, 0.6, 1.0),
    guarantor_share_secured=0.1,
    opening_arrears=(0.008, 0.003, 0.0015),
    opening_npl_share=0.0052,
    opening_npl_extra_months=8.0,
    opening_restructured_share=0.003,
    # Calibrated with scripts/calibrate_huaibei.py so that the default book (seed 20191231),
    # classified by cn-2023, gives the article's headline for 2019-12 against 2018-12.
    targets=(
        # The article gives 29.57 million and 0.64 % at 2019-12-31, down 1.15 million and
        # 0.22 points from the start of the year: 30.72 million and 0.86 % at 2018-12-31.
        Target(date(2018, 12, 31), 30_720_000 / 0.0086, 30_720_000, "article, start of 2019"),
        Target(date(2019, 12, 31), 29_570_000 / 0.0064, 29_570_000, "article, end of 2019"),
    ),
)

PROFILES: dict[str, Profile] = {HUAIBEI.name: HUAIBEI}
