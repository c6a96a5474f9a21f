"""Anonymous search and slot reads on a streaming replica, with read-your-writes.

With DATABASE_REPLICA_URL set (a PostgreSQL hot standby of DATABASE_URL, e.g. made with
`pg_basebackup -R`), settings adds the `replica` alias, this router and this middleware:

- `ReplicaReadsMiddleware` lets a request read from the replica only when it is a GET or HEAD of
  one of REPLICA_READ_ROUTES (doctor search, a doctor's page and free slots), carries no
  credentials (no Authorization header, no session cookie) and no read-your-writes stamp. Every
  other request, every write and everything a signed-in user reads stays on the primary.
- After a successful write (any other method answered below 400) the response carries the
  stamp: a cookie that keeps the client's reads on the primary for REPLICA_STICKY_SECONDS, longer
  than the replica's lag, so someone who has just booked never sees the slot free again.
- `PrimaryReplicaRouter` sends reads to `replica` only inside such a request; writes and
  migrations always go to `default`. A booking validates its slot on the primary under locks and
  the exclusion constraints, so a stale replica can show a taken slot but never let it be booked.
"""

import time
from contextvars import ContextVar

from django.conf import settings
from django.urls import Resolver404, resolve

REPLICA = "replica"
STICKY_COOKIE = "medplatform_primary_until"
SAFE_METHODS = frozenset({"GET", "HEAD"})

_reading_from_replica: ContextVar[bool] = ContextVar("reading_from_replica", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def reading_from_replica() -> bool:
    """Whether this request's reads go to the replica (the middleware allowed it)."""
    return _reading_from_replica.get() and replica_configured()


class PrimaryReplicaRouter:
    """Reads to the replica only where the middleware allowed it; all else to the primary."""

    def db_for_read(self, model, **hints):
        return REPLICA if _reading_from_replica.get() and replica_configured() else "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


def _anonymous(request) -> bool:
    return "HTTP_AUTHORIZATION" not in request.META and settings.SESSION_COOKIE_NAME not in request.COOKIES


def _recently_wrote(request) -> bool:
    try:
        return float(request.COOKIES.get(STICKY_COOKIE, "0")) > time.time()
    except ValueError:
        return True  # a stamp we cannot read: the primary is always right


def _replica_route(request) -> bool:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return match.url_name in settings.REPLICA_READ_ROUTES


class ReplicaReadsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        allowed = (
            replica_configured()
            and request.method in SAFE_METHODS
            and _anonymous(request)
            and not _recently_wrote(request)
            and _replica_route(request)
        )
        token = _reading_from_replica.set(allowed)
        try:
            response = self.get_response(request)
        finally:
            _reading_from_replica.reset(token)
        wrote = request.method not in SAFE_METHODS and request.method != "OPTIONS" and response.status_code < 400
        if wrote and replica_configured():
            window = settings.REPLICA_STICKY_SECONDS
            response.set_cookie(
                STICKY_COOKIE,
                f"{time.time() + window:.0f}",
                max_age=window,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response
