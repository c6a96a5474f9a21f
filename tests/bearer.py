"""What a signed-in request spends on its user, for the query counts."""

from django.conf import settings


def seeded_user_query() -> int:
    """The user of the access token for a user who has already made a request: none on the
    services run (its state is in Redis, accounts.auth_state), one read of the row without
    REDIS_URL (the embedded run). A user's first request reads the row on both."""
    return 0 if settings.REDIS_URL else 1
