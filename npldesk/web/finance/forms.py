"""The finance desk's writes: prepare a write-off, decide one, confirm a recovery."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from npldesk.web.cases.forms import DecisionForm, money_field

__all__ = ["DecisionForm", "MonthForm", "PrepareForm"]


class PrepareForm(forms.Form):
    case = forms.CharField(widget=forms.HiddenInput, max_length=80)
    loan_id = forms.CharField(widget=forms.HiddenInput, max_length=64)
    principal = money_field(_("Principal"))
    interest = forms.DecimalField(
        label=_("Interest"), max_digits=18, decimal_places=2, min_value=0, initial=0
    )
    reason = forms.CharField(label=_("Reason"), max_length=500)
    prepared_on = forms.DateField(label=_("Prepared on"), initial=timezone.localdate)


class MonthForm(forms.Form):
    month = forms.DateField(label=_("Month"), required=False, input_formats=["%Y-%m-%d"])
