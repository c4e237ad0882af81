from django.urls import path

from npldesk.web.finance import views

urlpatterns = [
    path("", views.finance_desk, name="finance"),
    path("writeoffs/", views.writeoff_prepare, name="finance_writeoff_prepare"),
    path(
        "writeoffs/<int:writeoff_id>/decide/",
        views.writeoff_decide,
        name="finance_writeoff_decide",
    ),
    path(
        "recoveries/<int:recovery_id>/confirm/",
        views.recovery_confirm,
        name="finance_recovery_confirm",
    ),
]
