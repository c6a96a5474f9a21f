"""Budgets for sending verification codes and for password reset and change.

Codes: per user, per destination (the e-mail address or phone number, whichever accounts name
it) and per client address, so neither many accounts nor many clients can flood one number.
Reset and change: per client address and per account. Addresses come from client_address only.
"""

import hashlib

from rest_framework.throttling import SimpleRateThrottle

from accounts.verification import contact_destination, destination_key
from medplatform.client_address import client_ip


class _Throttle(SimpleRateThrottle):
    def key_for(self, request) -> str | None:
        raise NotImplementedError

    def get_cache_key(self, request, view):
        ident = self.key_for(request)
        if not ident:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class _PerClientAddress(_Throttle):
    def key_for(self, request) -> str | None:
        return client_ip(request) or "unknown"


class _PerUser(_Throttle):
    def key_for(self, request) -> str | None:
        return str(request.user.pk) if request.user.is_authenticated else None


class VerifySendUserThrottle(_PerUser):
    scope = "verify_send_user"


class VerifySendIpThrottle(_PerClientAddress):
    scope = "verify_send_ip"


class VerifySendDestinationThrottle(_Throttle):
    scope = "verify_send_destination"

    def key_for(self, request) -> str | None:
        channel = request.data.get("channel") if hasattr(request.data, "get") else None
        if not request.user.is_authenticated or channel not in ("email", "phone"):
            return None
        destination = contact_destination(user=request.user, channel=channel)
        return destination_key(destination) if destination else None


class PasswordResetIpThrottle(_PerClientAddress):
    scope = "password_reset_ip"


class PasswordResetAccountThrottle(_Throttle):
    """Keyed on the e-mail asked for, known or not: the limit itself reveals nothing."""

    scope = "password_reset_account"

    def key_for(self, request) -> str | None:
        email = request.data.get("email") if hasattr(request.data, "get") else None
        if not isinstance(email, str) or not email.strip():
            return None
        return hashlib.sha256(email.strip().lower().encode()).hexdigest()


class PasswordChangeUserThrottle(_PerUser):
    scope = "password_change_user"


class PasswordChangeIpThrottle(_PerClientAddress):
    scope = "password_change_ip"


class PasswordResetConfirmIpThrottle(_PerClientAddress):
    scope = "password_reset_confirm_ip"


class PasswordResetConfirmAccountThrottle(_Throttle):
    """Keyed on the link's uid: guesses at one account's token are limited from any address."""

    scope = "password_reset_confirm_account"

    def key_for(self, request) -> str | None:
        uid = request.data.get("uid") if hasattr(request.data, "get") else None
        if not isinstance(uid, str) or not uid.strip():
            return None
        return hashlib.sha256(uid.strip().encode()).hexdigest()
