"""Run callables at the same instant, each in its own thread and so on its own database connection."""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection


def run_at_once(calls: list) -> list[tuple[str, object]]:
    """Release every call together (a barrier, no sleeps); ("ok", result) or ("error", exception) each,
    in order, so a crash fails the caller's assertions instead of hanging."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait(timeout=30)
            return ("ok", call())
        except Exception as exc:
            return ("error", exc)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def responses_at_once(requests: list) -> list:
    """run_at_once for API requests: (status, body) each, or ("exception", repr) for a crash."""
    results = []
    for kind, value in run_at_once(requests):
        results.append((value.status_code, value.json()) if kind == "ok" else ("exception", repr(value)))
    return results
