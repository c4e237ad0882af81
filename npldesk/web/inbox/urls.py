from django.urls import path

from npldesk.web.inbox import views

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:delivery_id>/", views.pack, name="inbox_pack"),
    path("<int:delivery_id>/read/", views.mark_read, name="inbox_read"),
    path("<int:delivery_id>/acknowledge/", views.acknowledge, name="inbox_acknowledge"),
]
