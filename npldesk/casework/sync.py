"""The month-end sync (``docs/casework-rules.md``, "Case life"): cases opened, updated and closed
from one classified month-end snapshot.

``loans_for_sync`` reads the rows the sync needs from the analytics session of a home (every
loan of the households with an NPL loan on the books, of those with an early-warning loan
when asked, and of those with an open case); ``cases_sync`` is the bulk service that takes
those plain rows and writes households, cases and their loans in batches, with one audit
record per changed case and one for the run. The tape is the accounting truth: the sync never
asks a person, and running it twice on the same snapshot changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Count, F, Max
from django.utils import timezone

from npldesk.casework import audit
from npldesk.casework.access import Action, require
from npldesk.casework.choices import (
    OPEN_LEGAL_STAGES,
    Ability,
    CaseKind,
    CaseState,
    CloseReason,
    TeamKind,
    Willingness,
)
from npldesk.casework.config import casework_settings
from npldesk.casework.errors import InvalidAction
from npldesk.casework.models import (
    Case,
    CaseLoan,
    Household,
    LegalCase,
    Person,
    SyncRun,
    Team,
    Unit,
)
from npldesk.casework.rules import CaseworkParams
from npldesk.casework.services._common import derived_strategy, hold_case_openings
from npldesk.core.i18n import translatable
from npldesk.core.months import month_label, month_range, previous_month_end, shift_month_end

ZERO = Decimal("0.00")
ACTIVE = "active"
PHONES_LENGTH: int = Household._meta.get_field("phones").max_length or 0
BATCH = 2000

# The columns of the classified snapshot the sync reads, one plain row per loan.
SYNC_COLUMNS = (
    "loan_id",
    "borrower_id",
    "borrower_name",
    "id_number",
    "phone",
    "borrower_type",
    "org_unit",
    "officer_id",
    "product",
    "principal_balance",
    "overdue_interest",
    "days_past_due",
    "collateral_value",
    "status",
    "final_class",
    "is_npl",
)

# A loan the case last saw on the books that has no row in a later month: it left the books
# with no terminal row saying how (the tape calls it an unexplained exit).
UNEXPLAINED_EXIT = "unexplained_exit"

# How a household's loans left the books, most telling first: the derived close reason is the
# first that applies (``upgraded``: loans are still on the books, none of them NPL; ``repaid``:
# a loan was repaid and none transferred or foreclosed; ``unexplained_exit``: no loan left
# with a terminal row).
_EXIT_REASONS = (
    ("transferred", CloseReason.TRANSFERRED),
    ("foreclosed", CloseReason.FORECLOSED),
    (ACTIVE, CloseReason.UPGRADED),
    ("repaid", CloseReason.REPAID),
    ("written_off", CloseReason.REPAID),
)

# The case fields the sync keeps in step with the tape.
_TAPE_FIELDS = ("unit_id", "npl_balance", "balance", "collateral_value", "written_off")
_LOAN_FIELDS = (
    "product",
    "org_unit",
    "officer_id",
    "principal_balance",
    "overdue_interest",
    "days_past_due",
    "loan_class",
    "is_npl",
    "status",
    "collateral_value",
    "as_of",
    "owed",
    "owed_as_of",
)
# Loan fields that move with the month alone (a new month with the same figures).
_MONTH_FIELDS = frozenset({"as_of", "owed_as_of"})
# What a case's audit record compares, before and after.
_AUDITED = (*_TAPE_FIELDS, "kind", "state", "closed_on", "close_reason")
_HOUSEHOLD_FIELDS = ("name", "id_number", "phones", "borrower_type", "unit_id")


@dataclass
class SyncCounts:
    """What one run did."""

    opened: int = 0
    opened_early_warning: int = 0
    updated: int = 0
    kind_changed: int = 0
    unchanged: int = 0
    closed: dict[str, int] = field(default_factory=dict)
    kept_open_for_recovery: int = 0
    households: int = 0
    loans: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "opened": self.opened,
            "opened_early_warning": self.opened_early_warning,
            "updated": self.updated,
            "kind_changed": self.kind_changed,
            "unchanged": self.unchanged,
            "closed": dict(sorted(self.closed.items())),
            "closed_total": sum(self.closed.values()),
            "kept_open_for_recovery": self.kept_open_for_recovery,
            "households": self.households,
            "loans": self.loans,
        }


# -- reading the snapshot -------------------------------------------------------------------


def loans_for_sync(
    home: Any, as_of: date, *, early_warning: bool = False, session: Any = None
) -> list[dict[str, Any]]:
    """The rows ``cases_sync`` needs from the classified snapshot of ``as_of`` in ``home``.

    Every loan (terminal rows included) of each household that has an NPL loan on the books,
    an early-warning loan (with ``early_warning``), or an open case in casework: the last are
    needed to update and close cases whose NPL loans have left.
    """
    import ibis

    from npldesk.analytics.session import Analytics

    analytics = session if session is not None else Analytics.for_home(home)
    params = casework_settings().params
    snapshot = analytics.classified(as_of)
    on_book = snapshot.status == ACTIVE
    wanted = on_book & snapshot.is_npl.fill_null(False)
    if early_warning:
        wanted = wanted | (
            on_book
            & ~snapshot.is_npl.fill_null(False)
            & snapshot.days_past_due.between(
                params.early_warning_min_dpd, params.early_warning_max_dpd
            )
        )
    keys = snapshot.filter(wanted).select("borrower_id")
    open_households = list(
        Case.objects.filter(closed_on__isnull=True).values_list("household__borrower_id", flat=True)
    )
    if open_households:
        known = ibis.memtable({"borrower_id": open_households}, schema={"borrower_id": "string"})
        keys = keys.union(known, distinct=False)
    keys = keys.distinct()
    rows = snapshot.semi_join(keys, "borrower_id").select(*SYNC_COLUMNS)
    return analytics.rows(rows.order_by(["borrower_id", "loan_id"]))


def last_synced_month() -> date | None:
    """The latest month-end the sync has run on, or ``None`` before the first sync."""
    last: date | None = SyncRun.objects.aggregate(last=Max("as_of"))["last"]
    return last


def months_to_sync(as_of: date, *, last: date | None, stored: Iterable[date]) -> list[date]:
    """The months a sync of ``as_of`` replays, in order: every month-end after the last synced
    month ``last`` up to ``as_of`` (only ``as_of`` on a first sync or a repeated one), so that
    the cases opened and closed in between are those of syncing every month.

    A month missing from the store stops the sync with a message naming it; a month before the
    last synced one is refused (it would undo what later months did)."""
    if last is not None and as_of < last:
        raise InvalidAction(
            translatable(
                "cases were last synced from {last}: syncing the earlier month {as_of} would "
                "undo what the later months did",
                last=month_label(last),
                as_of=month_label(as_of),
            )
        )
    wanted = (
        [as_of] if last is None or as_of == last else list(month_range(next_month(last), as_of))
    )
    have = set(stored)
    missing = [m for m in wanted if m not in have]
    if missing:
        raise InvalidAction(
            f"cannot sync cases from {month_label(as_of)}: "
            + (f"cases were last synced from {month_label(last)} and " if last else "")
            + "the sync replays every month in between, but "
            + ", ".join(month_label(m) for m in missing)
            + (" is" if len(missing) == 1 else " are")
            + " not imported: import "
            + ("it" if len(missing) == 1 else "them")
            + " first"
        )
    return wanted


def _require_next_month(as_of: date) -> None:
    """A sync of one month follows the last synced month or repeats it (``month_end_sync``
    replays the months between): a month skipped would leave open the cases of households
    whose loans left the books in it."""
    last = last_synced_month()
    if last is None or as_of == last:
        return
    if as_of < last:
        months_to_sync(as_of, last=last, stored=[as_of])  # raises, naming both months
    if as_of != next_month(last):
        raise InvalidAction(
            translatable(
                "cases were last synced from {last}: sync {following} to {before} before {as_of} "
                "(`npldesk cases sync` replays them)",
                last=month_label(last),
                following=month_label(next_month(last)),
                before=month_label(previous_month_end(as_of)),
                as_of=month_label(as_of),
            )
        )


def next_month(as_of: date) -> date:
    return shift_month_end(as_of, 1)


def month_end_sync(
    home: Any,
    as_of: date,
    *,
    actor: Person,
    early_warning: bool = False,
    session: Any = None,
    progress: Callable[[str], None] | None = None,
) -> list[tuple[date, dict[str, Any]]]:
    """Sync cases from ``as_of``, replaying in order every stored month since the last synced
    one (``months_to_sync``), all in one transaction: a month that fails leaves casework as
    it was. Returns each month synced with what its run did."""
    from npldesk.analytics.session import Analytics

    analytics = session if session is not None else Analytics.for_home(home)
    say = progress or (lambda _message: None)
    done: list[tuple[date, dict[str, Any]]] = []
    with transaction.atomic():
        months = months_to_sync(as_of, last=last_synced_month(), stored=analytics.months())
        for month in months:
            say(f"reading the snapshot of {month_label(month)}")
            rows = loans_for_sync(home, month, early_warning=early_warning, session=analytics)
            say(f"syncing {len(rows):,} loans of {month_label(month)}")
            counts = cases_sync(actor=actor, as_of=month, loans=rows, early_warning=early_warning)
            done.append((month, counts))
    return done


# -- the service ----------------------------------------------------------------------------


@dataclass
class _Household:
    """One household's loans in the snapshot, as the sync judges them."""

    borrower_id: str
    loans: list[Mapping[str, Any]]

    def largest(self) -> Mapping[str, Any]:
        return max(self.loans, key=lambda r: (_money(r["principal_balance"]), str(r["loan_id"])))

    def on_book(self) -> list[Mapping[str, Any]]:
        return [r for r in self.loans if r["status"] == ACTIVE]

    def npl(self) -> list[Mapping[str, Any]]:
        return [r for r in self.on_book() if r["is_npl"]]

    def early_warning(self, params: CaseworkParams) -> list[Mapping[str, Any]]:
        low, high = params.early_warning_min_dpd, params.early_warning_max_dpd
        return [
            r for r in self.on_book() if not r["is_npl"] and low <= int(r["days_past_due"]) <= high
        ]


