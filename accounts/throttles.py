"""Request budgets per client address. Login guessing per account is slowed by the login limits
(accounts/login_limits.py): a per-account request budget here would let anyone lock the owner out."""

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


class RegisterThrottle(LoginIpThrottle):
    scope = "register"
