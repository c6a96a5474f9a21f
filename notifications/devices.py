"""Push devices of a user (API.md /me/devices/): register, list, remove.

Registering the first device turns the `push` channel on in the user's preferences (they can turn
it off again in /me/notification-preferences/). A token already registered to another account
moves to this one: a push subscription belongs to one browser or app install, which now belongs
to whoever registered it last.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from medplatform.errors import NotFound, ValidationFailed
from notifications.models import Device, NotificationPreference


def endpoint_allowed(url: str) -> bool:
    """A Web Push endpoint of a known push service (PUSH_ENDPOINT_HOSTS), over https: the server
    posts to it, so an address inside our network must never be accepted."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    known = any(host == allowed or host.endswith("." + allowed) for allowed in settings.PUSH_ENDPOINT_HOSTS)
    # Plain http only to the local fake push service of the tests and the embedded default.
    return known and (parts.scheme == "https" or (parts.scheme == "http" and host == "127.0.0.1"))


def device_list(*, user: User) -> QuerySet[Device]:
    return Device.objects.filter(user=user).order_by("created_at", "id")


def device_register(*, user: User, platform: str, token: str, p256dh: str = "", auth: str = "") -> Device:
    """Add a device (or update the keys of one already registered with this token)."""
    if platform == Device.Platform.WEB and not (p256dh and auth):
        message = _("A web push subscription needs its p256dh and auth keys.")
        raise ValidationFailed(fields={"p256dh": [message], "auth": [message]})
    if (p256dh or auth) and not endpoint_allowed(token):
        raise ValidationFailed(fields={"token": [_("This is not the address of a known push service.")]})
    with transaction.atomic():
        device, _created = Device.objects.select_for_update().update_or_create(
            token=token, defaults={"user": user, "platform": platform, "p256dh": p256dh, "auth": auth}
        )
        preference, created = NotificationPreference.objects.select_for_update().get_or_create(
            user=user, defaults={"push": True}
        )
        if not created and not preference.push and device_list(user=user).count() == 1:
            preference.push = True
            preference.save(update_fields=["push", "updated_at"])
    return device


def device_delete(*, user: User, device_id) -> None:
    deleted, _per_model = Device.objects.filter(user=user, pk=device_id).delete()
    if not deleted:
        raise NotFound()
