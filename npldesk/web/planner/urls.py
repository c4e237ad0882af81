"""The planner's page."""

from django.urls import path

from npldesk.web.planner import views

urlpatterns = [
    path("planner/", views.planner, name="planner"),
]
