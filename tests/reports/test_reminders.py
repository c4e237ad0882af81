"""``npldesk report reminders``: one pack per unit with exactly its own loans and cases,
delivered to its people's inboxes and noticed by e-mail through a local SMTP server; the 60-
and 30-day clocks in the pack; delivering again writes nothing. In-process on the test
database (SQLite or PostgreSQL, whichever the run uses)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from npldesk.analytics.lists import run_list
from npldesk.analytics.org import units_below
from npldesk.analytics.session import Analytics
from npldesk.casework import selectors, services
from npldesk.casework.models import (
    AuditRecord,
    Case,
    LegalCase,
    Person,
    ReminderDelivery,
    ReminderPack,
    Unit,
)
from npldesk.home import load_home
from npldesk.tape.org import load_org
from tests.casework.factories import PersonFactory
from tests.cli.conftest import make_home
from tests.tape_factory import loan_row

pytestmark = pytest.mark.usefixtures("on_casework")

AS_OF = "2019-12"
TODAY = date(2020, 2, 10)


def _row(n: int, as_of: str, unit: str, dpd: int, cls: str, balance: str = "50000.00") -> Any:
    overdue = balance if dpd else "0.00"
    return loan_row(
        n,
        date.fromisoformat(as_of),
        org_unit=unit,
        principal_balance=balance,
        overdue_principal=overdue,
        days_past_due=str(dpd),
        reported_class=cls,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """Two months: L1 NPL in HB0101 throughout; L2 (HB0102) and L4 (HB0201) turn NPL in
    December; L3 (HB0201) 75 days past due in December; L5 (HB0101) performing."""
    rows = []
    for as_of, late in (("2019-11-30", False), ("2019-12-31", True)):
        rows += [
            _row(1, as_of, "HB0101", 120 if late else 100, "substandard", "80000.00"),
            _row(
                2, as_of, "HB0102", 95 if late else 65, "substandard" if late else "special_mention"
            ),
            _row(3, as_of, "HB0201", 75 if late else 45, "special_mention"),
            _row(
                4,
                as_of,
                "HB0201",
                100 if late else 70,
                "substandard" if late else "special_mention",
            ),
            _row(5, as_of, "HB0101", 0, "normal"),
        ]
    return make_home(tmp_path, rows)


@dataclass
class Staff:
    owner: Person  # HB0101, owns L1's case
    other: Person  # HB0102, works no case
    lead: Person  # HB01's team lead: leads the unit's cases
    analyst: Person  # HB00
    cases: dict[str, Case] = field(default_factory=dict)


def _unit(code: str) -> Unit:
    return Unit.objects.get(code=code)


@pytest.fixture
def staff(cli: Any) -> Staff:
    """Cases synced from the tape, with the alerts a pack reports set on them, and a person
    of each unit to receive the packs."""
    code, _, err = cli("cases", "sync", "--as-of", AS_OF)
    assert code == 0, err
    cases = {c.household.borrower_id: c for c in Case.objects.select_related("household")}
    assert set(cases) >= {"B000001", "B000002", "B000004"}

    def member(role: str, unit: str, name: str) -> Person:
        person: Person = PersonFactory(
            roles=[role], units=[_unit(unit)], user__password="!", user__email=f"{name}@bank.test"
        )
        return person

    people = Staff(
        owner=member("officer", "HB0101", "owner"),
        other=member("officer", "HB0102", "other"),
        lead=member("team_lead", "HB01", "lead"),
        analyst=member("risk_analyst", "HB00", "analyst"),
    )
    one, two, four = cases["B000001"], cases["B000002"], cases["B000004"]
    Case.objects.filter(pk=one.pk).update(owner=people.owner, deadline=TODAY - timedelta(days=5))
    Case.objects.filter(pk=two.pk).update(broken_promises=1)
    Case.objects.filter(pk=four.pk).update(plan_breached=True, next_instalment_due=TODAY)
    # Limitation within 30 days on L1's case; within 60 days and stalled for 100 on L4's.
    LegalCase.objects.create(
        case=one,
        holder=people.owner,
        court="濉溪县人民法院",
        claim_amount=Decimal("80000"),
        stage_since=TODAY - timedelta(days=10),
        limitation_date=TODAY + timedelta(days=20),
    )
    LegalCase.objects.create(
        case=four,
        holder=people.analyst,
        court="相山区人民法院",
        claim_amount=Decimal("50000"),
        stage_since=TODAY - timedelta(days=100),
        limitation_date=TODAY + timedelta(days=50),
    )
    people.cases = {k: Case.objects.get(pk=v.pk) for k, v in cases.items()}
    return people


def _deliver(cli: Any, *extra: str) -> dict[str, Any]:
    code, out, err = cli(
        "report", "reminders", "--as-of", AS_OF, "--today", TODAY.isoformat(),
        "--format", "json", *extra,
    )  # fmt: skip
    assert code == 0, err
    assert "Traceback" not in err
    document: dict[str, Any] = json.loads(out)
    return document


def test_each_units_pack_holds_exactly_its_own_loans_and_cases(cli: Any, home: Path, staff: Staff):
    document = _deliver(cli)
    assert document["packs"] == Unit.objects.count()
    session = Analytics.for_home(load_home(home))
    org = load_org(session.store)
    as_of = date(2019, 12, 31)
    system = selectors.system_actor()
    open_cases = list(Case.objects.filter(closed_on__isnull=True).select_related("unit"))
    for pack in ReminderPack.objects.select_related("unit"):
        # The loans: the lists cut by unit as `npldesk list … --unit CODE` cuts them.
        below = units_below(org, pack.unit.code)
        for section, name, start in (
            ("new_npl", "new-npl", date(2019, 11, 30)),
            ("early_warning", "early-warning", None),
        ):
            expected = run_list(session, name, as_of, start=start, units=below).rows
            assert sorted(i["loan_id"] for i in pack.sections[section]) == sorted(
                r["loan_id"] for r in expected
            ), (pack.unit.code, section)
        # The cases: the open cases of the unit's subtree with each alert.
        mine = [c for c in open_cases if c.unit.path.startswith(pack.unit.path)]
        wanted = {
            "deadline_past": {c.number for c in mine if c.deadline < TODAY},
            "broken_promise": {c.number for c in mine if c.broken_promises > 0},
            "plan_breached": {c.number for c in mine if c.plan_breached},
        }
        for section, numbers in wanted.items():
            assert {i["case"] for i in pack.sections[section]} == numbers, (pack.unit.code, section)
        assert pack.counts == {name: len(items) for name, items in pack.sections.items()}
    # Concretely: the county HB01 holds L1 and L2, HB02 holds L3 and L4, and the bank all.
    packs = {p.unit.code: p for p in ReminderPack.objects.select_related("unit")}
    assert {i["loan_id"] for i in packs["HB01"].sections["new_npl"]} == {"L000002"}
    assert {i["loan_id"] for i in packs["HB02"].sections["new_npl"]} == {"L000004"}
    assert {i["loan_id"] for i in packs["HB00"].sections["new_npl"]} == {"L000002", "L000004"}
    assert {i["loan_id"] for i in packs["HB0201"].sections["early_warning"]} >= {"L000003"}
    assert packs["HB0102"].sections["early_warning"] == []
    assert [i["household"] for i in packs["HB0102"].sections["broken_promise"]] == ["B000002"]
    assert packs["HB0101"].sections["broken_promise"] == []
    # A pack keeps codes and amounts, never a name unmasked, an ID number or a phone.
    text = json.dumps([p.sections for p in packs.values()], ensure_ascii=False)
    assert "张三" not in text and "13800000000" not in text and "340602" not in text
    assert {i["masked_name"] for i in packs["HB00"].sections["early_warning"]} == {"张*"}
    # Each unit's people have its pack, and nobody else.
    assert {(d.person_id, d.pack.unit.code) for d in ReminderDelivery.objects.all()} == {
        (staff.owner.pk, "HB0101"),
        (staff.other.pk, "HB0102"),
        (staff.lead.pk, "HB01"),
        (staff.analyst.pk, "HB00"),
    }
    assert system is not None


def test_the_60_and_30_day_clocks_and_the_stall_appear_in_the_pack(cli: Any, staff: Staff):
    _deliver(cli, "--unit", "HB00")
    (pack,) = ReminderPack.objects.all()
    assert pack.unit.code == "HB00"
    clocks = {
        (i["household"], i["clock"], i["state"], i["days_left"])
        for i in pack.sections["legal_clock"]
    }
    assert clocks == {
        ("B000001", "limitation", "due_30", 20),
        ("B000004", "limitation", "due_60", 50),
    }
    assert [i["household"] for i in pack.sections["legal_stall"]] == ["B000004"]
    # HB01's pack has L1's clock only.
    _deliver(cli, "--unit", "HB01")
    hb01 = ReminderPack.objects.get(unit__code="HB01")
    assert [(i["household"], i["state"]) for i in hb01.sections["legal_clock"]] == [
        ("B000001", "due_30")
    ]


class Inbox:
    """What a local SMTP server received; it refuses the addresses in ``refused``."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refused: set[str] = set()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refused:
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp(home: Path) -> Iterator[Inbox]:
    """A local SMTP server, named in the home's ``[mail]`` table."""
    received = Inbox()
    port = _free_port()
    controller = Controller(received, hostname="127.0.0.1", port=port)
    controller.start()
    config = home / "npldesk.toml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + f'\n[mail]\nhost = "127.0.0.1"\nport = {port}\nsender = "npldesk@bank.test"\n'
        + 'link = "http://npldesk.bank.test"\n',
        encoding="utf-8",
    )
    try:
        yield received
    finally:
        controller.stop()


