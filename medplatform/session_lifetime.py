"""Portal and admin sessions end after SESSION_IDLE_TIMEOUT_MINUTES without a request (Django's
SESSION_COOKIE_AGE, renewed on every request by SESSION_SAVE_EVERY_REQUEST) and, however active,
SESSION_ABSOLUTE_TIMEOUT_HOURS after the login (this middleware)."""

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.utils import timezone

STARTED_AT = "_login_started_at"


class SessionLifetimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = request.session.get(STARTED_AT)
        if started is not None and timezone.now().timestamp() - started > settings.SESSION_ABSOLUTE_SECONDS:
            logout(request)
        response = self.get_response(request)
        # The response of the login itself (or the first request of an older session) stamps it;
        # logout() and a login as someone else flush the session, stamp included.
        if SESSION_KEY in request.session and STARTED_AT not in request.session:
            request.session[STARTED_AT] = timezone.now().timestamp()
        return response
