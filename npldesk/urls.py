"""URL configuration: the web app (its pages and its API, ``/api/v1/``) and the admin."""

from django.contrib import admin
from django.urls import include, path

from npldesk.web import api

urlpatterns = [
    # Django's own admin stays, read-only and scoped, beside the web's administration
    # (``/admin/``), where changes are made through the services.
    path("django-admin/", admin.site.urls),
    path("api/v1/", api.urls()),
    path("", include("npldesk.web.urls")),
]
