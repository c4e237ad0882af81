"""Django app configuration for casework."""

from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "npldesk.casework"
    label = "casework"
    verbose_name = "Casework"

    def ready(self) -> None:
        from npldesk.casework.append_only import connect_signals

        connect_signals()
