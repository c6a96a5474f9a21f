"""CPU time per booking through the API, with the derived keys cached (now) and derived per call (before).

    .venv/bin/python bench/booking_cpu_bench.py [--bookings 30] [--rounds 3]

In-process (Django test client, a throwaway SQLite database, in-process Celery): 40 doctors with
the demo schedule, a fresh patient with the booking consent for every booking, each
`POST /api/v1/appointments/` with an Idempotency-Key. Blocks of bookings alternate between
`medplatform.encryption._derive` as it is (cached per key string and purpose) and its uncached
original (`__wrapped__`, PBKDF2 on every keyed hash, as before the cache), so drift hits both
alike. Measures `time.process_time()` of this process around each request: CPU time is far
less disturbed than wall time by other work on a shared machine.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_django(tmp: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="medplatform.settings",
        DATABASE_URL=f"sqlite:///{tmp}/bench.sqlite3",
        MEDPLATFORM_VAR_DIR=tmp,
        SECRET_KEY="bench-only-secret-0123456789abcdefghijklmnopqrstuv",
        CRYPTOGRAPHY_KEY="bench-only-crypto-0123456789abcdefghijklmnopqrstuv",
        THROTTLE_BOOKING="100000/min",
    )
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "MEDPLATFORM_ENV", "CRYPTOGRAPHY_OLD_KEYS"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=30, help="bookings per block")
    parser.add_argument("--rounds", type=int, default=3, help="before/after block pairs")
    args = parser.parse_args()
    setup_django(tempfile.mkdtemp(prefix="booking_cpu_bench_"))

    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import Clinic, Doctor, Specialty, User
    from appointments.demo import create_demo_schedule
    from medplatform import encryption
    from tests.appointments.conftest import at, grant_booking_consent, working_day

    clinic = Clinic.objects.create(name="Bench", city="İstanbul", address="-")
    specialty = Specialty.objects.create(slug="bench", name_tr="Bench", name_en="Bench")
    doctors = []
    for i in range(40):
        user = User.objects.create_user(
            email=f"doctor{i}@bench.test", first_name="Dr", last_name=str(i), role=User.Role.DOCTOR, password=None
        )
        doctor = Doctor.objects.create(user=user, title="Dr.", specialty=specialty, registration_number=f"B-{i}")
        doctor.clinics.add(clinic)
        create_demo_schedule(doctor, clinic)
        doctors.append(doctor)
    days = [working_day(7 + 7 * week) for week in range(4)]
    cached, uncached = encryption._derive, encryption._derive.__wrapped__
    made = 0

    def block(variant: str, count: int) -> list[float]:
        nonlocal made
        encryption._derive = cached if variant == "after" else uncached
        seconds = []
        for _ in range(count):
            email = f"p{made}@bench.test"
            patient = User.objects.create_user(email=email, first_name="P", last_name="B", password=None)
            grant_booking_consent(patient)
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(patient)}")
            start = at(days[(made // 40) % 4], 9 + (made // 160) % 3)
            body = {"doctor": str(doctors[made % 40].id), "start": start.isoformat(), "visit_reason": "kontrol"}
            started = time.process_time()
            response = client.post("/api/v1/appointments/", body, format="json", HTTP_IDEMPOTENCY_KEY=f"k{made}")
            seconds.append(time.process_time() - started)
            assert response.status_code == 201, response.content
            made += 1
        return seconds

    block("after", 5)  # warm-up: imports, the first derivations
    results: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(args.rounds):
        for variant in ("before", "after"):
            results[variant] += block(variant, args.bookings)
    encryption._derive = cached
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for variant, seconds in results.items():
        print(
            f"{variant}: {len(seconds)} bookings, CPU per booking median {statistics.median(seconds) * 1000:.1f} ms, "
            f"mean {statistics.mean(seconds) * 1000:.1f} ms"
        )
    started = time.process_time()
    uncached("bench-only-another-key", "lookup:idempotency")
    print(f"one PBKDF2 derivation (100,000 rounds): {(time.process_time() - started) * 1000:.1f} ms CPU")


if __name__ == "__main__":
    main()
