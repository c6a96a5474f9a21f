"""Login errors with the stable codes of API.md."""

from django.utils.translation import gettext_lazy as _

from medplatform.errors import ApplicationError


class InvalidCredentials(ApplicationError):
    code = "invalid_credentials"
    status_code = 401
    default_detail = _("Wrong e-mail or password.")


class SecondFactorRequired(ApplicationError):
    code = "second_factor_required"
    status_code = 401
    default_detail = _("Send the code from your authenticator app (otp) as well.")
