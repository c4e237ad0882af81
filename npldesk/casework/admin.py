"""The Django admin for casework's reference data: units, departments, teams and people.

Scoped like everything else: every list goes through a selector for the signed-in person
(an administrator sees the teams and people of their own units; a Django superuser without a
casework person sees nothing), and it is read-only — changes go through the services, from the
command line (`npldesk users …`, `npldesk teams …`, `npldesk units sync`) or the web app, so
that each one is checked and audited.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from npldesk.casework import selectors
from npldesk.casework.choices import Role
from npldesk.casework.models import Department, Person, Team, Unit

# ModelAdmin is generic for the type checker only.
if TYPE_CHECKING:
    ModelAdminBase = admin.ModelAdmin[Any]
else:
    ModelAdminBase = admin.ModelAdmin


def signed_in_person(request: HttpRequest) -> Person | None:
    return selectors.person_signed_in(request.user)


class ScopedReadOnlyAdmin(ModelAdminBase):
    """Lists what the selector gives the signed-in administrator; never writes."""

    scope: Callable[[Person], QuerySet[Any]]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        person = signed_in_person(request)
        if person is None or not person.has_role(Role.ADMIN):
            return self.model._default_manager.none()
        return type(self).scope(person)

    def has_module_permission(self, request: HttpRequest) -> bool:
        person = signed_in_person(request)
        return person is not None and person.has_role(Role.ADMIN)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Unit)
class UnitAdmin(ScopedReadOnlyAdmin):
    list_display = ("code", "name", "level", "parent")
    search_fields = ("code", "name")

    @staticmethod
    def scope(person: Person) -> QuerySet[Unit]:
        return selectors.units_visible(person)


@admin.register(Department)
class DepartmentAdmin(ScopedReadOnlyAdmin):
    list_display = ("code", "name")

    @staticmethod
    def scope(person: Person) -> QuerySet[Department]:
        return selectors.departments_visible(person)


@admin.register(Team)
class TeamAdmin(ScopedReadOnlyAdmin):
    list_display = ("code", "name", "kind", "leader", "active_from", "active_to")
    list_filter = ("kind",)

    @staticmethod
    def scope(person: Person) -> QuerySet[Team]:
        return selectors.teams_visible(person)


@admin.register(Person)
class PersonAdmin(ScopedReadOnlyAdmin):
    list_display = ("user", "name", "roles", "active")
    list_filter = ("active",)

    @staticmethod
    def scope(person: Person) -> QuerySet[Person]:
        return selectors.people_visible(person)
