"""Verified contact data: a one-time code sent to the user's e-mail address or phone proves it.

The code goes through the notifications outbox (kind `verification_code`). It is never stored or
logged: notifications.messages.verification_code derives it from the verification row's random id
under CRYPTOGRAPHY_KEY when the message is rendered, and the row keeps a keyed hash of it, a keyed
hash of the address it went to, an expiry and the attempts made. A code confirms only the address
it was sent to, only before it expires, once, and within VERIFICATION_MAX_ATTEMPTS tries.
"""

import hmac
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ContactVerification, User
from medplatform.encryption import keyed_hash, keyed_hashes
from medplatform.errors import ValidationFailed
from notifications.messages import verification_code
from notifications.models import Channel, Kind
from notifications.services import notification_enqueue

VERIFIED_FIELD = {
    ContactVerification.Channel.EMAIL: "email_verified",
    ContactVerification.Channel.PHONE: "phone_verified",
}


def contact_destination(*, user: User, channel: str) -> str:
    """The address a code for `channel` goes to: the e-mail address or the phone number ('' if none)."""
    if channel == ContactVerification.Channel.EMAIL:
        return user.email or ""
    return str(user.phone) if user.phone else ""


def destination_key(destination: str) -> str:
    """Keyed hash of an address, for per-address limits and matching without storing it again."""
    return keyed_hash(destination.strip().lower(), purpose="verification_destination")


def _destination_keys(destination: str) -> list[str]:
    return keyed_hashes(destination.strip().lower(), purpose="verification_destination")


def _code_hashes(verification_id, code: str) -> list[str]:
    return keyed_hashes(f"{verification_id}:{code}", purpose="verification_code_check")


def contact_verification_start(*, user: User, channel: str) -> ContactVerification:
    """Send a new one-time code to the user's address for `channel`; earlier codes stop working."""
    destination = contact_destination(user=user, channel=channel)
    if not destination:
        raise ValidationFailed(fields={"channel": [_("There is no address to verify for this channel.")]})
    now = timezone.now()
    with transaction.atomic():
        ContactVerification.objects.filter(user=user, channel=channel, used_at__isnull=True).update(
            used_at=now, updated_at=now
        )
        verification = ContactVerification(
            user=user,
            channel=channel,
            destination_hash=destination_key(destination),
            expires_at=now + timedelta(minutes=settings.VERIFICATION_CODE_TTL_MINUTES),
        )
        verification.code_hash = keyed_hash(
            f"{verification.id}:{verification_code(str(verification.id))}", purpose="verification_code_check"
        )
        verification.save()
        notification_enqueue(
            recipient=user,
            kind=Kind.VERIFICATION_CODE,
            event_key=f"verification_code:{verification.id}",
            context={"verification_id": str(verification.id)},
            channels=[Channel.EMAIL if channel == ContactVerification.Channel.EMAIL else Channel.SMS],
        )
    return verification


def contact_verification_confirm(*, user: User, channel: str, code: str) -> User:
    """Mark the address verified when `code` is the latest live code sent to it."""
    destination = contact_destination(user=user, channel=channel)
    now = timezone.now()
    matched = False
    with transaction.atomic():
        verification = (
            ContactVerification.objects.select_for_update()
            .filter(user=user, channel=channel, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if (
            verification is not None
            and destination
            and verification.destination_hash in _destination_keys(destination)
            and verification.attempts < settings.VERIFICATION_MAX_ATTEMPTS
        ):
            # Counted before comparing, and committed whatever the outcome.
            ContactVerification.objects.filter(pk=verification.pk).update(attempts=F("attempts") + 1, updated_at=now)
            given = _code_hashes(verification.id, str(code).strip())
            matched = any(hmac.compare_digest(verification.code_hash, candidate) for candidate in given)
        if matched:
            ContactVerification.objects.filter(pk=verification.pk).update(used_at=now, updated_at=now)
            field = VERIFIED_FIELD[channel]
            setattr(user, field, True)
            user.save(update_fields=[field, "updated_at"])
    if not matched:
        raise ValidationFailed(fields={"code": [_("The code is wrong or has expired. Ask for a new one.")]})
    return user
