"""Parallel refreshes of one refresh token: the database lets exactly one rotation through."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from tests.concurrency import responses_at_once
from tests.factories import UserFactory

THREADS = 10

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_ten_parallel_refreshes_of_one_token_give_exactly_one_new_pair():
    refresh = str(RefreshToken.for_user(UserFactory()))
    clients = [APIClient() for _ in range(THREADS)]

    results = responses_at_once(
        [lambda c=c: c.post("/api/v1/auth/token/refresh/", {"refresh": refresh}) for c in clients]
    )

    statuses = sorted(status for status, _body in results)
    assert statuses == [200] + [401] * (THREADS - 1), results
    assert all(body["code"] == "not_authenticated" for status, body in results if status == 401), results
    (new_refresh,) = [body["refresh"] for status, body in results if status == 200]
    # the old token is blacklisted once; the one new refresh token works
    assert BlacklistedToken.objects.count() == 1
    assert OutstandingToken.objects.count() == 2
    assert APIClient().post("/api/v1/auth/token/refresh/", {"refresh": new_refresh}).status_code == 200
