"""The forms of the cases area: each parses one action's input for one service call."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from npldesk.casework.choices import (
    ActivityKind,
    ActivityParty,
    ActivityPurpose,
    CaseState,
    CloseReason,
    DocumentKind,
    LegalStage,
    Outcome,
    RecoverySource,
    RepaymentPlanKind,
    Strategy,
    Tier,
)
from npldesk.casework.config import casework_settings


def money_field(label: Any, *, required: bool = True) -> forms.DecimalField:
    """An amount of yuan a person types: more than zero, to the fen."""
    return forms.DecimalField(
        label=label, required=required, max_digits=18, decimal_places=2, min_value=Decimal("0.01")
    )


def _set_choices(field: forms.Field, choices: Any) -> None:
    cast(forms.ChoiceField, field).choices = choices


def _blank(choices: Any) -> list[tuple[str, Any]]:
    return [("", "—"), *choices.choices]


class CaseFilterForm(forms.Form):
    """The case list's filters (GET); every field optional."""

    q = forms.CharField(label=_("Household or case"), required=False, max_length=80)
    state = forms.ChoiceField(label=_("State"), choices=_blank(CaseState), required=False)
    unit = forms.CharField(label=_("Unit"), required=False, max_length=32)
    team = forms.CharField(label=_("Team"), required=False, max_length=32)
    owner = forms.CharField(label=_("Owner"), required=False, max_length=150)
    strategy = forms.ChoiceField(label=_("Strategy"), choices=_blank(Strategy), required=False)
    tier = forms.ChoiceField(label=_("Tier"), choices=_blank(Tier), required=False)
    legal_stage = forms.ChoiceField(
        label=_("Legal stage"), choices=_blank(LegalStage), required=False
    )
    overdue = forms.BooleanField(label=_("Past deadline"), required=False)
    closed = forms.BooleanField(label=_("Include closed cases"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("number", _("Case number")),
            ("deadline", _("Deadline")),
            ("-npl_balance", _("NPL balance, largest first")),
            ("opened_on", _("Opened")),
            ("state", _("State")),
        ],
    )


