"""One error shape for the whole API: {"code", "detail", "fields"?}.

Domain errors subclass ApplicationError; the DRF exception handler below turns them, DRF's own
and Django's errors into that shape. Codes are stable; details are translated.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions as drf
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    code = "error"
    status_code = 400
    default_detail = gettext_lazy("The request could not be completed.")
    extra: dict = {}  # further keys of the error body, such as consent_required's `purpose`

    def __init__(self, detail: str | None = None, *, fields: dict | None = None):
        self.detail = detail if detail is not None else self.default_detail
        self.fields = fields
        super().__init__(str(self.detail))


class ValidationFailed(ApplicationError):
    code = "validation_error"
    status_code = 400
    default_detail = gettext_lazy("Invalid input.")


class NotFound(ApplicationError):
    code = "not_found"
    status_code = 404
    default_detail = gettext_lazy("Not found.")


class PermissionDenied(ApplicationError):
    code = "permission_denied"
    status_code = 403
    default_detail = gettext_lazy("You do not have permission to perform this action.")


class ConsentRequired(ApplicationError):
    """The body names the consent that is missing (API.md: `purpose`)."""

    code = "consent_required"
    status_code = 403
    default_detail = gettext_lazy("This needs your explicit consent first.")

    def __init__(self, detail: str | None = None, *, purpose: str | None = None, fields: dict | None = None):
        super().__init__(detail, fields=fields)
        self.purpose = purpose

    @property
    def extra(self) -> dict:
        return {"purpose": self.purpose} if self.purpose else {}


def error_body(code: str, detail, fields: dict | None = None, extra: dict | None = None) -> dict:
    body = {"code": code, "detail": str(detail), **(extra or {})}
    if fields:
        body["fields"] = fields
    return body


def _as_fields(detail) -> dict:
    if isinstance(detail, dict):
        return {key: _as_fields_value(value) for key, value in detail.items()}
    return {"non_field_errors": _as_fields_value(detail)}


def _as_fields_value(value):
    if isinstance(value, dict):
        return {key: _as_fields_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_fields_value(item) if isinstance(item, dict | list) else str(item) for item in value]
    return [str(value)]


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every error leaves in the API.md shape."""
    headers = {}
    if isinstance(exc, ApplicationError):
        response = Response(error_body(exc.code, exc.detail, exc.fields, exc.extra), status=exc.status_code)
        if exc.status_code == 401:
            response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    if isinstance(exc, drf.ValidationError):
        return Response(error_body("validation_error", _("Invalid input."), _as_fields(exc.detail)), status=400)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(error_body("validation_error", _("Invalid input."), fields), status=400)
    if isinstance(exc, drf.ParseError):
        return Response(error_body("validation_error", _("Malformed request body.")), status=400)
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("validation_error", _("Request body too large.")), status=400)
    if isinstance(exc, SuspiciousOperation):
        return Response(error_body("validation_error", _("Bad request.")), status=400)
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        response = Response(
            error_body("not_authenticated", _("Authentication credentials were not provided or are invalid.")),
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    if isinstance(exc, drf.PermissionDenied | DjangoPermissionDenied):
        return Response(error_body("permission_denied", _("You do not have permission to perform this action.")), 403)
    if isinstance(exc, drf.NotFound | Http404):
        return Response(error_body("not_found", _("Not found.")), status=404)
    if isinstance(exc, drf.Throttled):
        if exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait) + 1)
        return Response(error_body("throttled", _("Too many requests. Try again later.")), 429, headers=headers)
    if isinstance(exc, drf.MethodNotAllowed):
        return Response(error_body("method_not_allowed", _("Method not allowed.")), status=405)
    if isinstance(exc, drf.NotAcceptable):
        return Response(error_body("not_acceptable", _("Not acceptable.")), status=406)
    if isinstance(exc, drf.UnsupportedMediaType):
        return Response(error_body("unsupported_media_type", _("Send the body as application/json.")), 415)
    if isinstance(exc, drf.APIException):
        return Response(error_body(exc.default_code, exc.detail), status=exc.status_code)
    return None


def json_404(request, exception=None):
    return JsonResponse(error_body("not_found", _("Not found.")), status=404)


def json_500(request):
    return JsonResponse(error_body("server_error", _("Something went wrong on our side.")), status=500)


def json_400(request, exception=None):
    return JsonResponse(error_body("validation_error", _("Bad request.")), status=400)


def json_403(request, exception=None):
    # status must be a keyword: JsonResponse's second positional argument is the JSON encoder.
    return JsonResponse(
        error_body("permission_denied", _("You do not have permission to perform this action.")), status=403
    )
