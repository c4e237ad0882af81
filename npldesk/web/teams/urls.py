from django.urls import path

from npldesk.web.teams import views

urlpatterns = [
    path("", views.team_list, name="teams"),
    path("<str:code>/", views.team_board, name="team"),
    path("<str:code>/reassign/", views.reassign, name="team_reassign"),
]