def _money(value: Any) -> Decimal:
    if value is None:
        return ZERO
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _batched(items: Sequence[Any], size: int = BATCH) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _phones(current: str, tape_phone: str) -> str:
    """The tape's phone added to the numbers casework holds (a person may have added others).

    When the field has no room left, the numbers casework holds stay as they are: what a
    person entered is not dropped for a number the tape keeps anyway."""
    if not tape_phone:
        return current
    numbers = [p.strip() for p in current.split(",") if p.strip()]
    if tape_phone in numbers:
        return current
    joined = ",".join([tape_phone, *numbers])
    if numbers and len(joined) > PHONES_LENGTH:
        return current
    return joined


def _close_reason(statuses: Iterable[str]) -> str:
    seen = set(statuses)
    for status, reason in _EXIT_REASONS:
        if status in seen:
            return reason
    return CloseReason.UNEXPLAINED_EXIT


def _mark_exits(loans: Iterable[CaseLoan], present: set[str], as_of: date) -> list[CaseLoan]:
    """The case's loans last seen on the books that have no row in the snapshot of ``as_of``,
    marked as having left it without a terminal row (what they owed is kept)."""
    marked = []
    for loan in loans:
        if loan.status == ACTIVE and loan.loan_id not in present:
            loan.status = UNEXPLAINED_EXIT
            loan.principal_balance = ZERO
            loan.is_npl = False
            loan.as_of = as_of
            marked.append(loan)
    return marked


