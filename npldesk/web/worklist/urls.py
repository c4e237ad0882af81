from django.urls import path

from npldesk.web.figures import views as figures
from npldesk.web.worklist import views

urlpatterns = [
    path("", figures.home, name="home"),
    path("worklist/", views.worklist, name="worklist"),
]
