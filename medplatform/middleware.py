"""Request id for logs and audit entries; no-store caching for API responses."""

import contextvars
import logging
import re
import uuid
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone

from medplatform.errors import error_body
from medplatform.parsers import NULL_CHARACTER

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def current_request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class NoStoreMiddleware:
    """API and portal answers carry personal data: no shared or browser cache may keep them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(("/api/v1/", "/portal/", "/admin/")):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response


class NullCharacterQueryMiddleware:
    """A NUL in a query parameter is refused (400 validation_error) before any view or query sees it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refused = {
            key.replace("\x00", ""): [str(NULL_CHARACTER)]
            for key, values in request.GET.lists()
            if "\x00" in key or any("\x00" in value for value in values)
        }
        if refused:
            return JsonResponse(error_body("validation_error", NULL_CHARACTER, refused), status=400)
        return self.get_response(request)


class ClinicTimeZoneMiddleware:
    """Pages people read (the portal, the admin, the landing page) show times in the clinic time zone
    (DEFAULT_CLINIC_TIMEZONE; portal pages switch to a clinic's own zone where it differs). The API
    keeps answering in UTC with offsets."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            return self.get_response(request)
        timezone.activate(ZoneInfo(settings.DEFAULT_CLINIC_TIMEZONE))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
