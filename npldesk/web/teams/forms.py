"""The team board's one write: cases chosen on the board given to an owner and a team."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _


class ReassignForm(forms.Form):
    """Bulk reassignment. Each chosen case carries the version the board showed
    (``<number>:<version>``), so a case changed in another tab meanwhile fails the batch."""

    cases = forms.MultipleChoiceField(label=_("Cases"), widget=forms.CheckboxSelectMultiple)
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    team = forms.ChoiceField(label=_("Team"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=500)

    def __init__(
        self, *args: Any, cases: Any = (), owners: Any = (), teams: Any = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["cases"]).choices = [(c, c) for c in cases]
        cast(forms.ChoiceField, self.fields["owner"]).choices = [("", "—"), *owners]
        cast(forms.ChoiceField, self.fields["team"]).choices = [("", "—"), *teams]

    def clean_cases(self) -> dict[str, int]:
        """Case number → the version the board showed."""
        chosen: dict[str, int] = {}
        for value in self.cleaned_data["cases"]:
            number, _sep, version = value.rpartition(":")
            if not number or not version.isdigit():
                raise forms.ValidationError(_("A chosen case is not one the board showed."))
            chosen[number] = int(version)
        return chosen
