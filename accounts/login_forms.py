"""The portal's and the admin's login forms: Django's, saying so when the login limits refuse."""

from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django_otp.admin import OTPAdminAuthenticationForm

from accounts.login_limits import limited_for


class LoginLimitMessageMixin:
    def get_invalid_login_error(self):
        wait = limited_for(self.request) if self.request is not None else None
        if wait:
            return ValidationError(
                _("Too many failed logins. Try again in %(seconds)s seconds."),
                code="throttled",
                params={"seconds": wait},
            )
        return super().get_invalid_login_error()


class PortalLoginForm(LoginLimitMessageMixin, AuthenticationForm):
    pass


class AdminLoginForm(LoginLimitMessageMixin, OTPAdminAuthenticationForm):
    """django-otp's admin form: e-mail, password and a code from a confirmed device."""
