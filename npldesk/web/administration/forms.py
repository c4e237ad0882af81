"""Administration's forms: a person created, a person's roles, units and standing changed."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from npldesk.casework.choices import Role, TeamKind
from npldesk.web.cases.forms import VersionedForm


class _PersonFields(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple
    )
    units = forms.MultipleChoiceField(label=_("Units"), widget=forms.SelectMultiple({"size": 6}))
    departments = forms.MultipleChoiceField(
        label=_("Departments"), required=False, widget=forms.SelectMultiple({"size": 4})
    )

    def __init__(self, *args: Any, units: Any = (), departments: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["units"]).choices = list(units)
        cast(forms.ChoiceField, self.fields["departments"]).choices = list(departments)


class PersonCreateForm(_PersonFields):
    username = forms.RegexField(
        label=_("Username"), regex=r"^[A-Za-z0-9_.-]{2,150}$", max_length=150
    )
    name = forms.CharField(label=_("Full name"), max_length=100)
    field_order = ("username", "name", "roles", "units", "departments")


class PersonUpdateForm(_PersonFields, VersionedForm):
    active = forms.BooleanField(label=_("May sign in"), required=False)


class TeamCreateForm(forms.Form):
    code = forms.RegexField(label=_("Code"), regex=r"^[A-Za-z0-9_.-]{2,32}$", max_length=32)
    name = forms.CharField(label=_("Team name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=TeamKind.choices)
    leader = forms.ChoiceField(label=_("Led by"))
    units = forms.MultipleChoiceField(
        label=_("Units"), required=False, widget=forms.SelectMultiple({"size": 6})
    )
    active_from = forms.DateField(label=_("Active from"), initial=timezone.localdate)

    def __init__(self, *args: Any, people: Any = (), units: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["leader"]).choices = list(people)
        cast(forms.ChoiceField, self.fields["units"]).choices = list(units)


class TeamMembersForm(VersionedForm):
    members = forms.MultipleChoiceField(
        label=_("Members"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, people: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["members"]).choices = list(people)


class LegalDetailsForm(forms.Form):
    """A unit's legal details, as its legal documents name it."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    legal_name = forms.CharField(label=_("Legal name"), max_length=200)
    address = forms.CharField(label=_("Address"), max_length=400)
    legal_representative = forms.CharField(label=_("Legal representative"), max_length=100)
    phone = forms.CharField(label=_("Phone"), max_length=100, required=False)
