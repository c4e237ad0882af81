from django.urls import path

from npldesk.web.cases import views

urlpatterns = [
    path("", views.case_list, name="cases"),
    path("<str:number>/", views.case_detail, name="case"),
    path("<str:number>/personal-data/", views.personal_data, name="case_personal_data"),
    path("<str:number>/activity/", views.activity, name="case_activity"),
    path("<str:number>/investigation/", views.investigation, name="case_investigation"),
    path("<str:number>/plan/", views.plan_propose, name="case_plan"),
    path("<str:number>/plans/<int:plan_id>/decide/", views.plan_decide, name="case_plan_decide"),
    path(
        "<str:number>/milestones/<int:milestone_id>/done/",
        views.milestone_done,
        name="case_milestone_done",
    ),
    path("<str:number>/assign/", views.assign, name="case_assign"),
    path("<str:number>/override/", views.override, name="case_override"),
    path("<str:number>/close/", views.close, name="case_close"),
    path("<str:number>/recovery/", views.recovery, name="case_recovery"),
    path(
        "<str:number>/recoveries/<int:recovery_id>/confirm/",
        views.recovery_confirm,
        name="case_recovery_confirm",
    ),
    path(
        "<str:number>/recoveries/<int:recovery_id>/reverse/",
        views.recovery_reverse,
        name="case_recovery_reverse",
    ),
    path("<str:number>/repayment-plan/", views.repayment_plan, name="case_repayment_plan"),
    path("<str:number>/legal/", views.legal_open, name="case_legal_open"),
    path(
        "<str:number>/legal/<int:legal_id>/advance/",
        views.legal_advance,
        name="case_legal_advance",
    ),
    path("<str:number>/documents/", views.document_generate, name="case_document"),
    path(
        "<str:number>/documents/<int:document_id>.<str:fmt>",
        views.document_download,
        name="case_document_download",
    ),
    path("<str:number>/writeoff/", views.writeoff_prepare, name="case_writeoff"),
    path(
        "<str:number>/writeoffs/<int:writeoff_id>/decide/",
        views.writeoff_decide,
        name="case_writeoff_decide",
    ),
]
