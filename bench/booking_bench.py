"""Booking under load: free slots, doctor search with available_on and booking, beside /healthz.

    .venv/bin/python bench/booking_bench.py

Creates (and afterwards drops) the PostgreSQL database `medplatform_bench`, migrates it and
bulk-creates 1,000 doctors in 20 clinics (weekdays 09:00-17:00, 30-minute slots, lunch break)
and 200,000 appointments: per doctor 100 completed ones in the past weeks and 100 booked ones
on every other slot of the coming working days, so slot computation has real bookings to skip.
Then it starts gunicorn on 127.0.0.1 (a free port) and sends a bounded number of requests from
client threads over loopback only:

- GET /healthz (no database, no DRF): the server's ceiling, measured in the same run;
- GET /api/v1/doctors/{id}/slots/ for 14 days, random doctors;
- GET /api/v1/doctors/?available_on=<day> (all 1,000 doctors are candidates), the same narrowed
  to one city, and to one specialty in one city;
- POST /api/v1/appointments/ from many patients (with the booking consent) on distinct free
  slots: booking throughput with concurrent clients, every answer expected to be 201.

Rounds alternate between the GET endpoints so that drift hits them alike. Prints requests/s,
p50/p95 per endpoint and each one's ratio to /healthz.
"""

import argparse
import os
import platform
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from functools import partial
from pathlib import Path

import requests
from harness import alternate, database, get, gunicorn, machine, migrate, run, use_bench_environment