def test_delivery_by_smtp_carries_counts_and_a_link_and_no_personal_data(
    cli: Any, staff: Staff, smtp: Inbox
):
    document = _deliver(cli)
    assert document["mailed"] == 4
    assert sorted(m["To"] for m in smtp.messages) == sorted(
        f"{n}@bank.test" for n in ("owner", "other", "lead", "analyst")
    )
    to_owner = next(m for m in smtp.messages if m["To"] == "owner@bank.test")
    delivery = ReminderDelivery.objects.get(person=staff.owner)
    body = to_owner.get_payload(decode=True).decode("utf-8")
    assert f"http://npldesk.bank.test/inbox/{delivery.pk}/" in body
    everything = "\n".join(
        m.as_string() + m.get_payload(decode=True).decode("utf-8") for m in smtp.messages
    )
    for personal in ("张三", "张*", "13800000000", "340602", "B000001", "L000001"):
        assert personal not in everything
    assert delivery.emailed_to == "owner@bank.test" and delivery.emailed_at is not None
    mailed = AuditRecord.objects.filter(action="reminder_pack_mailed")
    assert mailed.count() == 4  # one per pack that had somebody to notice
    assert {r.object_id for r in AuditRecord.objects.filter(action="reminder_pack_deliver")} == {
        str(p.pk) for p in ReminderPack.objects.all()
    }