def _sums(loans: Iterable[Mapping[str, Any]]) -> dict[str, Decimal]:
    npl = balance = collateral = ZERO
    for row in loans:
        if row["status"] != ACTIVE:
            continue
        amount = _money(row["principal_balance"])
        balance += amount
        collateral += _money(row.get("collateral_value"))
        if row["is_npl"]:
            npl += amount
    return {"npl_balance": npl, "balance": balance, "collateral_value": collateral}


@audit.service(bulk=True)
def cases_sync(
    *,
    actor: Person,
    as_of: date,
    loans: Iterable[Mapping[str, Any]],
    params: CaseworkParams | None = None,
    early_warning: bool = False,
) -> dict[str, Any]:
    """Open, update and close cases from the month-end snapshot of ``as_of``.

    ``loans`` are the snapshot's rows (``SYNC_COLUMNS``) of every household concerned: with an
    NPL loan on the books, an early-warning loan, or an open case. A case opens for each
    household with an NPL loan (and, with ``early_warning``, one with a loan 61-90 days past
    due); an early-warning case whose household turns NPL becomes its NPL case. A case closes,
    with the derived reason, when its household has no NPL loan left (and, for an
    early-warning case, no early-warning loan), no loan written off while it was open and no
    open legal case; a case with a written-off loan stays open for recovery. Households absent
    from ``loans`` are judged on the loans their case last saw, and only when all of those have
    left the books. Returns the counts of what was done (also kept in a ``SyncRun``).
    """
    require(actor, Action.SYNC)
    hold_case_openings(exclusive=True)  # before the open cases are read
    _require_next_month(as_of)
    params = params or casework_settings().params
    now = timezone.now()
    counts = SyncCounts()

    grouped: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in loans:
        grouped[str(row["borrower_id"])].append(row)
        counts.loans += 1
    households = {bid: _Household(bid, rows) for bid, rows in grouped.items()}
    counts.households = len(households)

    units = _units_for(households)
    household_rows = _upsert_households(households, units)
    open_cases = _open_cases()
    case_loans = _case_loans(list(open_cases.values()))
    open_legal = set(
        LegalCase.objects.filter(
            case__closed_on__isnull=True, stage__in=OPEN_LEGAL_STAGES
        ).values_list("case_id", flat=True)
    )

    records: list[Any] = []
    to_open: list[_Household] = []
    changed_cases: list[Case] = []
    became_npl: set[int] = set()
    loan_creates: list[CaseLoan] = []
    loan_updates: list[CaseLoan] = []

    for borrower_id, household in households.items():
        home = household_rows[borrower_id]
        case = open_cases.get(home.pk)
        if case is None:
            if household.npl() or (early_warning and household.early_warning(params)):
                to_open.append(household)
            continue
        before = {name: getattr(case, name) for name in _AUDITED}
        what: list[str] = []
        creates, updates, moved = _diff_loans(
            case, household.loans, case_loans.get(case.pk, {}), as_of
        )
        loan_creates += creates
        loan_updates += updates
        seen_loans = {**case_loans.get(case.pk, {})}
        for loan in creates:
            seen_loans[loan.loan_id] = loan
        exits = _mark_exits(
            seen_loans.values(), {str(r["loan_id"]) for r in household.loans}, as_of
        )
        loan_updates += exits
        moved = moved or bool(exits)
        sums = _sums(household.loans)
        written_off = case.written_off or any(r["status"] == "written_off" for r in household.loans)
        new_values: dict[str, Any] = {**sums, "written_off": written_off, "unit_id": home.unit_id}
        for name, value in new_values.items():
            setattr(case, name, value)
        if moved or any(before[n] != getattr(case, n) for n in _TAPE_FIELDS):
            what.append("updated balances")
        if household.npl():
            if case.kind != CaseKind.NPL:
                case.kind = CaseKind.NPL
                became_npl.add(case.pk)
                counts.kind_changed += 1
                what.append("kind changed")
        elif case.kind == CaseKind.EARLY_WARNING and household.early_warning(params):
            pass
        elif case.written_off or case.pk in open_legal:
            counts.kept_open_for_recovery += 1
        else:
            reason = _close_reason(loan.status for loan in seen_loans.values())
            _close(case, reason, as_of)
            counts.closed[reason] = counts.closed.get(reason, 0) + 1
            what.append(f"closed ({reason})")
        if what:
            case.synced_as_of = as_of
            changed_cases.append(case)
            records.append(_record(actor, case, before, what, now))
            if "updated balances" in what:
                counts.updated += 1
        else:
            counts.unchanged += 1
            if updates or case.synced_as_of != as_of:
                # A new month with the same figures: the case and its loans are stamped with
                # the month, no audit record (nothing a person would want to know changed).
                case.synced_as_of = as_of
                changed_cases.append(case)

    # Open cases of households the snapshot does not show: every loan the case last saw on the
    # books has left them without a terminal row, and the case closes (a case waiting on a
    # legal case or a write-off stays open). A case opened by hand with no loans is left alone.
    for case in _absent_cases(open_cases, household_rows, households):
        seen_loans = case_loans.get(case.pk, {})
        statuses = [loan.status for loan in seen_loans.values()]
        if not statuses:
            counts.unchanged += 1
            continue
        before = {name: getattr(case, name) for name in _AUDITED}
        what = []
        exits = _mark_exits(seen_loans.values(), set(), as_of)
        if exits:
            # Nothing of the household is on the books any more.
            loan_updates += exits
            for name in ("npl_balance", "balance", "collateral_value"):
                setattr(case, name, ZERO)
            what.append("updated balances")
            counts.updated += 1
        if case.written_off or case.pk in open_legal:
            counts.kept_open_for_recovery += 1
        else:
            reason = _close_reason(loan.status for loan in seen_loans.values())
            _close(case, reason, as_of)
            counts.closed[reason] = counts.closed.get(reason, 0) + 1
            what.append(f"closed ({reason})")
        if what:
            case.synced_as_of = as_of
            changed_cases.append(case)
            records.append(_record(actor, case, before, what, now))

    _write_cases(changed_cases, as_of, became_npl)
    # Closed cases first: a household's new case may open in the same run only after its
    # earlier one has closed (one open case per household).
    opened = _open_cases_for(to_open, household_rows, as_of, params)
    for case, household in opened:
        if case.kind == CaseKind.EARLY_WARNING:
            counts.opened_early_warning += 1
        counts.opened += 1
        loan_creates += _diff_loans(case, household.loans, {}, as_of)[0]
        records.append(_record(actor, case, None, ["opened"], now))
    _bulk_insert(loan_creates)
    _bulk_update(loan_updates, list(_LOAN_FIELDS))

    result = counts.as_dict()
    records.append(
        audit.build(
            actor=actor,
            action="cases_sync_run",
            object_type="sync",
            object_id=as_of.isoformat(),
            after=result,
            reason=f"month-end sync of {as_of.isoformat()}",
            at=now,
        )
    )
    audit.record_many(records)
    SyncRun.objects.create(as_of=as_of, run_at=now, by=actor, counts=result)
    return result


