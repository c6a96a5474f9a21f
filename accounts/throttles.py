"""Login throttles: one budget per client IP and one per account, so neither a botnet on one
account nor one client on many accounts gets unlimited guesses."""

import hashlib

from rest_framework.throttling import SimpleRateThrottle

from medplatform.client_address import client_ip


class ClientAddressMixin:
    """Key per-address budgets on the address we trust (client_address), never on a header."""

    def get_ident(self, request):
        return client_ip(request) or "unknown"


class LoginIpThrottle(ClientAddressMixin, SimpleRateThrottle):
    scope = "login_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginAccountThrottle(ClientAddressMixin, SimpleRateThrottle):
    scope = "login_account"

    def get_cache_key(self, request, view):
        email = request.data.get("email") if hasattr(request.data, "get") else None
        if not isinstance(email, str) or not email:
            return None
        ident = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class RegisterThrottle(LoginIpThrottle):
    scope = "register"
