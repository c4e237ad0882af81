"""The figures pages: the dashboard, asset quality, movement, migration, the loan lists and the
monthly report."""

from django.urls import path

from npldesk.web.figures import lists, migration, reports, views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("quality/", views.quality, name="quality"),
    path("movement/", views.movement, name="movement"),
    path("migration/", migration.migration, name="migration"),
    path("lists/<str:name>/", lists.loan_list, name="loan_list"),
    path("reports/", reports.reports, name="reports"),
]