def test_delivering_again_for_the_same_month_writes_nothing(cli: Any, staff: Staff, smtp: Inbox):
    _deliver(cli)
    records, deliveries = AuditRecord.objects.count(), list(ReminderDelivery.objects.values())
    packs, sent = list(ReminderPack.objects.values()), len(smtp.messages)
    again = _deliver(cli)
    assert (again["packs"], again["delivered"], again["mailed"]) == (0, 0, 0)
    assert again["skipped"] == Unit.objects.count()
    assert AuditRecord.objects.count() == records
    assert list(ReminderDelivery.objects.values()) == deliveries
    assert list(ReminderPack.objects.values()) == packs
    assert len(smtp.messages) == sent
    # A person who joins the unit later gets the month's pack once, and only they.
    late = PersonFactory(roles=["officer"], units=[_unit("HB0101")], user__password="!")
    third = _deliver(cli)
    assert (third["packs"], third["delivered"]) == (1, 1)
    assert ReminderDelivery.objects.filter(person=late).count() == 1


def test_acknowledgement_is_recorded_and_names_follow_the_readers_masking(cli: Any, staff: Staff):
    _deliver(cli)
    # The owner of L1's case works it: its name is shown in full, and that view is recorded.
    own = selectors.inbox_delivery(staff.owner, ReminderDelivery.objects.get(person=staff.owner).pk)
    view = selectors.reminder_pack_view(staff.owner, own)
    deadline = next(s for s in view.sections if s.name == "deadline_past")
    assert [(i["household"], i["name"], i["masked"]) for i in deadline.items] == [
        ("B000001", "张三", False)
    ]
    assert AuditRecord.objects.filter(
        action="personal_data_export", actor=staff.owner, object_id__startswith="reminder pack"
    ).exists()
    # An officer of HB0102 who works no case sees B000002's name masked; nothing recorded.
    theirs = ReminderDelivery.objects.get(person=staff.other)
    before = AuditRecord.objects.count()
    view = selectors.reminder_pack_view(
        staff.other, selectors.inbox_delivery(staff.other, theirs.pk)
    )
    shown = [i for s in view.sections for i in s.items]
    assert shown and all(i["masked"] for i in shown)
    assert {i["name"] for i in shown} == {"张*"}
    assert view.unmasked == 0 and AuditRecord.objects.count() == before
    # Someone else's delivery is not found.
    with pytest.raises(Exception, match="no reminder"):
        selectors.inbox_delivery(staff.other, own.pk)

    assert selectors.inbox_unread(staff.other) == 1
    services.reminder_delivery_acknowledge(actor=staff.other, delivery=theirs)
    theirs.refresh_from_db()
    assert theirs.read_at is not None and theirs.acknowledged_at is not None
    assert selectors.inbox_unread(staff.other) == 0
    record = AuditRecord.objects.get(action="reminder_delivery_acknowledge")
    assert (record.actor_id, record.object_id) == (staff.other.pk, str(theirs.pk))
    with pytest.raises(Exception, match="acknowledged already"):
        services.reminder_delivery_acknowledge(actor=staff.other, delivery=theirs)
    with pytest.raises(Exception, match="only the person"):
        services.reminder_delivery_read(actor=staff.owner, delivery=theirs)


