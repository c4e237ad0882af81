"""URL configuration: the web app (its pages and, later, its API) and the admin."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    # Django's own admin stays, read-only and scoped, beside the web's administration
    # (``/admin/``), where changes are made through the services.
    path("django-admin/", admin.site.urls),
    path("", include("npldesk.web.urls")),
]
