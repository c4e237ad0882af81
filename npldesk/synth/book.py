"""The loan book: one block of loans drawn and moved month by month with NumPy arrays.

A block holds ``opening`` loans on the book in the first month plus the new loans its branch
network lends later (a Poisson number per month, in proportion to the block). Each loan repays on
a schedule (annuity, or interest monthly and principal at maturity); every month each loan on the
book draws one event: pay, miss, prepay, cure, pay one instalment, roll on, restructure, or, when
more than 90 days past due, leave through write-off, bulk transfer, foreclosure or collection.
Every quantity of a month is derived from a few state arrays (instalments paid, schedule), so
no Python code runs per loan. A block is independent of the others: its random streams come from
``SeedSequence(seed, spawn_key=(block,))``, and a book of any size is a sequence of blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from npldesk.core.months import month_end
from npldesk.synth import people
from npldesk.synth.org import region_codes_for, sub_branches
from npldesk.synth.profiles import NON_RETAIL, Profile, by_year, new_lending_rates
from npldesk.synth.textarrays import concat, integer_text
from npldesk.tape.schema import BORROWER_TYPES, CLASSES, COLLATERAL_TYPES, STATUSES

BLOCK_LOANS = 100_000
"""Opening loans per block: the unit of work and of memory. A block of this size peaks at about
200 MB over two months and 300 MB over 24 (its new lending grows it), beside the interpreter."""
# Loan ids are ``3406`` + four digits of block + seven of loan: a block holds fewer loans.
_MAX_BLOCK_SIZE = 10**7

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
DateArray = npt.NDArray[np.datetime64]

ACTIVE, REPAID, WRITTEN_OFF, TRANSFERRED, FORECLOSED = (
    STATUSES.index(name)
    for name in ("active", "repaid", "written_off", "transferred", "foreclosed")
)
RETAIL_CODE = BORROWER_TYPES.index("retail")
NON_RETAIL_CODE = BORROWER_TYPES.index(NON_RETAIL)

# Monthly events of a loan on the book.
PAY, MISS, PREPAY, CURE, PARTIAL, ROLL, RESTRUCTURE = range(7)
WRITE_OFF, TRANSFER, FORECLOSE, COLLECT = range(7, 11)
_EXIT_STATUS = {
    PREPAY: REPAID,
    COLLECT: REPAID,
    WRITE_OFF: WRITTEN_OFF,
    TRANSFER: TRANSFERRED,
    FORECLOSE: FORECLOSED,
}

# Days-past-due ladder of the five classes (metrics §1: > 0, > 90, > 270, > 360).
_DPD_CLASS_EDGES = np.array([0, 90, 270, 360], dtype=np.int64)
_FORECLOSABLE = np.isin(
    np.arange(len(COLLATERAL_TYPES)),
    [COLLATERAL_TYPES.index(c) for c in ("real_estate", "land_use_right", "vehicle", "equipment")],
)
_UNSECURED = np.isin(
    np.arange(len(COLLATERAL_TYPES)),
    [COLLATERAL_TYPES.index(c) for c in ("none", "guarantee_only")],
)
# Collateral value as a multiple of the loan amount (low, high), by collateral type.
_COVER = {
    "real_estate": (1.4, 2.5),
    "vehicle": (1.1, 1.5),
    "deposit": (1.0, 1.2),
    "equipment": (1.2, 2.0),
    "land_use_right": (1.3, 2.0),
    "other": (1.0, 2.0),
}
_MAX_MISS = 0.5
# Restructuring and exits dated within the month: at most this many days before month-end.
_DATE_SPREAD_DAYS = 25


def month_index(day: date) -> int:
    """Months since year 0: ``year * 12 + month - 1``."""
    return day.year * 12 + day.month - 1


def month_start(index: npt.ArrayLike) -> DateArray:
    """The first day of each absolute month index, as ``datetime64[D]``."""
    months = (np.asarray(index, dtype=np.int64) - 1970 * 12).astype("datetime64[M]")
    return months.astype("datetime64[D]")


def month_length(index: npt.ArrayLike) -> IntArray:
    """Days in each absolute month index."""
    indices = np.asarray(index, dtype=np.int64)
    return (month_start(indices + 1) - month_start(indices)).astype(np.int64)


def scheduled_balance(
    principal: FloatArray, term: IntArray, rate: FloatArray, bullet: BoolArray, paid: IntArray
) -> IntArray:
    """Principal outstanding (fen) after ``paid`` instalments of an annuity or a bullet loan."""
    instalments = np.clip(paid, 0, term)
    growth_term = (1.0 + rate) ** term
    annuity = principal * (growth_term - (1.0 + rate) ** instalments) / (growth_term - 1.0)
    remaining = np.where(bullet, np.where(instalments < term, principal, 0.0), annuity)
    return np.rint(remaining).astype(np.int64)


def dpd_class(days_past_due: IntArray) -> IntArray:
    """The class index (``CLASSES``) the days past due alone imply."""
    return np.searchsorted(_DPD_CLASS_EDGES, days_past_due, side="left").astype(np.int64)


@dataclass(frozen=True)
class Borrowers:
    """The borrowers (households and companies) of one block, in ``borrower_id`` order."""

    borrower_id: pa.Array
    name: pa.Array
    id_number: pa.Array
    phone: pa.Array
    borrower_type: IntArray  # index into BORROWER_TYPES

    def __len__(self) -> int:
        return len(self.borrower_type)


@dataclass(frozen=True)
class MonthRows:
    """The rows of one block at one month-end: canonical values as arrays, money in fen."""

    as_of: date
    loan_id: pa.Array
    borrower_id: pa.Array
    borrower_name: pa.Array
    id_number: pa.Array
    phone: pa.Array
    borrower_type: IntArray  # BORROWER_TYPES index
    org_unit: pa.Array
    officer_id: pa.Array
    product: IntArray  # index into the profile's products
    origination_date: DateArray
    maturity_date: DateArray
    original_amount: IntArray
    principal_balance: IntArray
    overdue_principal: IntArray
    overdue_interest: IntArray
    days_past_due: IntArray
    reported_class: IntArray  # CLASSES index, -1 for null
    restructured: BoolArray
    restructure_date: DateArray  # valid where ``restructured``
    credit_impaired: BoolArray
    collateral_type: IntArray  # COLLATERAL_TYPES index
    collateral_value: IntArray  # -1 for null
    guarantor_ids: pa.Array
    provision: IntArray
    status: IntArray  # STATUSES index
    exit_amount: IntArray  # -1 for null

    def __len__(self) -> int:
        return len(self.principal_balance)


@dataclass(frozen=True)
class _MonthState:
    """What one month's move leaves for every loan of the block (rows where ``present``)."""

    present: BoolArray
    status: IntArray
    principal_balance: IntArray
    overdue_principal: IntArray
    overdue_interest: IntArray
    days_past_due: IntArray
    reported_class: IntArray
    credit_impaired: BoolArray
    provision: IntArray
    exit_amount: IntArray


