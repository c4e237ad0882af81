"""URL configuration: the web app (its pages and, later, its API) and the admin."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("npldesk.web.urls")),
]