# What names an object in a message about its text.
_LABELS = {Household: "borrower_id", Case: "number", CaseLoan: "loan_id"}


def _require_storable_text(objects: Sequence[models.Model], fields: Iterable[Any]) -> None:
    """Refuse text that the databases would store differently, before anything is written.

    The arrays bound on PostgreSQL are cast to the column's type, and a cast to
    ``varchar(n)`` cuts longer text silently, where SQLite keeps it whole; PostgreSQL refuses
    a NUL character that SQLite takes. Either way the same sync would leave different cases
    on the two databases, so text longer than its field or holding a NUL is an error naming
    the object, the field and the limit, on both."""
    checked = [f for f in fields if isinstance(f, models.CharField | models.TextField)]
    if not checked:
        return
    model = type(objects[0])
    label = _LABELS.get(model)
    for obj in objects:
        for text_field in checked:
            value = getattr(obj, text_field.attname)
            if not isinstance(value, str):
                continue
            what = f"{model._meta.verbose_name} {getattr(obj, label) if label else obj.pk}"
            if "\x00" in value:
                raise InvalidAction(
                    translatable(
                        "{what}: its {text_field_name} holds a NUL character, which casework "
                        "cannot store: correct the tape and import the month again",
                        what=what,
                        text_field_name=text_field.name,
                    )
                )
            if text_field.max_length is not None and len(value) > text_field.max_length:
                raise InvalidAction(
                    translatable(
                        "{what}: its {text_field_name} is {count} characters long, more than "
                        "the {max_length} casework keeps: correct the tape and import the month "
                        "again",
                        what=what,
                        text_field_name=text_field.name,
                        count=len(value),
                        max_length=text_field.max_length,
                    )
                )


