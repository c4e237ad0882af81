"""Risk reminders: a unit's pack delivered to its people's inboxes, the e-mail notice that it
came, and each reader's reading and acknowledgement — each one transaction with its audit
record.

Delivery is idempotent: a pack is one per unit and month, a delivery one per pack and person,
so delivering a month again (a month-end rerun) creates only what is missing, and the caller
calls nothing when nothing is missing (``reports.reminders``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone

from npldesk.casework import audit
from npldesk.casework.access import Action, require, require_person
from npldesk.casework.errors import AccessDenied, InvalidAction
from npldesk.casework.models import Person, ReminderDelivery, ReminderPack, Unit
from npldesk.core.i18n import translatable


@audit.service()
def reminder_pack_deliver(
    *,
    actor: Person,
    unit: Unit,
    as_of: date,
    built_on: date,
    counts: dict[str, int],
    sections: dict[str, list[dict[str, Any]]],
    people: list[Person],
) -> ReminderPack:
    """Deliver ``unit``'s pack for ``as_of`` to ``people``: the pack is kept the first time
    (a pack already kept for the month stays as it is), and each person without a delivery of
    it gets one. Refused when there is nothing to deliver."""
    require(actor, Action.SYNC)
    now = timezone.now()
    pack = ReminderPack.objects.select_for_update().filter(unit=unit, as_of=as_of).first()
    created = pack is None
    if pack is None:
        pack = ReminderPack.objects.create(
            unit=unit,
            as_of=as_of,
            built_on=built_on,
            built_at=now,
            counts=audit.jsonable(counts),
            sections=audit.jsonable(sections),
        )
    already = set(pack.deliveries.values_list("person_id", flat=True))
    new = [p for p in people if p.pk not in already]
    if not created and not new:
        raise InvalidAction(
            translatable(
                "the reminders of {unit} for {month} are delivered already",
                unit=unit.code,
                month=f"{as_of:%Y-%m}",
            )
        )
    ReminderDelivery.objects.bulk_create(
        ReminderDelivery(pack=pack, person=person, delivered_at=now) for person in new
    )
    audit.record(
        actor=actor,
        action="reminder_pack_deliver",
        obj=pack,
        after={
            "unit": unit.code,
            "as_of": as_of,
            "built_on": pack.built_on,
            "counts": pack.counts,
            "delivered_to": sorted(p.user.get_username() for p in new),
        },
    )
    return pack


@audit.service()
def reminder_pack_mailed(
    *, actor: Person, pack: ReminderPack, mailed: dict[int, str]
) -> ReminderPack:
    """Record that the e-mail notice of ``pack`` went to these deliveries (delivery id → the
    address), after the SMTP server accepted each."""
    require(actor, Action.SYNC)
    if not mailed:
        raise InvalidAction(translatable("no e-mail notice to record"))
    now = timezone.now()
    deliveries = list(
        ReminderDelivery.objects.select_for_update()
        .filter(pack=pack, pk__in=list(mailed), emailed_at__isnull=True)
        .select_related("person__user")
    )
    for delivery in deliveries:
        delivery.emailed_to = mailed[delivery.pk]
        delivery.emailed_at = now
    ReminderDelivery.objects.bulk_update(deliveries, ["emailed_to", "emailed_at"])
    audit.record(
        actor=actor,
        action="reminder_pack_mailed",
        obj=pack,
        after={
            "unit": pack.unit.code,
            "as_of": pack.as_of,
            "mailed_to": sorted(d.person.user.get_username() for d in deliveries),
        },
    )
    return pack


def _own(actor: Person, delivery: ReminderDelivery, what: str) -> None:
    require_person(actor, what)
    if delivery.person_id != actor.pk:
        raise AccessDenied(
            translatable("only the person a reminder went to may mark it read or acknowledge it")
        )


@audit.service()
def reminder_delivery_read(*, actor: Person, delivery: ReminderDelivery) -> ReminderDelivery:
    """The reader marks a pack delivered to them read."""
    _own(actor, delivery, "mark it read")
    if delivery.read_at is not None:
        raise InvalidAction(translatable("this reminder is marked read already"))
    delivery.read_at = timezone.now()
    delivery.save(update_fields=["read_at"])
    audit.record(
        actor=actor,
        action="reminder_delivery_read",
        obj=delivery,
        after={"pack": delivery.pack_id, "read_at": delivery.read_at},
    )
    return delivery


@audit.service()
def reminder_delivery_acknowledge(*, actor: Person, delivery: ReminderDelivery) -> ReminderDelivery:
    """The reader acknowledges a pack delivered to them (and so has read it)."""
    _own(actor, delivery, "acknowledge it")
    if delivery.acknowledged_at is not None:
        raise InvalidAction(translatable("this reminder is acknowledged already"))
    before = audit.snapshot(delivery, ["read_at", "acknowledged_at"])
    now = timezone.now()
    delivery.read_at = delivery.read_at or now
    delivery.acknowledged_at = now
    delivery.save(update_fields=["read_at", "acknowledged_at"])
    audit.record(
        actor=actor,
        action="reminder_delivery_acknowledge",
        obj=delivery,
        before=before,
        after=audit.snapshot(delivery, ["read_at", "acknowledged_at"]),
    )
    return delivery
