"""Classification (``docs/figures.md`` §1): every on-book loan's final class, with reasons.

Classification is path-dependent (probation looks back over a loan's history), so it runs
month by month: ``classify_month`` takes one snapshot and the previous month's per-loan state
and returns the classified snapshot with the new state. ``ensure_classified`` materialises
each classified snapshot beside the raw one in the store (derived data, keyed by the rule set
and its parameters) and recomputes from the earliest month whose input changed.
Every function here is an Ibis expression: the same code runs on DuckDB and on Spark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir

from npldesk.analytics.backend import Engine
from npldesk.core.classes import CLASS_ORDER, LoanClass
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.core.months import month_label, previous_month_end
from npldesk.core.rules import RuleParams
from npldesk.tape.store import Store

CLASS_NAMES = tuple(c.value for c in CLASS_ORDER)
NPL_RANK = LoanClass.SUBSTANDARD.rank
STATE_COLUMNS = ("loan_id", "as_of", "status", "hard_seen", "clean_run", "released")
CLASSIFIED_COLUMNS = (
    "floor_class",
    "base_class",
    "final_class",
    "is_npl",
    "hard_npl",
    "held",
    "deviation",
    "reasons",
    "hard_seen",
    "clean_run",
    "released",
)
# What a derived classified file holds: the key, the month and status the next month's state
# needs, the classification as numbers and flags (the class ranks, one flag per reason; names
# and the reason text are built when read, ``decode``, only where a query uses them), and the
# snapshot columns that figures are summed and grouped by (``FIGURE_SOURCE_COLUMNS``): asset
# quality, movement, migration and vintages read the derived files alone (``figures_view``),
# as a sum over an already classified tape should cost (a join back to the raw snapshot by
# loan was nine tenths of the time of a month's figures). The snapshot's other columns, the
# personal data among them, stay in the raw snapshot only; ``classified_view`` joins the two
# back by loan (and month, for several months at once) where a list or a case needs them.
# The borrower's id is not among them: a high-cardinality text column costs the most to write
# (a sixth of a month's classification), and only the casework's per-household reads want it.
FIGURE_SOURCE_COLUMNS = (
    "borrower_type",
    "org_unit",
    "officer_id",
    "product",
    "origination_date",
    "original_amount",
    "principal_balance",
    "days_past_due",
    "provision",
    "exit_amount",
)
REASON_FLAGS = (
    "reason_dpd",
    "reason_impaired",
    "reason_restructured",
    "reason_reported",
    "reason_contagion",
    "reason_probation",
)
DERIVED_COLUMNS = (
    "loan_id",
    "as_of",
    "status",
    "floor_rank",
    "base_rank",
    "final_rank",
    "is_npl",
    "hard_npl",
    "held",
    "deviation",
    *REASON_FLAGS,
    "hard_seen",
    "clean_run",
    "released",
    *FIGURE_SOURCE_COLUMNS,
)
# Version of that layout, part of the derived key: files of an earlier layout (v1 copied every
# snapshot column; v2 stored class names and reason text; v3 held no snapshot column, so every
# figure joined the raw snapshot back) are never read again, and are dropped when the store is
# next classified.
DERIVED_LAYOUT = "v4"
# The columns of ``figures_view``: a classified snapshot without the personal and descriptive
# columns of the raw snapshot.
FIGURE_COLUMNS = ("loan_id", "as_of", "status", *FIGURE_SOURCE_COLUMNS, *CLASSIFIED_COLUMNS)


def class_rank(column: ir.StringValue) -> ir.IntegerValue:
    """``normal`` → 0 … ``loss`` → 4; NULL stays NULL."""
    return column.cases(*[(name, rank) for rank, name in enumerate(CLASS_NAMES)], else_=None)


def rank_class(rank: ir.IntegerValue) -> ir.StringValue:
    return rank.cases(*[(r, name) for r, name in enumerate(CLASS_NAMES)], else_=None)


def _money_zero(like: ir.NumericValue) -> ir.NumericValue:
    return ibis.literal(0).cast(like.type())


def _reason(condition: ir.BooleanValue, token: str) -> ir.StringValue:
    """``;token`` when ``condition`` holds: the reasons are joined so and the leading ``;``
    cut once (a substring, cheaper than a regular expression over every row)."""
    return ibis.ifelse(condition, ibis.literal(";" + token), ibis.literal(""))


def classify_month(
    snapshot: ir.Table, previous: ir.Table | None, params: RuleParams, as_of: date
) -> ir.Table:
    """Classify one snapshot. ``previous``: the state table of the month before (or earlier,
    when months are missing), with ``STATE_COLUMNS``; ``None`` at the first snapshot.
    Every column of ``snapshot``, then ``CLASSIFIED_COLUMNS``."""
    derived = classify_month_derived(snapshot, previous, params, as_of)
    return decode(derived, params).select(*snapshot.columns, *CLASSIFIED_COLUMNS)


def classify_month_derived(
    snapshot: ir.Table, previous: ir.Table | None, params: RuleParams, as_of: date
) -> ir.Table:
    """``classify_month`` as stored: the snapshot's columns, then the ``DERIVED_COLUMNS`` not
    among them (ranks and reason flags instead of class names and reason text)."""
    s = snapshot
    on_book = s.status == "active"
    dpd = s.days_past_due
    balance = s.principal_balance
    zero = _money_zero(balance)
    impaired = s.credit_impaired.fill_null(False)
    reported_rank = class_rank(s.reported_class)
    by_borrower = ibis.window(group_by=s.borrower_id)

    if params.name == "eu-npe":
        # EBA/GL/2016/07: non-performing above 90 days, impaired, or graded so by the bank.
        npe = on_book & ((dpd > params.substandard_dpd) | impaired | (reported_rank >= NPL_RANK))
        dpd_rank = ibis.ifelse(on_book & (dpd > params.substandard_dpd), NPL_RANK, 0)
        impaired_rank = ibis.ifelse(on_book & impaired, NPL_RANK, 0)
        restructured_rank = ibis.literal(0)
        reported_floor = ibis.ifelse(reported_rank >= NPL_RANK, NPL_RANK, 0)
        floor = ibis.greatest(dpd_rank, impaired_rank)
        base = ibis.ifelse(npe, NPL_RANK, 0)
        # Pulling effect: more than 20 % of the debtor's on-book balance over 90 days past due.
        late = ibis.ifelse(on_book & (dpd > params.substandard_dpd), balance, zero)
        book = ibis.ifelse(on_book, balance, zero)
        pulled = on_book & (
            late.sum().over(by_borrower) > book.sum().over(by_borrower) * params.pulling_share
        )
        contagion_rank = ibis.ifelse(pulled, NPL_RANK, 0)
        reported_for_reason = reported_floor
    else:
        dpd_rank = ibis.cases(
            (dpd > params.loss_dpd, 4),
            (dpd > params.doubtful_dpd, 3),
            (dpd > params.substandard_dpd, 2),
            (dpd > params.grace_days, 1),
            else_=0,
        )
        impaired_rank = ibis.ifelse(impaired, NPL_RANK, 0)
        in_observation = (
            s.restructured.fill_null(False)
            & s.restructure_date.notnull()
            & (
                s.as_of
                < s.restructure_date + ibis.interval(months=params.restructure_observation_months)
            )
        )
        restructured_rank = ibis.ifelse(in_observation, params.restructured_floor.rank, 0)
        floor = ibis.greatest(dpd_rank, impaired_rank, restructured_rank)
        base = ibis.greatest(floor, reported_rank.fill_null(0))
        contagion_rank = None  # from the non-retail borrowers' totals, below
        reported_for_reason = reported_rank.fill_null(0)

    staged = s.mutate(
        _on_book=on_book,
        _dpd_rank=dpd_rank,
        _impaired_rank=impaired_rank,
        _restructured_rank=restructured_rank,
        _reported_rank=reported_for_reason,
        _floor=floor,
        _base=base,
    )
    if contagion_rank is None:
        staged = _non_retail_contagion(staged, params)
    else:
        staged = staged.mutate(_contagion=contagion_rank)
    staged = staged.mutate(_c=ibis.greatest(staged._base, staged._contagion))
    staged = staged.mutate(_hard=staged._on_book & (staged._c >= NPL_RANK))

    if previous is not None:
        prev = previous.select(
            _p_loan_id=previous.loan_id,
            _p_as_of=previous.as_of,
            _p_status=previous.status,
            _p_hard_seen=previous.hard_seen,
            _p_clean_run=previous.clean_run,
            _p_released=previous.released,
        )
        joined = staged.left_join(prev, staged.loan_id == prev._p_loan_id)
        joined = joined.select([c for c in joined.columns if c != "_p_loan_id"])
        consecutive = (joined._p_as_of == ibis.literal(previous_month_end(as_of))) & (
            joined._p_status == "active"
        )
        p_hard_seen = joined._p_hard_seen.fill_null(False)
        p_run = ibis.ifelse(consecutive, joined._p_clean_run.fill_null(0), 0)
        p_released = joined._p_released.fill_null(False)
    else:
        joined = staged
        p_hard_seen = ibis.literal(False)
        p_run = ibis.literal(0)
        p_released = ibis.literal(False)

    clean = joined._on_book & (joined.days_past_due == 0) & ~joined._hard
    run = ibis.cases((joined._hard, 0), (clean, p_run + 1), else_=0)
    with_state = joined.mutate(
        hard_seen=joined._hard | p_hard_seen,
        clean_run=run.cast("int32"),
        released=ibis.ifelse(joined._hard, False, p_released | (run >= params.probation_months)),
    )
    t = with_state
    held = t._on_book & t.hard_seen & ~t.released & ~t._hard
    final_rank = ibis.ifelse(held, ibis.greatest(t._c, NPL_RANK), t._c)
    t = t.mutate(_held=held, _final=ibis.ifelse(t._on_book, final_rank, ibis.null("int8")))
    top = t._final
    on_book_flag = t._on_book
    t = t.mutate(
        floor_rank=ibis.ifelse(t._on_book, t._floor, ibis.null("int8")).cast("int8"),
        base_rank=ibis.ifelse(t._on_book, t._base, ibis.null("int8")).cast("int8"),
        final_rank=t._final.cast("int8"),
        is_npl=t._on_book & (t._final >= NPL_RANK),
        hard_npl=t._hard,
        held=t._held,
        deviation=t._on_book & (class_rank(t.reported_class) < t._final).fill_null(False),
        # Why the loan is where it is; NULL off book (as the reason text is).
        **{
            flag: ibis.ifelse(on_book_flag, condition.fill_null(False), ibis.null("boolean"))
            for flag, condition in zip(
                REASON_FLAGS,
                (
                    (t._dpd_rank == top) & (top > 0),
                    (t._impaired_rank == top) & (top > 0),
                    (t._restructured_rank == top) & (top > 0),
                    (t._reported_rank == top) & (top > 0),
                    (t._contagion > t._base) & (t._contagion == top),
                    t._held & (t._c < NPL_RANK),
                ),
                strict=True,
            )
        },
    )
    keep = [*snapshot.columns, *[c for c in DERIVED_COLUMNS if c not in snapshot.columns]]
    return t.select(*keep)


def decode(derived: ir.Table, params: RuleParams) -> ir.Table:
    """The class names and the reason text (``dpd>90;impaired``…) from a derived table's ranks
    and reason flags; the ranks and flags themselves dropped."""
    final = derived.final_rank
    # The DPD reason is given when the DPD rank is the final one: its threshold follows.
    dpd_token = final.cases(
        (1, f";dpd>{params.grace_days}"),
        (2, f";dpd>{params.substandard_dpd}"),
        (3, f";dpd>{params.doubtful_dpd}"),
        (4, f";dpd>{params.loss_dpd}"),
        else_="",
    )
    tokens = [ibis.ifelse(derived.reason_dpd, dpd_token, "")] + [
        _reason(derived[flag], flag.removeprefix("reason_")) for flag in REASON_FLAGS[1:]
    ]
    reasons = tokens[0]
    for token in tokens[1:]:
        reasons = reasons + token
    decoded = derived.mutate(
        floor_class=rank_class(derived.floor_rank),
        base_class=rank_class(derived.base_rank),
        final_class=rank_class(final),
        reasons=ibis.ifelse(derived.reason_dpd.isnull(), ibis.null("string"), reasons.substr(1)),
    )
    return decoded.drop("floor_rank", "base_rank", "final_rank", *REASON_FLAGS)


def _non_retail_contagion(staged: ir.Table, params: RuleParams) -> ir.Table:
    """Art. 7 para 2: a non-retail debtor with more than 10 % of its claims non-performing is
    non-performing on all of them; any NPL pulls the others to special mention.

    The totals are taken over non-retail borrowers only (a few percent of the rows) and joined
    back, rather than a window over every borrower of the book."""
    non_retail = staged.filter(staged._on_book & (staged.borrower_type == "non_retail"))
    balance = non_retail.principal_balance
    base_npl = non_retail._base >= NPL_RANK
    totals = non_retail.group_by(_cb_borrower=non_retail.borrower_id).aggregate(
        _cb_npl=ibis.ifelse(base_npl, balance, _money_zero(balance)).sum(),
        _cb_book=balance.sum(),
        _cb_any=ibis.ifelse(base_npl, 1, 0).max(),
    )
    joined = staged.left_join(totals, staged.borrower_id == totals._cb_borrower)
    pulled = joined._on_book & (joined.borrower_type == "non_retail")
    contagion = ibis.cases(
        (pulled & (joined._cb_npl > joined._cb_book * params.contagion_share), NPL_RANK),
        (pulled & (joined._cb_any == 1), LoanClass.SPECIAL_MENTION.rank),
        else_=0,
    )
    joined = joined.mutate(_contagion=contagion)
    return joined.drop("_cb_borrower", "_cb_npl", "_cb_book", "_cb_any")


def carry_forward(previous: ir.Table | None, snapshot: ir.Table) -> ir.Table | None:
    """State of loans absent this month that are still serving probation (their run is broken
    by the missing month, but the hard-NPL history stays)."""
    if previous is None:
        return None
    # Whatever the loan's last row said (even a terminal one): should it come back, its
    # hard-NPL history still holds and its clean run starts again.
    waiting = previous.filter(previous.hard_seen & ~previous.released)
    present = snapshot.select(_present_id=snapshot.loan_id)
    absent = waiting.anti_join(present, waiting.loan_id == present._present_id)
    return absent.select(*STATE_COLUMNS)


def classified_view(
    snapshot: ir.Table, derived: ir.Table, params: RuleParams, *, span: bool = False
) -> ir.Table:
    """The classified snapshot as ``classify_month`` returns it: the raw ``snapshot`` joined
    by loan_id with its derived file (every column of the snapshot, then
    ``CLASSIFIED_COLUMNS``). ``span``: several months on each side, joined by loan and month."""
    stored = [c for c in DERIVED_COLUMNS if c not in snapshot.columns]
    right = derived.select(
        _d_loan_id=derived.loan_id,
        _d_as_of=derived.as_of,
        **{name: derived[name] for name in stored},
    )
    keys = [snapshot.loan_id == right._d_loan_id]
    if span:
        keys.append(snapshot.as_of == right._d_as_of)
    joined = snapshot.join(right, keys)
    decoded = decode(joined.select(*snapshot.columns, *stored), params)
    return decoded.select(*snapshot.columns, *CLASSIFIED_COLUMNS)


def figures_view(derived: ir.Table, params: RuleParams) -> ir.Table:
    """The classified snapshot(s) of ``derived`` files alone, ``FIGURE_COLUMNS``: what asset
    quality, movement, migration and vintages read (no join with the raw snapshot)."""
    return decode(derived, params).select(*FIGURE_COLUMNS)


def state_of(classified: ir.Table, carry: ir.Table | None) -> ir.Table:
    state = classified.select(*STATE_COLUMNS)
    return state if carry is None else state.union(carry.select(*STATE_COLUMNS))


# -- materialising the classified snapshots ---------------------------------------------


@dataclass(frozen=True)
class ClassifiedMonth:
    """Where one classified snapshot (and its carried state) lives in the store."""

    as_of: date
    classified: str
    carry: str | None


def derived_key(params: RuleParams) -> str:
    return f"classified-{DERIVED_LAYOUT}-{params.name}-{params.fingerprint()}"


def _earlier_layout(key: str) -> bool:
    """A derived key of an earlier layout: ``classified-<rule set>-…`` (every column copied)."""
    return key.startswith("classified-") and not key.startswith(f"classified-{DERIVED_LAYOUT}-")


def _valid_chain(store: Store, params: RuleParams) -> tuple[list[date], int]:
    """The store's months, and how many of the first are already classified and current: a
    month is current when its snapshot and the classified month before it are the ones it
    was computed from, and its files are all there (a derived file deleted or lost is
    computed again, with every month after it)."""
    # One read of the manifest for every month (a store of 200 months parsed it 200 times).
    manifest = store.manifest()
    months = sorted(manifest.snapshots)
    entries = manifest.derived.get(derived_key(params), {})
    valid = 0
    previous: str | None = None
    for as_of in months:
        entry = entries.get(as_of.isoformat())
        snapshot = manifest.snapshots.get(as_of)
        if (
            entry is None
            or snapshot is None
            or entry.get("snapshot_import_id") != snapshot.import_id
            or entry.get("previous") != previous
            or not all((store.path / file).exists() for file in entry["files"].values())
        ):
            break
        valid += 1
        previous = entry["files"]["classified"]
    return months, valid


def ensure_classified(
    store: Store,
    engine: Engine,
    params: RuleParams,
    *,
    upto: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[date, ClassifiedMonth]:
    """Classify every month up to ``upto`` that is not yet classified with these parameters
    (or whose snapshot, or an earlier one, changed) and record it in the manifest."""
    say = progress or (lambda _m: None)
    months, valid = _valid_chain(store, params)
    if not months:
        raise UsageError(
            translatable("no snapshot imported yet: `npldesk tape import FILE...` first")
        )
    last = len(months) if upto is None else sum(1 for m in months if m <= upto)
    if valid < last:
        with store.writing() as transaction:
            months, valid = _valid_chain(store, params)  # under the lock
            manifest = store.manifest()
            key = derived_key(params)
            derived = manifest.derived
            # Files of an earlier layout hold copies of the snapshots' personal columns and are
            # never read again: dropped with this commit (whatever their parameters).
            for old in [k for k in derived if _earlier_layout(k)]:
                del derived[old]
            entries: dict[str, Any] = derived.setdefault(key, {})
            state: ir.Table | None = None
            previous_file: str | None = None
            if valid:
                previous_entry = entries[months[valid - 1].isoformat()]
                state = _read_state(store, engine, previous_entry)
                previous_file = previous_entry["files"]["classified"]
            for index in range(valid, last):
                as_of = months[index]
                say(f"classifying {month_label(as_of)}")
                entry = manifest.snapshots[as_of]
                snapshot = engine.read_parquet([store.path / entry.file])
                classified = classify_month_derived(snapshot, state, params, as_of)
                classified_rel = transaction.derived_file(key, as_of, "classified")
                engine.write_parquet(
                    classified.select(*DERIVED_COLUMNS), transaction.stage_path(classified_rel)
                )
                written = engine.read_parquet([transaction.staging / classified_rel])
                files = {"classified": classified_rel}
                carry = carry_forward(state, snapshot)
                carry_read: ir.Table | None = None
                if carry is not None:
                    carry_rel = transaction.derived_file(key, as_of, "carry")
                    engine.write_parquet(carry, transaction.stage_path(carry_rel))
                    files["carry"] = carry_rel
                    carry_read = engine.read_parquet([transaction.staging / carry_rel])
                entries[as_of.isoformat()] = {
                    "files": files,
                    "snapshot_import_id": entry.import_id,
                    "previous": previous_file,
                    "rule_set": params.name,
                    "params": params.fingerprint(),
                    "engine": engine.name,
                    "layout": DERIVED_LAYOUT,
                }
                state = state_of(written, carry_read)
                previous_file = classified_rel
            # Later months were classified from a history that has just changed: drop them;
            # they are classified again when asked for.
            current = {m.isoformat() for m in months[:last]}
            for stale in [m for m in entries if m not in current]:
                del entries[stale]
            transaction.commit(manifest)
    entries = store.derived(derived_key(params))
    return {
        m: ClassifiedMonth(
            m,
            entries[m.isoformat()]["files"]["classified"],
            entries[m.isoformat()]["files"].get("carry"),
        )
        for m in months[:last]
    }


def _read_state(store: Store, engine: Engine, entry: dict[str, Any]) -> ir.Table:
    classified = engine.read_parquet([store.path / entry["files"]["classified"]])
    carry = entry["files"].get("carry")
    carry_table = engine.read_parquet([store.path / carry]) if carry else None
    return state_of(classified, carry_table)
