"""``/inbox/``: the risk-reminder packs delivered to the signed-in person; a pack's names
follow the reader's masking rules; reading and acknowledging are recorded; anyone else's
delivery is not found; the navigation shows the unread count."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.test import Client

from npldesk.casework import services
from npldesk.casework.models import AuditRecord, Person, ReminderDelivery, ReminderPack
from tests.casework.world import World

Sign = Callable[[Person], Client]
AS_OF = date(2019, 12, 31)


@pytest.fixture
def client_for(client_for: Sign) -> Sign:
    """Clients that read the pages in English (the web app's default is Chinese)."""

    def english(person: Person) -> Client:
        client = client_for(person)
        client.cookies["django_language"] = "en"
        return client

    return english


def _pack(world: World, *people: Person) -> ReminderPack:
    """HB01's pack naming the world's case (owned by ``world.officer``) past its deadline."""
    case = world.case
    item = {
        "case": case.number,
        "household": case.household.borrower_id,
        "npl_balance": str(case.npl_balance),
        "owner": world.officer.name,
        "deadline": "2020-01-05",
    }
    clock = item | {"clock": "limitation", "last_day": "2020-02-20", "days_left": 20}
    sections = {
        "new_npl": [
            {
                "loan_id": "L-NEW",
                "household": case.household.borrower_id,
                "org_unit": "HB0101",
                "product": "consumer",
                "principal_balance": "12345.60",
                "days_past_due": 95,
                "class": "substandard",
            }
        ],
        "deadline_past": [item],
        "legal_clock": [clock | {"state": "due_30"}],
    }
    pack: ReminderPack = services.reminder_pack_deliver(
        actor=world.analyst,
        unit=world.units["HB01"],
        as_of=AS_OF,
        built_on=date(2020, 1, 31),
        counts={name: len(items) for name, items in sections.items()},
        sections=sections,
        people=list(people),
    )
    return pack


def _delivery(pack: ReminderPack, person: Person) -> ReminderDelivery:
    return ReminderDelivery.objects.get(pack=pack, person=person)


def test_the_inbox_lists_the_persons_packs_and_the_navigation_counts_the_unread(
    world: World, client_for: Sign
) -> None:
    pack = _pack(world, world.officer, world.officer2)
    client = client_for(world.officer)
    page = client.get("/inbox/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f'href="/inbox/{_delivery(pack, world.officer).pk}/"' in text
    assert "2019-12" in text and "unread" in text
    assert page.context["inbox_unread"] == 1
    assert client_for(world.lead).get("/worklist/").context["inbox_unread"] == 0
    # Someone with no pack has an empty inbox.
    assert (
        "No reminders delivered to you yet."
        in client_for(world.lead).get("/inbox/").content.decode()
    )


def test_a_pack_shows_names_to_who_works_the_case_and_masks_them_for_the_others(
    world: World, client_for: Sign
) -> None:
    pack = _pack(world, world.officer, world.officer2)
    name = world.case.household.name
    masked = name[0] + "*" * (len(name) - 1)

    own = client_for(world.officer).get(f"/inbox/{_delivery(pack, world.officer).pk}/")
    assert own.status_code == 200
    text = own.content.decode()
    assert name in text and world.case.number in text and "12,345.60" in text
    assert "Cases past their deadline" in text and "Open each household" in text
    assert AuditRecord.objects.filter(
        action="personal_data_export", actor=world.officer, object_id="reminder pack HB01 2019-12"
    ).exists()

    before = AuditRecord.objects.count()
    other = client_for(world.officer2).get(f"/inbox/{_delivery(pack, world.officer2).pk}/")
    text = other.content.decode()
    assert name not in text and masked in text
    assert AuditRecord.objects.count() == before  # a masked view records nothing


def test_reading_and_acknowledging_are_recorded_and_only_by_the_reader(
    world: World, client_for: Sign
) -> None:
    pack = _pack(world, world.officer, world.officer2)
    mine = _delivery(pack, world.officer)
    theirs = _delivery(pack, world.officer2)
    client = client_for(world.officer)

    # Another person's delivery is not found, to read or to act on.
    assert client.get(f"/inbox/{theirs.pk}/").status_code == 404
    assert client.post(f"/inbox/{theirs.pk}/acknowledge/").status_code == 404
    assert client_for(world.leader).get(f"/inbox/{mine.pk}/").status_code == 404

    done = client.post(f"/inbox/{mine.pk}/read/")
    assert done.status_code == 302 and done["Location"] == f"/inbox/{mine.pk}/"
    mine.refresh_from_db()
    assert mine.read_at is not None and mine.acknowledged_at is None
    assert client.get("/inbox/").context["inbox_unread"] == 0

    client.post(f"/inbox/{mine.pk}/acknowledge/")
    mine.refresh_from_db()
    assert mine.acknowledged_at is not None
    records = AuditRecord.objects.filter(object_id=str(mine.pk), actor=world.officer)
    assert sorted(records.values_list("action", flat=True)) == [
        "reminder_delivery_acknowledge",
        "reminder_delivery_read",
    ]
    # Acknowledging twice says so and records nothing more.
    again = client.post(f"/inbox/{mine.pk}/acknowledge/", follow=True)
    assert "acknowledged already" in again.content.decode()
    assert records.count() == 2
    assert client.get(f"/inbox/{theirs.pk}/read/").status_code == 405


def test_the_inbox_and_a_pack_read_in_chinese(world: World, client_for: Sign) -> None:
    pack = _pack(world, world.officer)
    client = client_for(world.officer)
    client.cookies["django_language"] = "zh-hans"
    listing = client.get("/inbox/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "收件箱" in listing
    shown = client.get(
        f"/inbox/{_delivery(pack, world.officer).pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "风险提示" in shown and "逾期" in shown
