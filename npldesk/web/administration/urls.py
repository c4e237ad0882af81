from django.urls import path

from npldesk.web.administration import views

urlpatterns = [
    path("", views.people, name="admin"),
    path("people/", views.person_create, name="admin_person_create"),
    path("people/<str:username>/", views.person, name="admin_person"),
    path("teams/", views.teams, name="admin_teams"),
    path("teams/<str:code>/", views.team, name="admin_team"),
    path("policy/", views.policy, name="admin_policy"),
    path("legal-details/", views.legal_details, name="admin_legal_details"),
    path("legal-details/<str:code>/", views.unit_legal_details, name="admin_unit_legal_details"),
]
