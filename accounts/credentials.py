"""Account recovery and password change, and the one function that revokes refresh tokens.

A reset e-mail goes through the notifications outbox (kind `password_reset`); its link is made
with Django's default_token_generator when the e-mail is rendered (notifications.messages), so no
token is stored, passed to a task or logged. The token covers the password hash, the last login
and the e-mail address: a used or outdated link stops working by itself.
"""

import uuid

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import Guardianship, User
from medplatform.errors import ValidationFailed
from notifications.models import Channel, Kind
from notifications.services import notification_enqueue


def refresh_tokens_revoke(*, user: User, keep_jti: str | None = None) -> int:
    """Blacklist every refresh token of `user` (but `keep_jti`); returns how many were live."""
    live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    if keep_jti:
        live = live.exclude(jti=keep_jti)
    revoked = [BlacklistedToken(token=token) for token in live]
    # ignore_conflicts: a token rotated or logged out meanwhile is blacklisted already.
    BlacklistedToken.objects.bulk_create(revoked, ignore_conflicts=True)
    return len(revoked)


def password_reset_request(*, email: str) -> str | None:
    """Find the active account of `email`; returns its id for password_reset_send, or None.

    The caller answers the same either way and hands the result to a task after the commit, so
    the request does the same work for a known and an unknown address."""
    # A dependant still in a guardian's care takes over by the e-mailed invitation (accounts.dependants), not here.
    in_care = Guardianship.objects.filter(ended_at__isnull=True).values("dependant_id")
    user = User.objects.filter(email=email.strip().lower(), is_active=True).exclude(pk__in=in_care).only("id").first()
    return str(user.pk) if user is not None else None


def password_reset_send(*, user_id: str | None) -> None:
    """Write the reset e-mail to the outbox (run by a task, off the request's path)."""
    if user_id is None:
        return
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    with transaction.atomic():
        notification_enqueue(
            recipient=user,
            kind=Kind.PASSWORD_RESET,
            # Each request is its own event (the per-account throttle bounds them); never the token.
            event_key=f"password_reset:{user.pk}:{uuid.uuid4()}",
            context={},
            channels=[Channel.EMAIL],
        )


def _check_new_password(password: str, user: User, field: str) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(fields={field: list(exc.messages)}) from exc


def password_reset_confirm(*, uid: str, token: str, password: str) -> User:
    """Set a new password from an e-mailed link; every refresh token of the account is revoked."""
    invalid = ValidationFailed(fields={"token": [_("This link is invalid or has expired.")]})
    try:
        user = User.objects.get(pk=force_str(urlsafe_base64_decode(uid)), is_active=True)
    except (ValueError, TypeError, OverflowError, DjangoValidationError, User.DoesNotExist):
        raise invalid from None
    if not default_token_generator.check_token(user, token):
        raise invalid
    _check_new_password(password, user, "password")
    with transaction.atomic():
        user.set_password(password)
        # The link reached this address: it is verified as well as a code would have done.
        user.email_verified = True
        user.save(update_fields=["password", "email_verified", "updated_at"])
        refresh_tokens_revoke(user=user)
    return user


def password_change(*, user: User, old_password: str, new_password: str, keep_jti: str | None = None) -> None:
    """Change the password knowing the old one; refresh tokens other than `keep_jti` are revoked."""
    if not user.check_password(old_password):
        raise ValidationFailed(fields={"old_password": [_("The password is not correct.")]})
    _check_new_password(new_password, user, "new_password")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])
        refresh_tokens_revoke(user=user, keep_jti=keep_jti)