def _choice(rng: np.random.Generator, weights: npt.ArrayLike, size: int) -> IntArray:
    probabilities = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(probabilities), size=size, p=probabilities / probabilities.sum())


class BlockBook:
    """One block of the book: draws its borrowers and loans, then yields its rows month by month."""

    def __init__(
        self, profile: Profile, *, seed: int, block: int, opening: int, start: date, months: int
    ) -> None:
        self.profile = profile
        self.block = block
        self.months = months
        self.first_month = month_index(start)
        sequence = np.random.SeedSequence(seed, spawn_key=(block,))
        attributes_seed, events_seed = sequence.spawn(2)
        self._rng = np.random.Generator(np.random.PCG64(attributes_seed))
        self._events = np.random.Generator(np.random.PCG64(events_seed))
        self._draw_loans(opening)
        self._draw_borrowers()
        self._draw_terms()
        self._draw_opening_state(opening)

    # -- drawing the block ---------------------------------------------------------------------

    def _draw_loans(self, opening: int) -> None:
        """How many loans, when each first appears, and its product."""
        profile, rng = self.profile, self._rng
        rates = np.array(new_lending_rates(profile, self.first_month, self.months))
        new_loans = rng.poisson(opening * rates)
        self.first_t: IntArray = np.concatenate(
            [np.zeros(opening, dtype=np.int64), np.repeat(np.arange(self.months), new_loans)]
        )
        self.size = len(self.first_t)
        if self.size >= _MAX_BLOCK_SIZE:
            raise ValueError(f"a block of {self.size:,} loans is too large for its loan ids")
        self.product: IntArray = _choice(rng, [p.share for p in profile.products], self.size)

    def _draw_borrowers(self) -> None:
        """Group loans into borrowers, place each in a sub-branch and draw who they are."""
        profile, rng = self.profile, self._rng
        borrower_type = self._group_loans()
        count = len(borrower_type)
        units = sub_branches(profile.org)
        self._unit_codes = [unit.code for unit in units]
        unit = _choice(rng, [u.weight for u in units], count)
        officers_per_unit = np.array([u.officers for u in units], dtype=np.int64)
        officer_offsets = np.concatenate([[0], np.cumsum(officers_per_unit)[:-1]])
        self._officer_ids = [officer for u in units for officer in u.officer_ids()]
        officer = officer_offsets[unit] + rng.integers(0, officers_per_unit[unit])
        self.unit_of_loan = unit[self.borrower_of_loan]
        self.officer_of_loan = officer[self.borrower_of_loan]
        self.frailty: FloatArray = rng.gamma(
            profile.frailty_shape, 1.0 / profile.frailty_shape, size=count
        )

        # Residents mostly hold an ID of their own county, one in ten of elsewhere in the city.
        county_codes = [region_codes_for(profile.org, u) for u in units]
        widest = max(len(codes) for codes in county_codes)
        region_table = np.array(
            [[int(codes[i % len(codes)]) for i in range(widest)] for codes in county_codes]
        )
        region = region_table[unit, rng.integers(0, widest, count)]
        city_codes = np.unique(region_table)
        movers = rng.random(count) < 0.1
        region = np.where(movers, city_codes[rng.integers(0, len(city_codes), count)], region)

        retail = borrower_type == RETAIL_CODE
        persons, companies = int(retail.sum()), int((~retail).sum())
        company_region = np.where(
            rng.random(companies) < 0.5, int(profile.city_region_code), region[persons:]
        )
        credit_code = pc.if_else(
            pa.array(rng.random(companies) < profile.company_credit_code_share),
            people.credit_codes(rng, company_region),
            pa.scalar(None, pa.string()),
        )
        company_phone = pc.if_else(
            pa.array(rng.random(companies) < profile.company_mobile_share),
            people.mobile_numbers(rng, companies),
            people.landline_numbers(rng, companies, profile.phone_area_code),
        )
        reference = np.datetime64(_first_day(self.first_month), "D")
        self.borrowers = Borrowers(
            borrower_id=integer_text(10**12 + self.block * 10**8 + np.arange(count)),
            name=pa.concat_arrays(
                [people.person_names(rng, persons), people.company_names(rng, companies)]
            ),
            id_number=pa.concat_arrays(
                [people.id_numbers(rng, region[:persons], reference), credit_code]
            ),
            phone=pa.concat_arrays([people.mobile_numbers(rng, persons), company_phone]),
            borrower_type=borrower_type,
        )

    def _group_loans(self) -> IntArray:
        """Give every loan a borrower: retail borrowers first, then companies; their types."""
        profile, rng = self.profile, self._rng
        product_type = np.array(
            [BORROWER_TYPES.index(p.borrower_type) for p in profile.products], dtype=np.int64
        )
        loan_type = product_type[self.product]
        self.borrower_of_loan = np.zeros(self.size, dtype=np.int64)
        borrower_types: list[IntArray] = []
        offset = 0
        for type_code, per_borrower in (
            (RETAIL_CODE, profile.loans_per_retail_borrower),
            (NON_RETAIL_CODE, profile.loans_per_company),
        ):
            loans = rng.permutation(np.flatnonzero(loan_type == type_code))
            counts = _choice(rng, per_borrower, len(loans)) + 1
            # Enough borrowers to hold every loan; the last one may get fewer than drawn.
            borrowers = int(np.searchsorted(np.cumsum(counts), len(loans))) + 1 if len(loans) else 0
            owner = np.repeat(np.arange(borrowers), counts[:borrowers])[: len(loans)]
            self.borrower_of_loan[loans] = offset + owner
            borrower_types.append(np.full(borrowers, type_code, dtype=np.int64))
            offset += borrowers
        return np.concatenate(borrower_types)

    def _draw_terms(self) -> None:
        """Amount, term, repayment type, rate, collateral and guarantors of every loan."""
        profile, rng, size = self.profile, self._rng, self.size
        products = profile.products
        self.term = np.zeros(size, dtype=np.int64)
        amount = np.zeros(size, dtype=np.float64)
        collateral = np.zeros(size, dtype=np.int64)
        for index, product in enumerate(products):
            mask = self.product == index
            count = int(mask.sum())
            self.term[mask] = np.array(product.terms)[_choice(rng, product.term_weights, count)]
            drawn = product.amount_median * np.exp(
                product.amount_sigma * rng.standard_normal(count)
            )
            drawn = np.clip(drawn, product.amount_min, product.amount_max)
            amount[mask] = np.round(drawn / product.amount_step) * product.amount_step
            types = [COLLATERAL_TYPES.index(name) for name, _ in product.collateral]
            weights = [weight for _, weight in product.collateral]
            collateral[mask] = np.array(types)[_choice(rng, weights, count)]
        self.original_amount: IntArray = np.rint(amount * 100).astype(np.int64)
        self.bullet: BoolArray = (
            rng.random(size) < np.array([p.bullet_share for p in products])[self.product]
        )
        annual = np.array([p.annual_rate for p in products])[self.product]
        self.rate: FloatArray = (annual + rng.uniform(-0.005, 0.005, size)) / 12.0
        self.prepay: FloatArray = np.array([p.prepay for p in products])[self.product]
        self.max_age = np.array([p.max_age_months for p in products])[self.product]
        self.miss: FloatArray = (
            profile.miss
            * np.array([p.risk for p in products])[self.product]
            * self.frailty[self.borrower_of_loan]
        )
        self.collateral_type = collateral

        low = np.zeros(len(COLLATERAL_TYPES))
        high = np.zeros(len(COLLATERAL_TYPES))
        for name, (cover_low, cover_high) in _COVER.items():
            low[COLLATERAL_TYPES.index(name)] = cover_low
            high[COLLATERAL_TYPES.index(name)] = cover_high
        cover = rng.uniform(low[collateral], high[collateral])
        value = np.round(amount * cover / 100.0) * 100.0
        self.collateral_value = np.where(_UNSECURED[collateral], -1, np.rint(value * 100)).astype(
            np.int64
        )

        # Guarantors are other borrowers of the block: one or two for guaranteed loans, one for
        # some secured loans.
        guaranteed = collateral == COLLATERAL_TYPES.index("guarantee_only")
        guarantors = np.where(guaranteed, 1 + (rng.random(size) < 0.4), 0)
        guarantors = np.where(
            ~guaranteed
            & ~_UNSECURED[collateral]
            & (rng.random(size) < profile.guarantor_share_secured),
            1,
            guarantors,
        )
        borrower_count = len(self.borrowers)
        if borrower_count < 2:
            guarantors[:] = 0
        shift_first = rng.integers(1, max(borrower_count, 2), size)
        shift_second = rng.integers(1, max(borrower_count, 2), size)
        first = (self.borrower_of_loan + shift_first) % max(borrower_count, 1)
        second = (first + shift_second) % max(borrower_count, 1)
        second = np.where(second == self.borrower_of_loan, first, second)
        ids = self.borrowers.borrower_id
        first_id = ids.take(pa.array(first, mask=guarantors < 1))
        second_id = ids.take(pa.array(second, mask=(guarantors < 2) | (second == first)))
        # (Arrow's join with null_handling="skip" drops all-null rows, so join by hand.)
        self.guarantor_ids = pc.if_else(
            pc.is_valid(second_id), concat(first_id, ";", second_id), first_id
        )

        # Static flags of the bank's own grading.
        bias_draw = rng.random(size)
        self.grade_bias = np.where(
            bias_draw < profile.under_report_share,
            -1,
            np.where(bias_draw < profile.under_report_share + profile.over_report_share, 1, 0),
        )
        self.impaired_flag = rng.random(size) < profile.impaired_share
        self.judged_impaired = rng.random(size) < profile.impaired_judgement_share
        self.restructure_grade = np.where(
            rng.random(size) < profile.restructure_floor_substandard,
            CLASSES.index("substandard"),
            CLASSES.index("special_mention"),
        )
        self.unrated_first_month = rng.random(size) < profile.unrated_new_share
        self.provision_factor = rng.uniform(0.8, 1.2, size)

    def _draw_opening_state(self, opening: int) -> None:
        """Origination dates, schedules and the arrears of the opening book in its first month."""
        profile, rng, size = self.profile, self._rng, self.size
        opening_mask = np.arange(size) < opening
        # Months behind (D): the oldest unpaid instalment fell due D - 1 months before the start.
        draw = rng.random(size)
        edges = np.cumsum([*profile.opening_arrears, profile.opening_npl_share])
        behind = np.searchsorted(edges, draw, side="right") + 1  # 1..4, 5 = current
        npl_months = 3 + rng.geometric(1.0 / profile.opening_npl_extra_months, size)
        arrears = np.where(behind <= 3, behind, np.where(behind == 4, npl_months, 0))
        arrears = np.where(opening_mask, arrears, 0)
        span = np.minimum(self.term, self.max_age)
        age = np.where(opening_mask, arrears + rng.integers(0, span), 0)

        origination_month = self.first_month + self.first_t - age
        day = rng.integers(1, month_length(origination_month) + 1)
        self.origination_date: DateArray = month_start(origination_month) + (day - 1)
        self.due_day = np.minimum(day, 27)
        maturity_month = origination_month + self.term
        self.maturity_date: DateArray = month_start(maturity_month) + (
            np.minimum(day, month_length(maturity_month)) - 1
        )
        self.anchor = origination_month
        self.principal = self.original_amount.astype(np.float64)
        self.paid = age - arrears

        # Some opening loans were restructured within the last two years and perform again.
        self.restructured = np.zeros(size, dtype=bool)
        self.restructure_date = np.full(size, np.datetime64("NaT"), dtype="datetime64[D]")
        self.restructure_month = np.zeros(size, dtype=np.int64)
        chosen = (
            opening_mask
            & (arrears == 0)
            & (age >= 1)
            & (rng.random(size) < profile.opening_restructured_share)
        )
        lag = rng.integers(0, np.minimum(np.maximum(age, 1), 24))
        self._restructure(rng, chosen, self.first_month - lag, paid=lag)

        self.on_book = np.zeros(size, dtype=bool)
        self.balance = np.zeros(size, dtype=np.int64)
        self.days_past_due = np.zeros(size, dtype=np.int64)

    def _restructure(
        self,
        rng: np.random.Generator,
        chosen: BoolArray,
        month: IntArray,
        *,
        paid: IntArray | int,
    ) -> None:
        """Restart the schedule of the chosen loans in ``month`` from their balance then."""
        if not chosen.any():
            return
        # Instalments paid by that month stay paid; arrears are capitalised into the new schedule.
        paid_then = np.minimum(self.paid, np.clip(month - self.anchor, 0, self.term))
        balance = self._scheduled(paid_then)
        new_term = np.maximum(self.term - paid_then, 12) + self.profile.restructure_extension
        self.principal = np.where(chosen, balance.astype(np.float64), self.principal)
        self.term = np.where(chosen, new_term, self.term)
        self.anchor = np.where(chosen, month, self.anchor)
        self.paid = np.where(chosen, paid, self.paid)
        last_day = month_start(month + 1) - 1
        spread = rng.integers(0, _DATE_SPREAD_DAYS, chosen.shape)
        self.restructure_date = np.where(chosen, last_day - spread, self.restructure_date)
        self.restructure_month = np.where(chosen, month, self.restructure_month)
        self.restructured = self.restructured | chosen
        maturity_month = month + new_term
        self.maturity_date = np.where(
            chosen, month_start(maturity_month) + (self.due_day - 1), self.maturity_date
        )

    # -- moving the book -----------------------------------------------------------------------

    def rows(self) -> Iterator[MonthRows]:
        """The block's rows, month by month (loans on the book and this month's terminal rows)."""
        loan_id = integer_text(
            3406 * 10**11 + self.block * 10**7 + np.arange(self.size, dtype=np.int64)
        )
        borrowers = self.borrowers
        owner = pa.array(self.borrower_of_loan)
        borrower_id = borrowers.borrower_id.take(owner)
        borrower_name = borrowers.name.take(owner)
        id_number = borrowers.id_number.take(owner)
        phone = borrowers.phone.take(owner)
        borrower_type = borrowers.borrower_type[self.borrower_of_loan]
        org_unit = pa.array(self._unit_codes).take(pa.array(self.unit_of_loan))
        officer_id = pa.array(self._officer_ids).take(pa.array(self.officer_of_loan))
        for t in range(self.months):
            state = self._step(t)
            index = np.flatnonzero(state.present)
            take = pa.array(index)
            yield MonthRows(
                as_of=month_end(_first_day(self.first_month + t)),
                loan_id=loan_id.take(take),
                borrower_id=borrower_id.take(take),
                borrower_name=borrower_name.take(take),
                id_number=id_number.take(take),
                phone=phone.take(take),
                borrower_type=borrower_type[index],
                org_unit=org_unit.take(take),
                officer_id=officer_id.take(take),
                product=self.product[index],
                origination_date=self.origination_date[index],
                maturity_date=self.maturity_date[index],
                original_amount=self.original_amount[index],
                principal_balance=state.principal_balance[index],
                overdue_principal=state.overdue_principal[index],
                overdue_interest=state.overdue_interest[index],
                days_past_due=state.days_past_due[index],
                reported_class=state.reported_class[index],
                restructured=self.restructured[index],
                restructure_date=self.restructure_date[index],
                credit_impaired=state.credit_impaired[index],
                collateral_type=self.collateral_type[index],
                collateral_value=self.collateral_value[index],
                guarantor_ids=self.guarantor_ids.take(take),
                provision=state.provision[index],
                status=state.status[index],
                exit_amount=state.exit_amount[index],
            )

    def _step(self, t: int) -> _MonthState:
        """Move every loan to month ``t`` and say what each row of the month holds."""
        profile, rng = self.profile, self._events
        month = self.first_month + t
        year, calendar_month = divmod(month, 12)
        as_of = month_start(month + 1) - 1
        new = self.first_t == t
        before = self.on_book
        due_before = np.clip(month - 1 - self.anchor, 0, self.term)
        arrears_before = due_before - self.paid
        dpd_before = self.days_past_due
        current = before & (arrears_before <= 0)
        late = before & (arrears_before > 0) & (dpd_before <= 90)
        npl = before & (dpd_before > 90)
        behind = np.clip(arrears_before, 1, 3) - 1

        workout = by_year(profile.workout_by_year, year)
        miss = np.minimum(self.miss * by_year(profile.risk_by_year, year), _MAX_MISS)
        can_restructure = ~self.restructured & (arrears_before >= 2)
        write_off = np.where(dpd_before > 360, profile.npl_write_off_loss, profile.npl_write_off)
        transfer = profile.npl_transfer if calendar_month + 1 in profile.transfer_months else 0.0
        old = dpd_before > 180
        chances: list[tuple[int, FloatArray]] = [
            (PREPAY, np.where(current, self.prepay, 0.0)),
            (MISS, np.where(current, miss, 0.0)),
            (RESTRUCTURE, np.where((late | npl) & can_restructure, profile.restructure, 0.0)),
            (CURE, np.where(late, np.array(profile.cure_by_arrears)[behind], 0.0)),
            (PARTIAL, np.where(late, np.array(profile.partial_by_arrears)[behind], 0.0)),
            (WRITE_OFF, np.where(npl, write_off * workout, 0.0)),
            (TRANSFER, np.where(npl & old, transfer * workout, 0.0)),
            (
                FORECLOSE,
                np.where(
                    npl & old & _FORECLOSABLE[self.collateral_type],
                    profile.npl_foreclose * workout,
                    0.0,
                ),
            ),
            (COLLECT, np.where(npl, profile.npl_collect * workout, 0.0)),
            (CURE, np.where(npl, profile.npl_cure * workout, 0.0)),
            (PARTIAL, np.where(npl, profile.npl_partial, 0.0)),
        ]
        draw = rng.random(self.size)
        event = np.where(current, PAY, ROLL)
        floor = np.zeros(self.size)
        for code, chance in chances:
            event = np.where((draw >= floor) & (draw < floor + chance), code, event)
            floor = floor + chance
        event = np.where(before, event, -1)

        due_now = np.clip(month - self.anchor, 0, self.term)
        self.paid = np.where((event == PAY) | (event == CURE), due_now, self.paid)
        self.paid = np.where(event == PARTIAL, np.minimum(self.paid + 1, due_now), self.paid)
        self._restructure(rng, event == RESTRUCTURE, np.full(self.size, month), paid=0)
        due_now = np.clip(month - self.anchor, 0, self.term)

        status = np.full(self.size, ACTIVE, dtype=np.int64)
        for code, exit_status in _EXIT_STATUS.items():
            status = np.where(event == code, exit_status, status)
        status = np.where(before & (status == ACTIVE) & (self.paid >= self.term), REPAID, status)
        present = before | new
        on_book = present & (status == ACTIVE)

        balance = np.where(on_book, self._scheduled(self.paid), 0)
        unpaid = due_now - self.paid
        overdue = np.maximum(balance - self._scheduled(due_now), 0)
        oldest_due = month_start(self.anchor + self.paid + 1) + (self.due_day - 1)
        in_arrears = present & (unpaid > 0) & (status != REPAID)
        dpd = np.where(in_arrears, (as_of - oldest_due).astype(np.int64), 0)
        implied = dpd_class(dpd)
        reported = np.where(
            implied >= 1, implied + self.grade_bias, implied + (self.grade_bias > 0)
        )
        reported = np.clip(reported, 0, len(CLASSES) - 1)
        observed = self.restructured & (
            month - self.restructure_month < profile.restructure_observation_months
        )
        reported = np.where(observed, np.maximum(reported, self.restructure_grade), reported)
        unrated = new & (t > 0) & self.unrated_first_month
        reported = np.where(unrated, -1, reported)
        graded = np.maximum(implied, reported)

        bad_exit = (status == WRITTEN_OFF) | (status == TRANSFERRED) | (status == FORECLOSED)
        part_cash = rng.random(self.size) < profile.exit_part_cash_share
        kept = np.where(part_cash, rng.uniform(0.5, 0.98, self.size), 1.0)
        exit_amount = np.where(bad_exit, np.floor(self.balance * kept), -1).astype(np.int64)

        rates = np.array(profile.provision_rates)[graded]
        # An allowance never exceeds the balance it covers.
        provision = np.minimum(np.rint(balance * rates * self.provision_factor), balance)
        state = _MonthState(
            present=present,
            status=status,
            principal_balance=balance,
            overdue_principal=np.where(on_book, overdue, 0),
            overdue_interest=np.where(
                on_book, np.rint(balance * self.rate * np.maximum(unpaid, 0)), 0
            ).astype(np.int64),
            days_past_due=dpd,
            reported_class=reported,
            credit_impaired=present
            & (((dpd > 90) & self.impaired_flag) | ((dpd > 30) & self.judged_impaired)),
            provision=np.where(on_book, provision, 0).astype(np.int64),
            exit_amount=exit_amount,
        )
        self.on_book = on_book
        self.balance = balance
        self.days_past_due = np.where(on_book, dpd, 0)
        return state

    def _scheduled(self, paid: IntArray) -> IntArray:
        return scheduled_balance(self.principal, self.term, self.rate, self.bullet, paid)


def _first_day(month: int) -> date:
    """The first day of an absolute month index."""
    year, month_zero = divmod(month, 12)
    return date(year, month_zero + 1, 1)
