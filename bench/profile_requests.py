"""Profile the bench's endpoints in-process (Django test client, full middleware, no gunicorn).

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/profile_requests.py [--seed] [--profile NAME] [-n 50]

With --seed, (re)creates the database named by --database on DATABASE_URL's server and seeds it with
bench/run_all.py's seed (sizes as options), writing the request data to <database>.json beside
it in $TMPDIR; without it, reuses both. Prints per endpoint the median wall time and queries of
`-n` requests; --profile NAME prints a cProfile of that endpoint's requests (cumulative, top 40).
"""

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import database, migrate  # noqa: E402


def fixed_keys(env: dict) -> dict:
    """The same keys on every run, so the tokens saved with the seed stay valid (a local database only)."""
    keys = {"SECRET_KEY": "profile-only-" + "s" * 50, "CRYPTOGRAPHY_KEY": "profile-only-" + "c" * 50}
    os.environ.update(keys)
    env.update(keys)
    return env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", action="store_true")
    parser.add_argument("--database", default="medplatform_profile")
    parser.add_argument("--doctors", type=int, default=1000)
    parser.add_argument("--appointments", type=int, default=40_000)
    parser.add_argument("--patients", type=int, default=4_000)
    parser.add_argument("--profiles", type=int, default=2)
    parser.add_argument("-n", type=int, default=40)
    parser.add_argument("--profile", action="append", default=[])
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--dispatch", action="store_true", help="then send the pending notifications, profiled")
    args = parser.parse_args()
    parts = urlsplit(os.environ["DATABASE_URL"])
    server = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    state = Path(os.environ.get("TMPDIR", "/tmp")) / f"{args.database}.json"  # noqa: S108
    import run_all

    url = f"{server}/{args.database}"
    if args.seed:
        import math

        from booking_bench import seed

        with database(server, args.database, keep=True) as url:
            env = fixed_keys(run_all.environment(url))
            migrate(env)
            bookers = min(400, args.patients // 2)
            while math.gcd(bookers, args.doctors) != 1:
                bookers -= 1
            seeded = seed(
                argparse.Namespace(
                    doctors=args.doctors,
                    appointments=args.appointments,
                    patients=args.patients - bookers,
                    bookers=bookers,
                )
            )
            profiles = run_all.seed_profiles(args.profiles, seeded["doctor_ids"])
            seeded["profiles"] = profiles
            state.write_text(json.dumps(seeded, default=str))
    fixed_keys(run_all.environment(url))
    os.environ["ALLOWED_HOSTS"] = "*"
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    data = json.loads(state.read_text())
    data["free_days"] = [date.fromisoformat(d) for d in data["free_days"]]
    from booking_bench import booking_plan

    # Bookings beyond those made by earlier runs on this seed (their slots are taken: 409).
    plan = booking_plan(data, 5 * len(data["tokens"]))[data.get("booked", 0) :]
    profiles = data["profiles"]
    endpoints = run_all.Endpoints(data, [tuple(p) for p in profiles], plan)
    client = Client()
    names = [n for n in endpoints.makers if n not in ("/healthz", "mixed day")]
    if args.only:
        names = [n for n in names if any(o in n for o in args.only)]
    for name in names:
        make = endpoints.makers[name]
        times, queries, statuses = [], [], {}
        profiler = _profiler() if name in args.profile or "all" in args.profile else None
        for i in range(args.n + 3):
            method, path, body, headers, expected = make()
            extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                if profiler and i >= 3:
                    profiler.enable()
                if method == "GET":
                    response = client.get(path, **extra)
                else:
                    response = client.post(path, data=json.dumps(body), content_type="application/json", **extra)
                if profiler:
                    profiler.disable()
                elapsed = time.perf_counter() - started
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if i >= 3:
                times.append(elapsed * 1000)
                queries.append(len(captured.captured_queries))
        print(
            f"{name:<42} median {statistics.median(times):7.2f} ms  min {min(times):7.2f}  "
            f"queries {statistics.median(queries):.0f}  statuses {statuses}",
            flush=True,
        )
        if name == "booking":
            data["booked"] = data.get("booked", 0) + args.n + 3
            state.write_text(json.dumps(data, default=str))
        if profiler:
            if os.environ.get("PROFILE_OUT"):
                profiler.dump_stats(os.environ["PROFILE_OUT"])
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(os.environ.get("PROFILE_FILTER", ""), 45)
            stats.sort_stats("tottime").print_stats(30)
    if args.dispatch:
        dispatch_profiled()
    _ = (UTC, datetime, timedelta)


def _profiler() -> cProfile.Profile:
    """Wall time by default; PROFILE_CLOCK=cpu counts this process's CPU time only (waits for the
    database and Redis left out)."""
    return cProfile.Profile(time.process_time) if os.environ.get("PROFILE_CLOCK") == "cpu" else cProfile.Profile()


def dispatch_profiled() -> None:
    """Send the outbox rows the bookings above wrote, in-process, as the worker's task does: the
    time per message and a cProfile of the task's body (Celery's own handling not included)."""
    from notifications.models import Notification
    from notifications.tasks import send_notification

    pending = [str(pk) for pk in Notification.objects.filter(status="pending").values_list("id", flat=True)]
    profiler = _profiler()
    started = time.perf_counter()
    profiler.enable()
    for notification_id in pending:
        send_notification.run(notification_id)
    profiler.disable()
    elapsed = time.perf_counter() - started
    print(f"dispatch: {len(pending)} messages, {1000 * elapsed / max(1, len(pending)):.2f} ms each", flush=True)
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(os.environ.get("PROFILE_FILTER", ""), 45)
    stats.sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
