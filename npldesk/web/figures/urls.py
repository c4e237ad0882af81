"""The figures pages: the dashboard and asset quality down the unit tree."""

from django.urls import path

from npldesk.web.figures import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("quality/", views.quality, name="quality"),
    path("movement/", views.movement, name="movement"),
]
