"""URL configuration: the admin for now; the web app mounts here in a later stage."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
