"""SMS and WhatsApp through the official Twilio SDK (WhatsApp uses the same Messages API with
`whatsapp:` addresses). TWILIO_API_BASE_URL points the SDK at another host (the fake Twilio in
tests and the embedded default) through a custom HTTP client."""

import logging
from datetime import timedelta
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from notifications.channels import Accepted, Outgoing, PermanentSendError, TransientSendError
from notifications.models import PROVIDER_STATUS

TWILIO_HOST = "https://api.twilio.com"

# Error codes after which sending the same message again can never succeed.
PERMANENT_ERROR_CODES = {
    21211,  # invalid 'To' number
    21408,  # permission to send to this region not enabled
    21610,  # recipient unsubscribed (replied STOP)
    21612,  # 'To' number cannot be reached from 'From'
    21614,  # 'To' is not a mobile number
    21617,  # body too long
    63003,  # WhatsApp: invalid destination
    63016,  # WhatsApp: outside the allowed window without a template
}


# The SDK's client logs query strings (recipient numbers) at INFO: keep it to warnings.
_http_logger = logging.getLogger("notifications.twilio_http")
_http_logger.setLevel(logging.WARNING)


class BaseUrlHttpClient(TwilioHttpClient):
    """TwilioHttpClient that sends every request to `base_url` instead of api.twilio.com."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(logger=_http_logger, **kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if self.base_url and url.startswith(TWILIO_HOST):
            url = self.base_url + url[len(TWILIO_HOST) :]
        return super().request(method, url, *args, **kwargs)


def twilio_client() -> Client:
    http_client = BaseUrlHttpClient(settings.TWILIO_API_BASE_URL, timeout=settings.TWILIO_TIMEOUT_SECONDS)
    return Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)


def twilio_configured() -> bool:
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN)


def status_callback_url(notification_id: str) -> str:
    # The id lets a callback that overtakes our own write of the SID still find its row.
    path = reverse("notification-twilio-status")
    return settings.PUBLIC_BASE_URL.rstrip("/") + path + "?" + urlencode({"n": notification_id})


class TwilioChannel:
    def __init__(self, *, whatsapp: bool):
        self.whatsapp = whatsapp

    def _from(self) -> str:
        if self.whatsapp:
            sender = settings.TWILIO_WHATSAPP_FROM
            return sender if sender.startswith("whatsapp:") else f"whatsapp:{sender}"
        return settings.TWILIO_SMS_FROM

    def _to(self, address: str) -> str:
        if self.whatsapp and not address.startswith("whatsapp:"):
            return f"whatsapp:{address}"
        return address

    def send(self, message: Outgoing) -> Accepted:
        try:
            created = twilio_client().messages.create(
                to=self._to(message.address),
                from_=self._from(),
                body=message.body,
                status_callback=status_callback_url(message.notification_id),
            )
        except TwilioRestException as exc:
            raise _classified(exc) from None
        except (requests.RequestException, TwilioException) as exc:
            # The request may have reached Twilio before the connection broke.
            raise TransientSendError(f"network_{type(exc).__name__}", ambiguous=True) from None
        return Accepted(provider_sid=created.sid, status=PROVIDER_STATUS.get(created.status, "sent"))

    def lookup(self, message: Outgoing) -> Accepted | None:
        """Find a message that an earlier attempt may have created: by SID, else by recipient and time."""
        client = twilio_client()
        try:
            # Queued messages have no date_sent yet, so the newest messages to this recipient are
            # listed and matched on creation time and body (bodies are unique per event).
            since = message.created_at - timedelta(minutes=5)
            for found in client.messages.list(to=self._to(message.address), from_=self._from(), limit=50):
                if found.body == message.body and (found.date_created is None or found.date_created >= since):
                    return Accepted(provider_sid=found.sid, status=PROVIDER_STATUS.get(found.status, "sent"))
        except TwilioRestException as exc:
            raise TransientSendError(f"lookup_{exc.status}", ambiguous=True) from None
        except (requests.RequestException, TwilioException) as exc:
            raise TransientSendError(f"lookup_{type(exc).__name__}", ambiguous=True) from None
        return None

    def fetch(self, sid: str) -> Accepted | None:
        try:
            found = twilio_client().messages(sid).fetch()
        except TwilioRestException as exc:
            if exc.status == 404:
                return None
            raise TransientSendError(f"lookup_{exc.status}", ambiguous=True) from None
        except (requests.RequestException, TwilioException) as exc:
            raise TransientSendError(f"lookup_{type(exc).__name__}", ambiguous=True) from None
        return Accepted(provider_sid=found.sid, status=PROVIDER_STATUS.get(found.status, "sent"))


def _classified(exc: TwilioRestException):
    if exc.status == 429:
        return TransientSendError("http_429")
    if exc.status >= 500:
        return TransientSendError(f"http_{exc.status}", ambiguous=True)
    if exc.code in PERMANENT_ERROR_CODES:
        return PermanentSendError(f"twilio_{exc.code}")
    if exc.status in (400, 404):
        return PermanentSendError(f"twilio_{exc.code or exc.status}")
    # 401/403 are our configuration, not the message: retry, the operator can fix it meanwhile.
    return TransientSendError(f"http_{exc.status}")
