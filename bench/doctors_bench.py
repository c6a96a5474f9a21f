"""Doctor search under load: GET /api/v1/doctors/ beside /healthz on the same gunicorn, same run.

    .venv/bin/python bench/doctors_bench.py            # or: make bench-doctors

Creates (and afterwards drops) the PostgreSQL database `medplatform_bench_doctors`, migrates it,
bulk-creates 1,000 doctors in 20 clinics, starts gunicorn on 127.0.0.1 (a free port, 2 workers)
and sends a bounded number of requests from client threads on loopback only. /healthz, which
touches neither the database nor DRF, is the server's ceiling; the ratio says what doctor search
costs on top of it. Rounds alternate between the endpoints so that drift hits both alike.
"""

import argparse
import os
import platform
import sys
from functools import partial
from pathlib import Path

import requests
from harness import alternate, database, get, gunicorn, machine, migrate, use_bench_environment

CITIES = ["İstanbul", "Ankara", "İzmir", "Bursa", "Antalya"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--database", default="medplatform_bench_doctors")
    parser.add_argument("--doctors", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    parser.add_argument("--requests", type=int, default=1500, help="requests per endpoint per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-seconds", type=float, default=60, help="time limit per endpoint per round")
    parser.add_argument("--keep-database", action="store_true")
    return parser.parse_args()


def seed(count: int) -> None:
    """Bulk-create `count` active doctors over 20 clinics and every specialty (Django set up here)."""
    import django

    django.setup()
    from django.db import transaction

    from accounts.models import Clinic, Doctor, Specialty, User
    from medplatform.search_keys import search_key  # bulk_create skips save(), which keeps the keys

    specialties = list(Specialty.objects.all())
    with transaction.atomic():
        clinics = Clinic.objects.bulk_create(
            Clinic(
                name=f"Bench Klinik {i:02d}",
                city=CITIES[i % len(CITIES)],
                city_key=search_key(CITIES[i % len(CITIES)]),
                address=f"Cadde {i}",
            )
            for i in range(20)
        )
        users = User.objects.bulk_create(
            User(
                email=f"bench.doctor{i:05d}@example.test",
                first_name=f"Ad{i:05d}",
                last_name=f"Soyad{i % 97:02d}",
                name_key=search_key(f"Soyad{i % 97:02d} Ad{i:05d}"),
                role=User.Role.DOCTOR,
                password="!",  # unusable: nobody logs in as a bench doctor
            )
            for i in range(count)
        )
        doctors = Doctor.objects.bulk_create(
            Doctor(
                user=user,
                title="Dr.",
                specialty=specialties[i % len(specialties)],
                registration_number=f"BENCH-{i:06d}",
                rating_sum=(i % 5 + 1) * 3,
                rating_count=3 if i % 3 else 0,
            )
            for i, user in enumerate(users)
        )
        through = Doctor.clinics.through
        links = [through(doctor_id=d.id, clinic_id=clinics[i % len(clinics)].id) for i, d in enumerate(doctors)]
        links += [
            through(doctor_id=d.id, clinic_id=clinics[(i + 7) % len(clinics)].id)
            for i, d in enumerate(doctors)
            if i % 4 == 0
        ]
        through.objects.bulk_create(links)


def main() -> None:
    args = parse_args()
    # This process (seeding through the ORM) and gunicorn share one environment: the bench
    # database, throwaway keys, and no Redis (locmem cache, in-process tasks).
    env = use_bench_environment(f"{args.server}/{args.database}")

    print(f"database {args.database}: creating, migrating, seeding {args.doctors} doctors ...", flush=True)
    log = Path(f"/tmp/doctors_bench_gunicorn_{os.getpid()}.log")  # noqa: S108
    with database(args.server, args.database, keep=args.keep_database):
        migrate(env)
        seed(args.doctors)
        with gunicorn(env, ["--workers", str(args.workers)], log) as base:
            listing = requests.get(base + "/api/v1/doctors/", timeout=10).json()
            assert listing["count"] == args.doctors, listing.get("count")
            paths = ["/healthz", "/api/v1/doctors/", "/api/v1/doctors/?specialty=cardiology&city=Ankara"]
            endpoints = {path: partial(get, base + path) for path in paths}
            alternate(endpoints, 1, 50, args.threads, 30)  # warm-up: connections, imports, query plans

            load_before = os.getloadavg()[0]
            results = alternate(endpoints, args.rounds, args.requests, args.threads, args.max_seconds)
            load_after = os.getloadavg()[0]

    print(
        f"\nmachine: {machine()}, {platform.platform()}; gunicorn {args.workers} sync workers on 127.0.0.1; "
        f"{args.threads} client threads in one process; {args.doctors} doctors; "
        f"{args.rounds} rounds x {args.requests} requests per endpoint; "
        f"1-minute load average {load_before:.2f} before, {load_after:.2f} after\n"
    )
    print(f"{'endpoint':<52} {'ok':>6} {'errors':>6} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for path, r in results.items():
        print(
            f"{path:<52} {len(r.latencies):>6} {r.error_count:>6} {r.rps:>8.1f} "
            f"{r.percentile(50):>8.2f} {r.percentile(95):>8.2f} {r.percentile(99):>8.2f}"
        )
    health, doctors = results["/healthz"], results["/api/v1/doctors/"]
    print(
        f"\nratio /api/v1/doctors/ to /healthz: throughput {doctors.rps / health.rps:.3f}x, "
        f"p50 latency {doctors.percentile(50) / health.percentile(50):.1f}x, "
        f"p95 latency {doctors.percentile(95) / health.percentile(95):.1f}x"
    )
    if any(r.errors for r in results.values()):
        sys.exit("some requests failed")


if __name__ == "__main__":
    main()
