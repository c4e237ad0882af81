from django.urls import path

from npldesk.web.legal import views

urlpatterns = [path("", views.legal_board, name="legal")]
