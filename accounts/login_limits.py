"""Login limits that slow password guessing without handing anyone a lockout weapon.

Every password check (portal, admin, /auth/token/) goes through LimitedModelBackend, which counts
failed passwords in the cache under three keys and makes the next try wait:

- per (account, client address): LOGIN_LIMIT_PAIR_FREE_FAILURES free failures, then a delay that
  doubles with each further failure (LOGIN_LIMIT_BASE_DELAY_SECONDS, 2x, 4x ... up to
  LOGIN_LIMIT_MAX_DELAY_SECONDS), counted from that pair's last failure;
- per client address, over all accounts: the same after LOGIN_LIMIT_ADDRESS_FREE_FAILURES;
- per account, softly: once the account has LOGIN_LIMIT_ACCOUNT_FREE_FAILURES recent failures,
  every address that has already failed on it waits a doubling delay capped at
  LOGIN_LIMIT_ACCOUNT_MAX_DELAY_SECONDS before its next try.

No count ever refuses an address that has not failed on the account: the owner on a fresh address
logs in at once however long an attacker has been guessing, and after a typo of their own waits
at most LOGIN_LIMIT_ACCOUNT_MAX_DELAY_SECONDS. A refused try is not checked and not counted.
Counts are forgotten LOGIN_LIMIT_MEMORY_SECONDS after the key's last failure; a right password
clears its pair. client_ip is the address (X-Forwarded-For only from our own proxies).
"""

import hashlib

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from medplatform.client_address import client_ip

RETRY_AFTER_ATTRIBUTE = "login_retry_after"


def _key(kind: str, *parts: str) -> str:
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:40]
    return f"login-limit:{kind}:{digest}"


def _account(username: str) -> str:
    return str(username).strip().lower()


def _keys(username: str, address: str) -> dict[str, str]:
    account = _account(username)
    return {
        "pair": _key("pair", account, address),
        "address": _key("address", address),
        "account": _key("account", account),
    }


def _doubling(failures: int, free: int, cap: float) -> float:
    if failures < free:
        return 0.0
    return min(settings.LOGIN_LIMIT_BASE_DELAY_SECONDS * 2 ** min(failures - free, 32), cap)


def retry_after(*, username: str, address: str) -> int:
    """Seconds this address must still wait before its next password for `username` (0: go ahead)."""
    keys = _keys(username, address)
    stored = cache.get_many([keys["pair"], keys["address"], keys["account"]])
    pair = stored.get(keys["pair"]) or (0, 0.0)
    by_address = stored.get(keys["address"]) or (0, 0.0)
    account_failures = (stored.get(keys["account"]) or (0, 0.0))[0]
    cap = settings.LOGIN_LIMIT_MAX_DELAY_SECONDS
    pair_delay = _doubling(pair[0], settings.LOGIN_LIMIT_PAIR_FREE_FAILURES, cap)
    if pair[0]:
        pair_delay = max(
            pair_delay,
            _doubling(
                account_failures,
                settings.LOGIN_LIMIT_ACCOUNT_FREE_FAILURES,
                settings.LOGIN_LIMIT_ACCOUNT_MAX_DELAY_SECONDS,
            ),
        )
    address_delay = _doubling(by_address[0], settings.LOGIN_LIMIT_ADDRESS_FREE_FAILURES, cap)
    now = timezone.now().timestamp()
    wait = max(pair[1] + pair_delay - now, by_address[1] + address_delay - now, 0.0)
    return int(wait) + 1 if wait > 0 else 0


def record_failure(*, username: str, address: str) -> None:
    now = timezone.now().timestamp()
    memory = settings.LOGIN_LIMIT_MEMORY_SECONDS
    for key in _keys(username, address).values():
        # Read-modify-write: parallel failures may count once, which only errs by a try or two.
        failures, _last = cache.get(key) or (0, 0.0)
        cache.set(key, (failures + 1, now), memory)


def record_success(*, username: str, address: str) -> None:
    cache.delete(_keys(username, address)["pair"])


def limited_for(request) -> int | None:
    """Seconds to wait when this request's login was refused by the limits, else None."""
    return getattr(getattr(request, "_request", request), RETRY_AFTER_ATTRIBUTE, None)


class LimitedModelBackend(ModelBackend):
    """Django's e-mail and password check, behind the limits above."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        from accounts.models import User

        username = username if username is not None else kwargs.get(User.USERNAME_FIELD)
        if request is None or username is None:
            return super().authenticate(request, username=username, password=password, **kwargs)
        address = client_ip(request) or "unknown"
        wait = retry_after(username=username, address=address)
        if wait:
            # The HttpRequest under DRF's Request: the views and the middleware below read it there.
            setattr(getattr(request, "_request", request), RETRY_AFTER_ATTRIBUTE, wait)
            raise PermissionDenied  # authenticate() stops here: no backend checks the password
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            record_failure(username=username, address=address)
        else:
            record_success(username=username, address=address)
        return user


class LoginLimitMiddleware:
    """A login page refused by the limits answers 429 with Retry-After (the form says why)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        wait = limited_for(request)
        if wait:
            response.status_code = 429
            response["Retry-After"] = str(wait)
        return response
