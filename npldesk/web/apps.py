"""The web app's Django configuration."""

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "npldesk.web"
    label = "web"
    verbose_name = "npldesk web"