def _bulk_update(objects: Sequence[models.Model], names: Sequence[str]) -> None:
    """Write ``names`` of ``objects`` back in batches, one statement per batch, joined on the
    primary key.

    Django's ``bulk_update`` sends one ``CASE WHEN id = … THEN …`` per field: PostgreSQL
    evaluates it row by row against every branch (quadratic in the batch: a month-end sync of
    100,000 changed cases took minutes), and building it costs Python more than the write on
    SQLite (a fifth of the demo's build). On PostgreSQL this is one ``UPDATE … FROM
    unnest(…)`` per batch, one array parameter per column; on SQLite one ``UPDATE … FROM``
    a ``VALUES`` list (SQLite 3.33 and later). Other databases keep ``bulk_update``. The fields
    written are plain scalars (text, numbers, dates, booleans, foreign keys).
    """
    if not objects:
        return
    model = type(objects[0])
    _require_storable_text(objects, [model._meta.get_field(name) for name in names])
    meta = model._meta
    fields: list[Any] = [meta.pk, *(meta.get_field(name) for name in names)]
    columns = [connection.ops.quote_name(f.column) for f in fields]
    table = connection.ops.quote_name(meta.db_table)
    assignments = ", ".join(f"{c} = v.{c}" for c in columns[1:])
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
        sql = (
            f"UPDATE {table} AS t SET {assignments} "  # names from the model, values bound
            f"FROM unnest({arrays}) AS v({', '.join(columns)}) "
            f"WHERE t.{columns[0]} = v.{columns[0]}"
        )
        with connection.cursor() as cursor:
            for chunk in _batched(objects, 20_000):
                cursor.execute(sql, [[getattr(obj, f.attname) for obj in chunk] for f in fields])
        return
    if connection.vendor != "sqlite":
        model._default_manager.bulk_update(objects, list(names), batch_size=BATCH)
        return
    # SQLite binds at most 32,766 parameters a statement; values are prepared as Django
    # prepares them for a save, and the column's type applies on storing, as for any update.
    row = "(" + ", ".join("%s" for _ in fields) + ")"
    with connection.cursor() as cursor:
        for chunk in _batched(objects, 32_000 // len(fields)):
            sql = (
                f"WITH v({', '.join(columns)}) AS (VALUES {', '.join(row for _ in chunk)}) "
                f"UPDATE {table} AS t SET {assignments} "
                f"FROM v WHERE t.{columns[0]} = v.{columns[0]}"
            )
            values = [
                f.get_db_prep_save(getattr(obj, f.attname), connection)
                for obj in chunk
                for f in fields
            ]
            cursor.execute(sql, values)


def _bulk_insert(objects: Sequence[models.Model], key: str | None = None) -> None:
    """Insert ``objects`` in batches, setting their primary keys when ``key`` (a unique field)
    is given.

    On PostgreSQL one ``INSERT … SELECT … FROM unnest(…)`` per batch, one array parameter per
    column (Django's ``bulk_create`` spends most of a first sync compiling and binding one
    placeholder per value); keys come back with ``RETURNING`` and are matched on ``key``, not
    on row order. Other databases use ``bulk_create``.
    """
    if not objects:
        return
    model = type(objects[0])
    _require_storable_text(objects, model._meta.concrete_fields)
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objects, batch_size=BATCH)
        if key is not None and any(obj.pk is None for obj in objects):
            by_key = {getattr(obj, key): obj for obj in objects}
            for chunk in _batched(list(by_key)):
                found = model._default_manager.filter(**{f"{key}__in": chunk})
                for value, pk in found.values_list(key, "pk"):
                    by_key[value].pk = pk
        return
    meta = model._meta
    fields: list[Any] = [f for f in meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
    table = connection.ops.quote_name(meta.db_table)
    sql = f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays})"
    if key is not None:
        key_field: Any = meta.get_field(key)
        pk_field: Any = meta.pk
        sql += (
            f" RETURNING {connection.ops.quote_name(pk_field.column)}, "
            f"{connection.ops.quote_name(key_field.column)}"
        )

    def column(field: Any, chunk: Sequence[models.Model]) -> list[Any]:
        # JSON needs its adapter; every other field here is a plain scalar, passed as it is.
        if isinstance(field, models.JSONField):
            return [
                field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in chunk
            ]
        return [getattr(obj, field.attname) for obj in chunk]

    with connection.cursor() as cursor:
        for chunk in _batched(objects, 20_000):
            cursor.execute(sql, [column(f, chunk) for f in fields])
            if key is not None:
                by_key = {getattr(obj, key): obj for obj in chunk}
                for pk, value in cursor.fetchall():
                    by_key[value].pk = pk
                    by_key[value]._state.adding = False


