"""Sign-in and the account's own settings: Django's auth views with npldesk's templates.

Throttling and lockout come from django-axes (settings: five failures for one username from one
address lock both out for 15 minutes); sessions end after 30 minutes without a request.
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _


class SignInForm(AuthenticationForm):
    """Django's sign-in form with npldesk's own words."""

    error_messages = {  # noqa: RUF012 - Django reads this class attribute, never mutates it
        "invalid_login": _(
            "The username or password is not right. After five failed attempts the account "
            "is locked for 15 minutes."
        ),
        "inactive": _("This account is inactive."),
    }


@method_decorator(login_not_required, name="dispatch")
class SignInView(auth_views.LoginView):
    template_name = "web/accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "web/accounts/password_change.html"
    success_url = "/password/done/"


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "web/accounts/password_change_done.html"
