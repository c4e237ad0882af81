from django.contrib.auth.decorators import login_not_required
from django.urls import path
from django.views.i18n import set_language

from npldesk.web.accounts import views

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("language/", login_not_required(set_language), name="set_language"),
]