CITIES = ["İstanbul", "Ankara", "İzmir", "Bursa", "Antalya"]
TZ = "Europe/Istanbul"
# The 30-minute grid of 09:00-17:00; 12:30 and 13:00 are the lunch break.
GRID = [(9 + i // 2, 30 * (i % 2)) for i in range(16)]
BREAK = {7, 8}
SEEDED = [i for i in range(16) if i % 2 == 1 and i not in BREAK]  # taken by seeded bookings
FREE = [i for i in range(16) if i % 2 == 0 and i not in BREAK]  # left for the booking phase


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--database", default="medplatform_bench")
    parser.add_argument("--doctors", type=int, default=1000)
    parser.add_argument("--appointments", type=int, default=200_000)
    parser.add_argument("--patients", type=int, default=3000, help="patients holding the seeded appointments")
    parser.add_argument("--bookers", type=int, default=1999, help="fresh patients for the booking phase")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--gthreads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--threads", type=int, default=8, help="client threads")
    parser.add_argument("--requests", type=int, default=600, help="GET requests per endpoint per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--bookings", type=int, default=1500, help="bookings in the booking phase")
    parser.add_argument("--max-seconds", type=float, default=60, help="time limit per endpoint per round")
    parser.add_argument("--keep-database", action="store_true")
    return parser.parse_args()


def working_days(first: date, count: int) -> list[date]:
    days, day = [], first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def seed(args) -> dict:
    """Bulk-create clinics, doctors with schedules, patients and appointments (Django set up here)."""
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import Clinic, Doctor, Specialty, User
    from appointments import availability_index
    from appointments.availability import instant
    from appointments.demo import create_demo_schedule
    from appointments.models import Appointment, Break, WorkingHours
    from medplatform.search_keys import search_key  # bulk_create skips save(), which keeps the keys
    from privacy.models import ConsentEvent, Purpose
    from privacy.services import consent_text_current

    started = time.monotonic()
    specialties = list(Specialty.objects.all())
    with transaction.atomic():
        clinics = Clinic.objects.bulk_create(
            Clinic(
                name=f"Bench Klinik {i:02d}",
                city=CITIES[i % len(CITIES)],
                city_key=search_key(CITIES[i % len(CITIES)]),
                address=f"Cadde {i}",
                timezone=TZ,
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
            for i in range(args.doctors)
        )
        doctors = Doctor.objects.bulk_create(
            Doctor(
                user=user, title="Dr.", specialty=specialties[i % len(specialties)], registration_number=f"B-{i:06d}"
            )
            for i, user in enumerate(users)
        )
        through = Doctor.clinics.through
        through.objects.bulk_create(
            through(doctor_id=doctor.id, clinic_id=clinics[i % len(clinics)].id) for i, doctor in enumerate(doctors)
        )
        # One doctor through the real demo helper, the others copied from it in bulk.
        create_demo_schedule(doctors[0], clinics[0])
        template_hours = list(WorkingHours.objects.filter(doctor=doctors[0]))
        template_breaks = list(Break.objects.filter(doctor=doctors[0]))
        WorkingHours.objects.bulk_create(
            WorkingHours(
                doctor=doctor,
                clinic=clinics[i % len(clinics)],
                weekday=h.weekday,
                start_time=h.start_time,
                end_time=h.end_time,
                slot_minutes=h.slot_minutes,
                visit_types=h.visit_types,
            )
            for i, doctor in enumerate(doctors[1:], start=1)
            for h in template_hours
        )
        Break.objects.bulk_create(
            Break(
                doctor=doctor,
                clinic=clinics[i % len(clinics)],
                weekday=b.weekday,
                start_time=b.start_time,
                end_time=b.end_time,
            )
            for i, doctor in enumerate(doctors[1:], start=1)
            for b in template_breaks
        )
        # A usable password, as every patient who signs in has (one hash for all: hashing 50,000
        # passwords would take longer than the seed). An unusable one marks a dependant without a
        # login, whose notifications look up a guardian: a query real patients do not cost.
        password = make_password("bench-patient")
        patients = User.objects.bulk_create(
            User(
                email=f"bench.patient{i:05d}@example.test", first_name="Hasta", last_name=f"{i:05d}", password=password
            )
            for i in range(args.patients + args.bookers)
        )
        text = consent_text_current(purpose=Purpose.APPOINTMENT_HEALTH_DATA)
        ConsentEvent.objects.bulk_create(
            ConsentEvent(
                subject=patient,
                purpose=Purpose.APPOINTMENT_HEALTH_DATA,
                action=ConsentEvent.Action.GRANT,
                text=text,
                text_version=text.version,
                text_language=text.language,
                text_hash=text.content_hash,
                channel="bench",
            )
            for patient in patients
        )
    print(f"  doctors, schedules, patients: {time.monotonic() - started:.1f} s", flush=True)

    # Appointments: half in the past (completed), half booked on the odd slots of the coming
    # working days. At one instant every doctor has a different patient, so no constraint trips.
    per_doctor = args.appointments // args.doctors
    n_future = per_doctor // 2
    n_past = per_doctor - n_future
    today = datetime.now(UTC).date()
    future_days = working_days(today + timedelta(days=1), -(-n_future // len(SEEDED)))
    past_days = working_days(today - timedelta(days=60), -(-n_past // len(SEEDED)))
    holders = patients[: args.patients]

    def instants(days):
        for day in days:
            for index in SEEDED:
                hour, minute = GRID[index]
                yield instant(day, wall_time(hour, minute), TZ)

    past = list(instants(past_days))[:n_past]
    future = list(instants(future_days))[:n_future]
    total = 0
    batch: list = []
    with transaction.atomic():
        for d, doctor in enumerate(doctors):
            clinic = clinics[d % len(clinics)]
            for t, start in enumerate(past + future):
                batch.append(
                    Appointment(
                        patient=holders[(d + t * 7) % len(holders)],
                        doctor=doctor,
                        clinic=clinic,
                        start=start,
                        end=start + timedelta(minutes=30),
                        status="completed" if start < datetime.now(UTC) else "booked",
                        visit_reason=None if t % 4 else "kontrol",
                    )
                )
            if len(batch) >= 10_000:
                Appointment.objects.bulk_create(batch)
                total += len(batch)
                batch = []
        Appointment.objects.bulk_create(batch)
        total += len(batch)
    print(f"  {total} appointments: {time.monotonic() - started:.1f} s", flush=True)
    # bulk_create bypasses the services that keep the availability index: build it once, as
    # `manage.py rebuild_availability` does after a bulk load.
    rows = availability_index.rebuild()
    # Planner statistics, as autovacuum would have them on a database that grew over time.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"  availability index ({rows} rows), ANALYZE: {time.monotonic() - started:.1f} s", flush=True)

    bookers = patients[args.patients :]
    return {
        "doctor_ids": [str(doctor.id) for doctor in doctors],
        "tokens": [str(AccessToken.for_user(patient)) for patient in bookers],
        "free_days": working_days(today + timedelta(days=1), 40),
        "search_day": future_days[2],
        # doctor i has specialty i % S and clinic i % 20; clinic 1 is in Ankara
        "search_specialty": specialties[1 % len(specialties)].slug,
        "seconds": time.monotonic() - started,
        "total": total,
    }


def booking_plan(data: dict, count: int) -> list[tuple[str, dict]]:
    """(token, body) for `count` bookings on distinct free slots that respect the patient limits.

    Booking i takes doctor i % D at the (i // D)-th free slot; patient i % P with P coprime to D,
    so one patient's bookings (at most 5) are with different doctors at different times."""
    doctors, tokens = data["doctor_ids"], data["tokens"]
    free = []
    for day in data["free_days"]:
        for index in FREE:
            hour, minute = GRID[index]
            free.append(f"{day.isoformat()}T{hour:02d}:{minute:02d}:00+03:00")
    plan = []
    for i in range(count):
        patient = i % len(tokens)
        if i // len(tokens) >= 5:
            break
        body = {"doctor": doctors[i % len(doctors)], "start": free[i // len(doctors)], "visit_reason": "bench"}
        plan.append((tokens[patient], body))
    return plan


def main() -> None:
    args = parse_args()
    # This process (seeding through the ORM, signing tokens) and gunicorn share one environment.
    # The booking throttle is per user and every bench patient books at most five times, but the
    # locmem cache is per worker; it is raised so that it cannot distort throughput.
    env = use_bench_environment(
        f"{args.server}/{args.database}", JWT_ACCESS_MINUTES="240", THROTTLE_BOOKING="100000/min", CONN_MAX_AGE="60"
    )

    print(f"database {args.database}: creating, migrating, seeding ...", flush=True)
    log = Path(f"/tmp/booking_bench_gunicorn_{os.getpid()}.log")  # noqa: S108
    options = ["--workers", str(args.workers), "--threads", str(args.gthreads), "--worker-class", "gthread"]
    rng = random.Random(42)  # noqa: S311
    with database(args.server, args.database, keep=args.keep_database):
        migrate(env)
        data = seed(args)
        from django.db import connections

        connections.close_all()
        with gunicorn(env, options, log) as base:
            day0 = datetime.now(UTC).date() + timedelta(days=1)
            slots_path = "/api/v1/doctors/{}/slots/?from=" + f"{day0}&to={day0 + timedelta(days=13)}"
            search_all = f"/api/v1/doctors/?available_on={data['search_day']}"
            search_city = search_all + "&city=Ankara"
            search_specialty_city = search_city + f"&specialty={data['search_specialty']}"
            sample = requests.get(base + slots_path.format(data["doctor_ids"][1]), timeout=30).json()
            assert len(sample) == 10 * len(FREE), f"expected the even slots of 10 working days free, got {len(sample)}"
            found = requests.get(base + search_all, timeout=60).json()
            assert found["count"] == args.doctors, found.get("count")
            assert found["results"][0]["next_available"], found["results"][0]

            get_endpoints = {
                "GET /healthz": partial(get, base + "/healthz", timeout=30),
                "GET slots, 14 days": lambda: get(base + slots_path.format(rng.choice(data["doctor_ids"])), timeout=30),
                "GET doctors?available_on (1,000 candidates)": partial(get, base + search_all, timeout=60),
                "GET doctors?available_on&city (200 candidates)": partial(get, base + search_city, timeout=60),
                "GET doctors?available_on&specialty&city": partial(get, base + search_specialty_city, timeout=60),
            }
            # warm-up: connections, imports, query plans
            alternate(get_endpoints, 1, 2 * args.threads, args.threads, 60)

            load_before = os.getloadavg()[0]
            results = alternate(get_endpoints, args.rounds, args.requests, args.threads, args.max_seconds)
            plan = booking_plan(data, args.bookings)
            jobs = [
                lambda s, token=token, body=body: s.post(
                    base + "/api/v1/appointments/", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60
                )
                for token, body in plan
            ]
            results["POST appointments (distinct slots)"] = run(
                "POST appointments (distinct slots)", jobs, args.threads, args.max_seconds * 2, expect=201
            )
            # /healthz once more after the writes, so the ceiling is measured on both sides of them.
            health_jobs = [get_endpoints["GET /healthz"]() for _ in range(args.requests)]
            results["GET /healthz"].merge(run("GET /healthz", health_jobs, args.threads, 60))
            load_after = os.getloadavg()[0]

    print(
        f"\nmachine: {machine()}, {platform.platform()}; PostgreSQL on the same machine; "
        f"gunicorn {args.workers} gthread workers x {args.gthreads} threads on 127.0.0.1; "
        f"{args.threads} client threads in one process; "
        f"{args.doctors} doctors, {data['total']} appointments seeded in {data['seconds']:.0f} s; "
        f"{args.rounds} rounds x {args.requests} requests per GET endpoint; "
        f"1-minute load average {load_before:.2f} before, {load_after:.2f} after\n"
    )
    print(f"{'endpoint':<48} {'ok':>6} {'errors':>8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'vs healthz':>11}")
    health = results["GET /healthz"]
    for name, r in results.items():
        print(
            f"{name:<48} {len(r.latencies):>6} {r.error_count:>8} {r.rps:>8.1f} {r.percentile(50):>8.1f} "
            f"{r.percentile(95):>8.1f} {r.rps / health.rps:>10.3f}x"
        )
        if r.errors:
            print(f"{'':<48} errors by status: {r.errors}")
    print("\n(vs healthz = requests/s of the endpoint divided by requests/s of /healthz in this run)")
    if any(r.errors for r in results.values()):
        sys.exit("some requests failed")


if __name__ == "__main__":
    main()