def test_a_notice_refused_part_way_fails_and_the_next_run_sends_only_the_rest(
    cli: Any, staff: Staff, smtp: Inbox
):
    smtp.refused = {"lead@bank.test"}
    code, _, err = cli("report", "reminders", "--as-of", AS_OF, "--today", TODAY.isoformat())
    assert code == 1 and "cannot send e-mail through 127.0.0.1" in err and "Traceback" not in err
    # What the server accepted before is recorded; the refused notice is not.
    assert ReminderDelivery.objects.get(person=staff.lead).emailed_at is None
    first = {m["To"] for m in smtp.messages}
    assert "lead@bank.test" not in first
    smtp.refused = set()
    _deliver(cli)
    again = [m["To"] for m in smtp.messages[len(first) :]]
    assert sorted(again) == sorted(
        {f"{n}@bank.test" for n in ("owner", "other", "lead", "analyst")} - first
    )
    assert not ReminderDelivery.objects.filter(emailed_at__isnull=True).exists()


def test_an_unreachable_smtp_server_is_a_clear_error_and_the_inbox_still_has_the_packs(
    cli: Any, home: Path, staff: Staff
):
    config = home / "npldesk.toml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + f'\n[mail]\nhost = "127.0.0.1"\nport = {_free_port()}\n',
        encoding="utf-8",
    )
    code, _, err = cli("report", "reminders", "--as-of", AS_OF, "--today", TODAY.isoformat())
    assert code == 1
    assert "cannot send e-mail through 127.0.0.1" in err and "Traceback" not in err
    assert ReminderDelivery.objects.filter(emailed_at__isnull=True).exists()
    assert ReminderPack.objects.exists()


def test_an_unknown_unit_is_refused(cli: Any, staff: Staff):
    code, _, err = cli("report", "reminders", "--as-of", AS_OF, "--unit", "NOPE")
    assert code == 2 and "unknown unit" in err and "Traceback" not in err