def _write_cases(cases: Sequence[Case], as_of: date, became_npl: set[int]) -> None:
    """Write the sync's changes without losing a person's concurrent edit.

    The tape's figures are derived fields: written as they are, the version left alone (as
    ``refresh_case`` does), so nobody's open edit fails because a balance moved. Closing a case
    or changing its kind is a change of state: written as an atomic ``version + 1`` on those
    fields only, so an edit a person saves meanwhile is neither overwritten nor lost (their
    compare-and-swap sees the version move and tells them to reload).
    """
    _bulk_update(cases, [*_TAPE_FIELDS, "synced_as_of"])
    closing: dict[str, list[int]] = defaultdict(list)
    for case in cases:
        if case.closed_on is not None:
            closing[case.close_reason].append(case.pk)
    for reason, ids in closing.items():
        for chunk in _batched(ids):
            Case.objects.filter(pk__in=chunk, closed_on__isnull=True).update(
                state=CaseState.RESOLVED,
                closed_on=as_of,
                close_reason=reason,
                version=F("version") + 1,
            )
    for chunk in _batched(sorted(became_npl)):
        Case.objects.filter(pk__in=chunk).update(kind=CaseKind.NPL, version=F("version") + 1)


def _close(case: Case, reason: str, as_of: date) -> None:
    case.state = CaseState.RESOLVED
    case.closed_on = as_of
    case.close_reason = reason


def _record(
    actor: Person, case: Case, before: dict[str, Any] | None, what: list[str], at: Any
) -> Any:
    after = {name: getattr(case, name) for name in _AUDITED}
    if before is not None:
        after = {k: v for k, v in after.items() if before.get(k, v) != v}
        before = {k: before[k] for k in after if k in before}
    return audit.build(
        actor=actor,
        action="cases_sync",
        obj=case,
        case=case,
        before=before,
        after=after,
        reason="; ".join(what),
        at=at,
    )


