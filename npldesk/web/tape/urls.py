"""``/tape/``: the manifest, uploading a month, an upload's progress and report, the runs."""

from django.urls import path

from npldesk.web.tape import views

urlpatterns = [
    path("", views.tape, name="tape"),
    path("uploads/", views.upload, name="tape_upload"),
    path("uploads/<int:job_id>/", views.upload_page, name="tape_job"),
    path("uploads/<int:job_id>/progress/", views.upload_progress, name="tape_job_progress"),
    path("runs/<str:month>/", views.run, name="tape_run"),
]
