from django.urls import path

from npldesk.web.worklist import views

urlpatterns = [
    path("", views.worklist, name="home"),
    path("worklist/", views.worklist, name="worklist"),
]