def _units_for(households: Mapping[str, _Household]) -> dict[str, Unit]:
    codes = {str(r["org_unit"]) for h in households.values() for r in h.loans}
    units = {u.code: u for u in Unit.objects.filter(code__in=codes)}
    missing = sorted(codes - set(units))
    if missing:
        shown = ", ".join(missing[:10])
        raise InvalidAction(
            translatable(
                "the snapshot names {count} unit(s) casework does not know ({shown}): bring the "
                "organisation tree into casework first",
                count=len(missing),
                shown=shown,
            )
        )
    return units


def _upsert_households(
    households: Mapping[str, _Household], units: Mapping[str, Unit]
) -> dict[str, Household]:
    """Every household of the snapshot, created or brought in step with the tape."""
    existing: dict[str, Household] = {}
    ids = list(households)
    for chunk in _batched(ids):
        for found in Household.objects.filter(borrower_id__in=chunk):
            existing[found.borrower_id] = found
    creates: list[Household] = []
    updates: list[Household] = []
    for borrower_id, household in households.items():
        largest = household.largest()
        values = {
            "name": _text(largest.get("borrower_name")),
            "id_number": _text(largest.get("id_number")),
            "borrower_type": _text(largest.get("borrower_type")),
            "unit_id": units[str(largest["org_unit"])].pk,
        }
        row = existing.get(borrower_id)
        if row is None:
            created = Household(
                borrower_id=borrower_id, phones=_text(largest.get("phone")), **values
            )
            creates.append(created)
            existing[borrower_id] = created
            continue
        values["phones"] = _phones(row.phones, _text(largest.get("phone")))
        if any(getattr(row, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            updates.append(row)
    _bulk_insert(creates, key="borrower_id")
    _bulk_update(updates, list(_HOUSEHOLD_FIELDS))
    return existing


def _open_cases() -> dict[int, Case]:
    """Every open case, by household (those the snapshot does not show included)."""
    return {case.household_id: case for case in Case.objects.filter(closed_on__isnull=True)}


def _absent_cases(
    open_cases: Mapping[int, Case],
    household_rows: Mapping[str, Household],
    households: Mapping[str, _Household],
) -> list[Case]:
    present = {household_rows[bid].pk for bid in households}
    return [case for household_id, case in open_cases.items() if household_id not in present]


def _case_loans(cases: Sequence[Case]) -> dict[int, dict[str, CaseLoan]]:
    found: dict[int, dict[str, CaseLoan]] = defaultdict(dict)
    ids = [case.pk for case in cases]
    for chunk in _batched(ids):
        for loan in CaseLoan.objects.filter(case_id__in=chunk):
            found[loan.case_id][loan.loan_id] = loan
    return found


def _diff_loans(
    case: Case,
    rows: Iterable[Mapping[str, Any]],
    current: Mapping[str, CaseLoan],
    as_of: date,
) -> tuple[list[CaseLoan], list[CaseLoan], bool]:
    """The case's loans to create and to update so that they show the snapshot's rows, and
    whether anything but the month moved."""
    creates: list[CaseLoan] = []
    updates: list[CaseLoan] = []
    moved = False
    for row in rows:
        loan = current.get(str(row["loan_id"]))
        values: dict[str, Any] = {
            "product": _text(row.get("product")),
            "org_unit": _text(row["org_unit"]),
            "officer_id": _text(row.get("officer_id")),
            "principal_balance": _money(row["principal_balance"]),
            "overdue_interest": _money(row.get("overdue_interest")),
            "days_past_due": int(row["days_past_due"] or 0),
            "loan_class": _text(row.get("final_class")),
            "is_npl": bool(row["is_npl"]),
            "status": _text(row["status"]),
            "collateral_value": _money(row.get("collateral_value")),
            "as_of": as_of,
        }
        if values["status"] == ACTIVE:
            values["owed"] = values["principal_balance"] + values["overdue_interest"]
            values["owed_as_of"] = as_of
        elif loan is None:
            # First seen off the books: it owed nothing casework saw (a Decimal, as the
            # column's other values: PostgreSQL's arrays take one type).
            values["owed"] = ZERO
        if loan is None:
            creates.append(CaseLoan(case=case, loan_id=str(row["loan_id"]), **values))
            moved = True
        elif any(getattr(loan, k) != v for k, v in values.items()):
            moved = moved or any(
                getattr(loan, k) != v for k, v in values.items() if k not in _MONTH_FIELDS
            )
            for key, value in values.items():
                setattr(loan, key, value)
            updates.append(loan)
    return creates, updates, moved


def _open_cases_for(
    households: Sequence[_Household],
    household_rows: Mapping[str, Household],
    as_of: date,
    params: CaseworkParams,
) -> list[tuple[Case, _Household]]:
    """New cases, numbered ``<borrower_id>-<n>`` and linked to the household's last case."""
    if not households:
        return []
    ids = [household_rows[h.borrower_id].pk for h in households]
    earlier: dict[int, tuple[int, int]] = {}
    for chunk in _batched(ids):
        for row in (
            Case.objects.filter(household_id__in=chunk)
            .values("household_id")
            .annotate(n=Count("id"), last=Max("id"))
        ):
            earlier[row["household_id"]] = (row["n"], row["last"])
    officers = {str(h.largest().get("officer_id") or "") for h in households} - {""}
    owners: dict[str, Person] = {}
    for chunk in _batched(sorted(officers)):
        for person in Person.objects.filter(user__username__in=chunk, active=True).select_related(
            "user"
        ):
            owners[person.user.get_username()] = person
    teams = _clearing_teams({household_rows[h.borrower_id].unit_id for h in households}, as_of)
    created: list[tuple[Case, _Household]] = []
    for household in households:
        home = household_rows[household.borrower_id]
        count, last = earlier.get(home.pk, (0, None))
        npl = household.npl()
        focus = max(npl, key=lambda r: _money(r["principal_balance"])) if npl else None
        if focus is None:
            focus = household.largest()
        sums = _sums(household.loans)
        case = Case(
            number=f"{household.borrower_id}-{count + 1}",
            household=home,
            kind=CaseKind.NPL if npl else CaseKind.EARLY_WARNING,
            unit_id=home.unit_id,
            opened_on=as_of,
            deadline=as_of,
            previous_case_id=last,
            owner=owners.get(_text(focus.get("officer_id"))),
            team_id=teams.get(home.unit_id),
            written_off=any(r["status"] == "written_off" for r in household.loans),
            synced_as_of=as_of,
            **sums,
        )
        for key, value in derived_strategy(
            case, ability=Ability.UNKNOWN, willingness=Willingness.WILLING
        ).items():
            setattr(case, key, value)
        case.deadline = params.deadline(as_of, case.tier)
        created.append((case, household))
    _bulk_insert([case for case, _ in created], key="number")
    return created


def _clearing_teams(unit_ids: set[int], as_of: date) -> dict[int, int]:
    """The clearing team of each unit that has exactly one: active on ``as_of`` and covering
    the unit, directly or through a unit above it. A unit with none, or with several (which
    one is for a lead to say), is not in the result."""
    if not unit_ids:
        return {}
    paths = dict(Unit.objects.filter(pk__in=unit_ids).values_list("pk", "path"))
    covered: dict[str, set[int]] = defaultdict(set)
    teams = Team.objects.filter(kind=TeamKind.CLEARING_TEAM, active_from__lte=as_of).exclude(
        active_to__lt=as_of
    )
    for team_id, path in teams.values_list("pk", "units__path"):
        if path is not None:
            covered[path].add(team_id)
    found: dict[int, int] = {}
    for unit_id, path in paths.items():
        ids = set().union(*(ids for cover, ids in covered.items() if path.startswith(cover)))
        if len(ids) == 1:
            found[unit_id] = ids.pop()
    return found


def units_from_store(
    store_path: Path, *, actor: Person, only_when_new: bool = False
) -> dict[str, int] | None:
    """Bring casework's units in step with the organisation file imported into the tape store
    (``services.units_sync``, as ``actor``: the system actor for month-end jobs). With
    ``only_when_new``, nothing is written unless the file names a unit casework does not know
    yet (so a repeated sync writes nothing). Returns the counts, or ``None`` when nothing was
    written."""
    from npldesk.casework.services import units_sync
    from npldesk.core.errors import UsageError
    from npldesk.tape.org import load_org
    from npldesk.tape.store import Store

    org = load_org(Store(store_path))
    if not org:
        raise UsageError(
            translatable("no organisation file imported: run `npldesk org import FILE` first")
        )
    if only_when_new and {u.code for u in org} <= set(Unit.objects.values_list("code", flat=True)):
        return None
    return units_sync(
        actor=actor,
        org_units=[
            {"code": u.code, "name": u.name, "parent": u.parent_code, "level": u.level} for u in org
        ],
    )
