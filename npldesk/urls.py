"""URL configuration: the web app (its pages and its API, ``/api/v1/``) and the admin."""

from django.contrib import admin
from django.urls import include, path

from npldesk.web import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls()),
    path("", include("npldesk.web.urls")),
]
