"""The case list and the case page: scope, masking, and every action through one service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import timezone

from npldesk.casework.models import AuditRecord, Case, Person, Plan, Promise
from npldesk.web.cases.forms import CaseFilterForm
from tests.casework.world import World, propose_plan

Sign = Callable[[Person], Client]


def test_the_case_list_shows_cases_in_scope_with_names_masked(
    world: World, client_for: Sign
) -> None:
    world.case.household.name = "王小明"
    world.case.household.save()
    text = client_for(world.officer).get("/cases/").content.decode()
    assert world.case.number in text
    assert "王**" in text and "王小明" not in text


def test_the_case_list_flags_an_open_case_past_its_deadline(world: World, client_for: Sign) -> None:
    Case.objects.filter(pk=world.case.pk).update(deadline=timezone.localdate() - timedelta(days=1))
    text = client_for(world.officer).get("/cases/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    row = text.split(f">{world.case.number}</a>", 1)[0].rsplit("<tr", 1)[1]
    assert 'class="warn"' in row
    Case.objects.filter(pk=world.case.pk).update(closed_on=timezone.localdate())
    text = client_for(world.officer).get("/cases/?closed=on").content.decode()
    row = text.split(f">{world.case.number}</a>", 1)[0].rsplit("<tr", 1)[1]
    assert 'class="warn"' not in row


def test_a_case_outside_the_persons_scope_is_not_found(world: World, client_for: Sign) -> None:
    assert client_for(world.outsider).get(f"/cases/{world.case.number}/").status_code == 404
    assert world.case.number not in client_for(world.outsider).get("/cases/").content.decode()


def test_a_unit_filter_outside_scope_is_not_found_and_an_empty_match_is_an_empty_page(
    world: World, client_for: Sign
) -> None:
    client = client_for(world.outsider)
    assert client.get("/cases/?unit=HB01").status_code == 404
    response = client.get("/cases/?state=resolved")
    assert response.status_code == 200


def test_search_finds_a_household_by_its_id_number_and_shows_it_masked(
    world: World, client_for: Sign
) -> None:
    household = world.case.household
    household.id_number = "340602198001011234"
    household.save()
    text = client_for(world.officer).get("/cases/?q=340602198001011234").content.decode()
    rows = text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert world.case.number in rows
    assert "340602198001011234" not in rows


def test_personal_data_is_shown_on_request_and_recorded(world: World, client_for: Sign) -> None:
    household = world.case.household
    household.id_number = "340602198001011234"
    household.save()
    client = client_for(world.officer)
    assert "340602198001011234" not in client.get(f"/cases/{world.case.number}/").content.decode()
    response = client.post(f"/cases/{world.case.number}/personal-data/")
    assert "340602198001011234" in response.content.decode()
    assert AuditRecord.objects.filter(
        action="personal_data_view", actor=world.officer, case=world.case
    ).exists()


def test_an_activity_with_a_promise_is_one_service_call_from_one_form(
    world: World, client_for: Sign
) -> None:
    today = timezone.localdate()
    before = AuditRecord.objects.count()
    response = client_for(world.officer).post(
        f"/cases/{world.case.number}/activity/",
        {
            "kind": "visit",
            "outcome": "promise",
            "occurred_at": f"{today.isoformat()}T10:30",
            "party": "borrower",
            "purpose": "collection",
            "notes": "met at the shop",
            "promise_amount": "1500.00",
            "promise_due_on": (today + timedelta(days=7)).isoformat(),
        },
    )
    assert response.status_code == 302
    promise = Promise.objects.get(case=world.case)
    assert promise.amount == Decimal("1500.00")
    assert AuditRecord.objects.count() == before + 1
    assert AuditRecord.objects.latest("id").action == "activity_record"


def test_a_form_that_breaks_a_rule_comes_back_with_the_message_and_writes_nothing(
    world: World, client_for: Sign
) -> None:
    client = client_for(world.officer)
    response = client.post(
        f"/cases/{world.case.number}/activity/",
        {
            "kind": "visit",
            "outcome": "promise",
            "occurred_at": "2019-12-31T10:00",
            "party": "borrower",
            "purpose": "collection",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert not Promise.objects.exists()
    assert any(
        "promise" in str(m).lower() or "承诺" in str(m) for m in response.context["messages"]
    )


def test_a_lead_approves_a_plan_and_a_stale_second_tab_gets_a_conflict(
    world: World, client_for: Sign
) -> None:
    plan = propose_plan(world)
    client = client_for(world.lead)
    url = f"/cases/{world.case.number}/plans/{plan.pk}/decide/"
    first = client.post(url, {"version": plan.version, "approve": "1", "note": "ok"})
    assert first.status_code == 302
    assert Plan.objects.get(pk=plan.pk).state == "approved"
    stale = client.post(url, {"version": plan.version, "approve": "0", "note": "no"}, follow=True)
    assert Plan.objects.get(pk=plan.pk).state == "approved"
    assert stale.status_code == 200
    assert list(stale.context["messages"])


def test_an_officer_cannot_decide_a_plan(world: World, client_for: Sign) -> None:
    plan = propose_plan(world)
    client_for(world.officer2).post(
        f"/cases/{world.case.number}/plans/{plan.pk}/decide/",
        {"version": plan.version, "approve": "1", "note": ""},
    )
    assert Plan.objects.get(pk=plan.pk).state == "proposed"


def test_a_lead_reassigns_a_case_with_a_reason(world: World, client_for: Sign) -> None:
    response = client_for(world.lead).post(
        f"/cases/{world.case.number}/assign/",
        {
            "version": world.case.version,
            "owner": world.officer2.user.username,
            "team": "",
            "reason": "balance the load",
        },
    )
    assert response.status_code == 302
    assert Case.objects.get(pk=world.case.pk).owner == world.officer2


def test_the_worklist_puts_a_broken_promise_first_and_flags_it(
    world: World, client_for: Sign
) -> None:
    Case.objects.filter(pk=world.case.pk).update(
        broken_promises=1, next_promise_due=date(2020, 1, 5)
    )
    text = client_for(world.officer).get("/worklist/").content.decode()
    assert world.case.number in text
    assert 'class="flag alert"' in text


def test_a_refusal_of_casework_is_said_in_the_readers_language(
    world: World, client_for: Sign
) -> None:
    from django.conf import settings

    today = timezone.localdate()
    late = {
        "kind": "visit",
        "outcome": "promise",
        "occurred_at": f"{today.isoformat()}T10:00",
        "party": "borrower",
        "purpose": "collection",
        "promise_amount": "1500.00",
        "promise_due_on": (today - timedelta(days=1)).isoformat(),
    }
    said = {}
    for language in ("zh-hans", "en"):
        client = client_for(world.officer)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        response = client.post(f"/cases/{world.case.number}/activity/", late, follow=True)
        said[language] = [str(m) for m in response.context["messages"]]
        assert said[language][0] in response.content.decode()
    assert not Promise.objects.exists()
    assert said["zh-hans"] == ["还款承诺的到期日不得早于作出承诺的当天"]
    assert said["en"] == ["a promise falls due on or after the day it is made"]


def test_the_history_names_each_action_in_the_readers_language(
    world: World, client_for: Sign
) -> None:
    from django.conf import settings

    propose_plan(world)
    client = client_for(world.officer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    text = client.get(f"/cases/{world.case.number}/").content.decode()
    history = text.split('id="hist-h"')[1]
    assert "方案已提交" in history
    assert "plan_propose" not in history


def test_an_empty_form_is_made_once_per_language_and_minute() -> None:
    """The case page's empty forms are shared between requests: in the page's language, with
    the minute the page is asked for as the activity's first value."""
    from django.utils import translation

    from npldesk.web.cases import forms as case_forms
    from npldesk.web.cases.views import blank_form

    before = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    with translation.override("zh-hans"):
        chinese = blank_form(case_forms.ActivityForm)
        assert blank_form(case_forms.ActivityForm) is chinese
    with translation.override("en"):
        english = blank_form(case_forms.ActivityForm)
    after = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    assert "结果" in chinese and "Outcome" in english and "结果" not in english
    # The minute may turn between the reads: the form holds one of the two.
    assert f'value="{before}"' in english or f'value="{after}"' in english


def test_the_case_list_counts_its_cases_with_thousands_separators() -> None:
    """A county's list runs to thousands of cases: its count reads 2,029, as every count."""
    request = RequestFactory().get("/cases/")
    request.person = None  # type: ignore[attr-defined]
    page = Paginator(range(2029), 50).page(1)
    shown = render_to_string(
        "web/cases/list.html", {"form": CaseFilterForm(), "page": page, "rows": []}, request
    )
    assert "<small>2,029</small>" in shown
