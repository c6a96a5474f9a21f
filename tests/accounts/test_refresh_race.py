"""Parallel refreshes of one refresh token: the database lets exactly one rotation through."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import UserFactory

THREADS = 10

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def run_at_once(calls):
    """Run each callable in its own thread (own connection), all released together."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=30)
            response = call()
            results[index] = (response.status_code, response.json())
        except Exception as exc:  # recorded, so a crash fails the assertions instead of hanging
            results[index] = ("exception", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_ten_parallel_refreshes_of_one_token_give_exactly_one_new_pair():
    refresh = str(RefreshToken.for_user(UserFactory()))
    clients = [APIClient() for _ in range(THREADS)]

    results = run_at_once([lambda c=c: c.post("/api/v1/auth/token/refresh/", {"refresh": refresh}) for c in clients])

    statuses = sorted(status for status, _body in results)
    assert statuses == [200] + [401] * (THREADS - 1), results
    assert all(body["code"] == "not_authenticated" for status, body in results if status == 401), results
    (new_refresh,) = [body["refresh"] for status, body in results if status == 200]
    # the old token is blacklisted once; the one new refresh token works
    assert BlacklistedToken.objects.count() == 1
    assert OutstandingToken.objects.count() == 2
    assert APIClient().post("/api/v1/auth/token/refresh/", {"refresh": new_refresh}).status_code == 200