class VersionedForm(forms.Form):
    """An edit of an object read at ``version``: a stale one is refused, not overwritten."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def _now_local() -> datetime:
    """Now, to the minute, in the conduct rules' time zone (the bank's contact hours)."""
    zone = casework_settings().conduct.zone
    return timezone.now().astimezone(zone).replace(second=0, microsecond=0, tzinfo=None)


class ActivityForm(forms.Form):
    """One-step activity entry: kind, outcome, note, next action; a promise from the same form."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[c for c in ActivityKind.choices if c[0] != ActivityKind.DOCUMENT],
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[c for c in Outcome.choices if c[0] != Outcome.DRAFTED]
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        initial=_now_local,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    party = forms.ChoiceField(label=_("Party reached"), choices=ActivityParty.choices)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=ActivityPurpose.choices)
    notes = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea({"rows": 2}))
    promise_amount = money_field(_("Promised amount"), required=False)
    promise_due_on = forms.DateField(
        label=_("Promised by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        promised = data.get("promise_amount") is not None or data.get("promise_due_on")
        if data.get("outcome") == Outcome.PROMISE and not (
            data.get("promise_amount") is not None and data.get("promise_due_on")
        ):
            raise forms.ValidationError(_("A promise needs the amount and the day it is due."))
        if promised and data.get("outcome") != Outcome.PROMISE:
            raise forms.ValidationError(_("An amount and a day are given only with a promise."))
        if data.get("occurred_at") is not None:
            # The wall-clock time typed, read in the conduct rules' time zone by the service.
            data["occurred_at"] = timezone.localtime(data["occurred_at"]).replace(tzinfo=None)
        return data


class InvestigationForm(forms.Form):
    investigated_on = forms.DateField(
        label=_("Day"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    family_status = forms.CharField(label=_("Family status"), required=False, max_length=200)
    dependants = forms.IntegerField(label=_("Dependants"), min_value=0, initial=0)
    income_source = forms.CharField(label=_("Income source"), required=False, max_length=200)
    monthly_income = forms.DecimalField(
        label=_("Monthly income"), max_digits=18, decimal_places=2, min_value=0, initial=0
    )
    employment_state = forms.CharField(label=_("Employment"), required=False, max_length=200)
    property_type = forms.CharField(label=_("Property"), required=False, max_length=100)
    property_location = forms.CharField(label=_("Location"), required=False, max_length=200)
    property_value = forms.DecimalField(
        label=_("Estimated value"), max_digits=18, decimal_places=2, min_value=0, required=False
    )
    property_encumbrances = forms.DecimalField(
        label=_("Encumbrances"), max_digits=18, decimal_places=2, min_value=0, required=False
    )
    vehicles = forms.DecimalField(
        label=_("Vehicles"), max_digits=18, decimal_places=2, min_value=0, initial=0
    )
    deposits = forms.DecimalField(
        label=_("Deposits"), max_digits=18, decimal_places=2, min_value=0, initial=0
    )
    business_assets = forms.DecimalField(
        label=_("Business assets"), max_digits=18, decimal_places=2, min_value=0, initial=0
    )
    contactability = forms.CharField(label=_("Contactability"), required=False, max_length=200)
    health = forms.CharField(label=_("Health"), required=False, max_length=200)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea({"rows": 2}))

    def properties(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        if not data.get("property_type") and data.get("property_value") is None:
            return []
        return [
            {
                "type": data.get("property_type") or "",
                "location": data.get("property_location") or "",
                "estimated_value": data.get("property_value") or Decimal(0),
                "encumbrances": data.get("property_encumbrances") or Decimal(0),
            }
        ]


class PlanProposalForm(forms.Form):
    strategy = forms.ChoiceField(label=_("Strategy"), choices=Strategy.choices)
    reason = forms.CharField(label=_("Why this strategy"), widget=forms.Textarea({"rows": 2}))
    target_amount = forms.DecimalField(
        label=_("Target amount"), max_digits=18, decimal_places=2, min_value=0
    )
    target_date = forms.DateField(
        label=_("Target date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    milestones = forms.CharField(
        label=_("Milestones (one per line: YYYY-MM-DD task)"),
        required=False,
        widget=forms.Textarea({"rows": 3}),
    )

    def clean_milestones(self) -> list[tuple[date, str]]:
        return _dated_lines(self.cleaned_data.get("milestones") or "", as_task=True)


class DecisionForm(VersionedForm):
    approve = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Approve")), ("0", _("Reject"))],
        coerce=lambda v: v == "1",
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea({"rows": 2}))


class AssignForm(VersionedForm):
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    team = forms.ChoiceField(label=_("Team"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=500)

    def __init__(self, *args: Any, owners: Any = (), teams: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self.fields["owner"], [("", "—"), *owners])
        _set_choices(self.fields["team"], [("", "—"), *teams])


class OverrideForm(VersionedForm):
    strategy = forms.ChoiceField(label=_("Strategy"), choices=_blank(Strategy), required=False)
    tier = forms.ChoiceField(label=_("Tier"), choices=_blank(Tier), required=False)
    deadline = forms.DateField(
        label=_("Deadline"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reason = forms.CharField(label=_("Reason"), max_length=500)


class RecoveryForm(forms.Form):
    loan_id = forms.ChoiceField(label=_("Loan"))
    received_on = forms.DateField(
        label=_("Received on"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    amount = money_field(_("Amount"))
    source = forms.ChoiceField(label=_("Source"), choices=RecoverySource.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args: Any, loans: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self.fields["loan_id"], [(loan, loan) for loan in loans])


class ReverseForm(forms.Form):
    reversed_on = forms.DateField(
        label=_("Day"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reason = forms.CharField(label=_("Reason"), max_length=500)


class RepaymentPlanForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=RepaymentPlanKind.choices)
    agreed_on = forms.DateField(
        label=_("Agreed on"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    discount = forms.DecimalField(
        label=_("Discount"), max_digits=18, decimal_places=2, min_value=0, initial=0
    )
    instalments = forms.CharField(
        label=_("Instalments (one per line: YYYY-MM-DD amount)"),
        widget=forms.Textarea({"rows": 4}),
    )

    def clean_instalments(self) -> list[tuple[date, Decimal]]:
        lines = _dated_lines(self.cleaned_data.get("instalments") or "", as_task=False)
        if not lines:
            raise forms.ValidationError(_("Give at least one instalment."))
        return lines


class LegalOpenForm(forms.Form):
    court = forms.CharField(label=_("Court"), max_length=200)
    claim_amount = money_field(_("Claim amount"))
    lawyer = forms.CharField(label=_("Lawyer or firm"), required=False, max_length=200)
    opened_on = forms.DateField(
        label=_("Opened on"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class LegalAdvanceForm(VersionedForm):
    stage = forms.ChoiceField(label=_("Stage"), choices=LegalStage.choices)
    entered_on = forms.DateField(
        label=_("Day"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    court_case_number = forms.CharField(label=_("Court case number"), required=False)
    next_hearing_on = forms.DateField(
        label=_("Next hearing"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class WriteOffPrepareForm(forms.Form):
    loan_id = forms.ChoiceField(label=_("Loan"))
    principal = money_field(_("Principal"))
    interest = forms.DecimalField(
        label=_("Interest"), max_digits=18, decimal_places=2, min_value=0, initial=0
    )
    prepared_on = forms.DateField(
        label=_("Day"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea({"rows": 2}))

    def __init__(self, *args: Any, loans: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self.fields["loan_id"], [(loan, loan) for loan in loans])


class CloseForm(VersionedForm):
    reason = forms.ChoiceField(label=_("Close reason"), choices=CloseReason.choices)
    closed_on = forms.DateField(
        label=_("Closed on"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(label=_("Note"), max_length=500)


class MilestoneDoneForm(forms.Form):
    done_on = forms.DateField(
        label=_("Done on"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def _dated_lines(lines: str, *, as_task: bool) -> list[tuple[date, Any]]:
    """Lines of ``YYYY-MM-DD rest``: the rest a task (``as_task``) or an amount."""
    result: list[tuple[date, Any]] = []
    for number, line in enumerate(lines.splitlines(), start=1):
        if not line.strip():
            continue
        day, _sep, rest = line.strip().partition(" ")
        try:
            on = date.fromisoformat(day)
        except ValueError as exc:
            raise forms.ValidationError(
                _("Line %(n)s: begin with a day as YYYY-MM-DD."), params={"n": number}
            ) from exc
        if as_task:
            if not rest.strip():
                raise forms.ValidationError(_("Line %(n)s: name the task."), params={"n": number})
            result.append((on, rest.strip()))
            continue
        try:
            amount = Decimal(rest.strip().replace(",", ""))
        except ArithmeticError as exc:
            raise forms.ValidationError(
                _("Line %(n)s: the amount is not a number."), params={"n": number}
            ) from exc
        if not amount.is_finite() or amount <= 0:
            raise forms.ValidationError(
                _("Line %(n)s: the amount must be more than zero."), params={"n": number}
            )
        result.append((on, amount))
    return result


class DocumentForm(forms.Form):
    """A legal document to draft from the case: its kind and the day its amounts are owed on."""

    kind = forms.ChoiceField(label=_("Document"), choices=DocumentKind.choices)
    as_of = forms.DateField(
        label=_("Amounts owed as of"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
