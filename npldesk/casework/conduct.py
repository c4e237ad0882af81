"""Conduct rules for collection contact (``docs/casework-rules.md``, "Conduct rules"), free of
Django and the database: the service that records an activity gathers the facts and asks
``check`` whether the contact may be recorded; a refusal names the rule it broke.

Settings come from ``[conduct]`` in ``npldesk.toml``; the rules are on by default:

- ``contact_hours``: calls and visits only from ``contact_start`` (inclusive) to
  ``contact_end`` (exclusive), local time in ``timezone`` (08:00-21:00, Asia/Shanghai);
- ``daily_attempts``: at most ``daily_attempts`` contact attempts per household per calendar
  day (3), and ``weekly_attempts`` per rolling 7 days (10), answered or not;
- ``third_party``: no collection contact with a third party (anyone who is neither the
  borrower, a household member nor a guarantor); asking a third party how to reach the
  borrower is allowed.

A team lead's documented exception (``ConductException``) lifts the rules for one case for at
most ``MAX_EXCEPTION_DAYS`` days.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from npldesk.casework.choices import CONTACT_KINDS, ActivityKind, ActivityParty, ActivityPurpose
from npldesk.casework.errors import InvalidAction
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable

MAX_EXCEPTION_DAYS = 7
# Kinds held to the contact hours: a call or a visit reaches a person at a moment.
TIMED_KINDS = frozenset({ActivityKind.PHONE, ActivityKind.VISIT})
RULES = ("contact_hours", "daily_attempts", "weekly_attempts", "third_party")


class ConductRefused(InvalidAction):
    """An activity the conduct rules refuse; ``rule`` names the rule."""

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        super().__init__(translatable("conduct rule {rule}: {message}", rule=rule, message=message))


@dataclass(frozen=True)
class ConductParams:
    enabled: bool = True
    timezone: str = "Asia/Shanghai"
    contact_start: time = time(8, 0)
    contact_end: time = time(21, 0)
    daily_attempts: int = 3
    weekly_attempts: int = 10
    third_party_collection: bool = False

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, moment: datetime) -> datetime:
        """``moment`` in the rules' time zone (a naive time is taken as already local)."""
        if moment.tzinfo is None:
            return moment.replace(tzinfo=self.zone)
        return moment.astimezone(self.zone)


def _clock(value: Any, where: str) -> time:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise UsageError(
            translatable(
                '{where}: a time of day such as "08:00", not {value!r}', where=where, value=value
            )
        ) from None


def conduct_params(config: Mapping[str, Any]) -> ConductParams:
    """``ConductParams`` from the ``[conduct]`` table; a bad value is a ``UsageError``."""
    section = config.get("conduct", {})
    if not isinstance(section, Mapping):
        raise UsageError(
            translatable("npldesk.toml [conduct]: a table of settings, not a single value")
        )
    defaults = ConductParams()
    values: dict[str, Any] = {}
    for name, value in section.items():
        where = f"npldesk.toml [conduct] {name}"
        if name in ("enabled", "third_party_collection"):
            if not isinstance(value, bool):
                raise UsageError(
                    translatable("{where}: true or false, not {value!r}", where=where, value=value)
                )
            values[name] = value
        elif name == "timezone":
            try:
                ZoneInfo(str(value))
            except (ZoneInfoNotFoundError, ValueError):
                raise UsageError(
                    translatable("{where}: a time zone such as Asia/Shanghai", where=where)
                ) from None
            values[name] = str(value)
        elif name in ("contact_start", "contact_end"):
            values[name] = _clock(value, where)
        elif name in ("daily_attempts", "weekly_attempts"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(
                    translatable(
                        "{where}: a whole number of one or more, not {value!r}",
                        where=where,
                        value=value,
                    )
                )
            values[name] = value
        else:
            raise UsageError(
                translatable("npldesk.toml [conduct]: unknown setting {name!r}", name=name)
            )
    params = ConductParams(**{**defaults.__dict__, **values})
    if params.contact_start >= params.contact_end:
        raise UsageError(
            translatable("npldesk.toml [conduct]: contact_start comes before contact_end")
        )
    return params


@dataclass(frozen=True)
class Contact:
    """The activity to be recorded, as the conduct rules see it."""

    kind: str
    at: datetime | None  # local time; None when only the day is known
    on: date
    party: str
    purpose: str


def check(contact: Contact, *, earlier: Iterable[date], params: ConductParams) -> None:
    """Refuse ``contact`` (``ConductRefused``) if it breaks a rule; ``earlier`` are the days of
    the household's contact attempts already recorded."""
    if not params.enabled:
        return
    if (
        contact.party == ActivityParty.THIRD_PARTY
        and contact.purpose == ActivityPurpose.COLLECTION
        and not params.third_party_collection
    ):
        raise ConductRefused(
            "third_party",
            translatable(
                "no collection contact with a third party (only asking how to reach the borrower)"
            ),
        )
    if contact.kind in TIMED_KINDS:
        start, end = params.contact_start, params.contact_end
        hours = f"{start:%H:%M}-{end:%H:%M} {params.timezone}"
        if contact.at is None:
            raise ConductRefused(
                "contact_hours",
                translatable("a call or visit needs its time ({hours})", hours=hours),
            )
        local = params.local(contact.at).time()
        if not start <= local < end:
            raise ConductRefused(
                "contact_hours",
                translatable(
                    "calls and visits only {hours}, not at {local}",
                    hours=hours,
                    local=f"{local:%H:%M}",
                ),
            )
    if contact.kind not in CONTACT_KINDS:
        return
    days = list(earlier)
    same_day = sum(1 for d in days if d == contact.on)
    if same_day >= params.daily_attempts:
        raise ConductRefused(
            "daily_attempts",
            translatable(
                "at most {limit} contact attempts per household a day ({count} already on {day})",
                limit=params.daily_attempts,
                count=same_day,
                day=contact.on.isoformat(),
            ),
        )
    week_start = contact.on - timedelta(days=6)
    in_week = sum(1 for d in days if week_start <= d <= contact.on)
    if in_week >= params.weekly_attempts:
        raise ConductRefused(
            "weekly_attempts",
            translatable(
                "at most {limit} contact attempts per household in 7 days "
                "({count} already from {first} to {day})",
                limit=params.weekly_attempts,
                count=in_week,
                first=week_start.isoformat(),
                day=contact.on.isoformat(),
            ),
        )
