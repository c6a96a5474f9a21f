"""Push notifications through Web Push (RFC 8030) with VAPID (RFC 8292) and encrypted payloads
(RFC 8291), sent with pywebpush to every Web Push subscription of the recipient.

The payload is JSON with a neutral text, the kind, the appointment to open and the outbox row's id
as `tag` (notifications.messages.push_payload): never a visit reason or anything from a health
profile. Each message carries `Topic: <outbox row id>`, so a resend of the same row (after a
worker died mid-send, or an ambiguous error) replaces the copy still waiting at the push service
instead of adding a second one, and the `tag` makes a browser show one notification for it.
Web Push has no look-up of sent messages: `lookup` finds nothing and the row is sent again under
the same Topic.

A push service answering 404 or 410 says the subscription is gone: the device row is deleted.
429, 5xx and network errors are retried (5xx and network errors as ambiguous); 401 and 403 are our
VAPID configuration and are retried too, so the operator can fix it meanwhile; other 4xx answers
are permanent for that device.
"""

import json
import logging

import requests
from django.conf import settings
from django.utils import timezone
from pywebpush import WebPushException, webpush

from notifications.channels import Accepted, Outgoing, PermanentSendError, TransientSendError
from notifications.devices import endpoint_allowed
from notifications.models import Device, Notification

logger = logging.getLogger(__name__)

GONE = {404, 410}
CONFIGURATION = {401, 403}


def push_configured() -> bool:
    return bool(settings.VAPID_PRIVATE_KEY and settings.VAPID_SUBJECT)


def _topic(notification_id: str) -> str:
    # RFC 8030: at most 32 characters of the URL-safe base64 alphabet; a UUID's hex is exactly that.
    return notification_id.replace("-", "")[:32]


class PushChannel:
    def send(self, message: Outgoing) -> Accepted:
        if not push_configured():
            raise TransientSendError("push_not_configured")
        devices = [
            device
            for device in Device.objects.filter(user_id=message.address)
            if device.is_web_push and endpoint_allowed(device.token)
        ]
        if not devices:
            raise PermanentSendError("no_push_device")
        row = Notification.objects.filter(pk=message.notification_id).values("appointment_id").first() or {}
        payload = json.dumps(
            {
                "title": message.subject,
                "body": message.body,
                "kind": message.kind,
                "appointment": str(row["appointment_id"]) if row.get("appointment_id") else None,
                "tag": message.notification_id,
            }
        )
        delivered, transient, permanent = 0, [], []
        for device in devices:
            try:
                self._push(device, payload, message.notification_id)
            except TransientSendError as error:
                transient.append(error)
            except PermanentSendError as error:
                permanent.append(error)
            else:
                delivered += 1
                Device.objects.filter(pk=device.pk).update(last_sent_at=timezone.now())
        if transient:
            # Sending again is safe: the same Topic replaces what is still waiting at the service.
            raise TransientSendError(transient[0].code, ambiguous=any(error.ambiguous for error in transient))
        if not delivered:
            raise permanent[0] if permanent else PermanentSendError("no_push_device")
        return Accepted(provider_sid=None)

    def lookup(self, message: Outgoing) -> Accepted | None:
        return None  # Web Push cannot list sent messages; the resend goes under the same Topic

    def _push(self, device: Device, payload: str, notification_id: str) -> None:
        try:
            webpush(
                subscription_info={"endpoint": device.token, "keys": {"p256dh": device.p256dh, "auth": device.auth}},
                data=payload,
                vapid_private_key=settings.VAPID_PRIVATE_KEY,
                vapid_claims={"sub": settings.VAPID_SUBJECT},
                ttl=settings.PUSH_TTL_SECONDS,
                headers={"Topic": _topic(notification_id), "Urgency": "normal"},
                timeout=settings.PUSH_TIMEOUT_SECONDS,
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in GONE:
                Device.objects.filter(pk=device.pk).delete()
                logger.info("push device %s removed: the push service answered %s", device.pk, status)
                raise PermanentSendError(f"push_{status}") from None
            if status is None or status >= 500:
                raise TransientSendError(f"push_{status or 'error'}", ambiguous=True) from None
            if status == 429 or status in CONFIGURATION:
                raise TransientSendError(f"push_{status}") from None
            raise PermanentSendError(f"push_{status}") from None
        except requests.RequestException as exc:
            # The request may have reached the push service before the connection broke.
            raise TransientSendError(f"network_{type(exc).__name__}", ambiguous=True) from None
