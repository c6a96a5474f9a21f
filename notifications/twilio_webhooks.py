"""Twilio's webhooks (status callbacks, inbound messages) are heard only when signed with our auth
token: the one check both views make (twilio's RequestValidator over our public URL and the form)."""

import logging

from django.conf import settings
from twilio.request_validator import RequestValidator

from medplatform.client_address import client_ip
from medplatform.errors import PermissionDenied

security_log = logging.getLogger("medplatform.security")


def twilio_form(request, *, what: str) -> dict:
    """The request's form fields, once the X-Twilio-Signature over them is checked; else 403."""
    signature = request.headers.get("X-Twilio-Signature", "")
    url = settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()
    params = {key: request.POST.get(key) for key in request.POST}
    token = settings.TWILIO_AUTH_TOKEN
    if not token or not signature or not RequestValidator(token).validate(url, params, signature):
        security_log.warning("twilio %s refused: bad signature ip=%s", what, client_ip(request))
        raise PermissionDenied()
    return params
