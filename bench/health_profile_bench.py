"""A doctor reading a shared 50-entry health profile, beside /healthz on the same gunicorn, same run.

    .venv/bin/python bench/health_profile_bench.py

Creates (and afterwards drops) the PostgreSQL database `medplatform_bench_health`, migrates it,
gives a patient the storage consent, 50 encrypted entries and a share with one doctor, starts
gunicorn on 127.0.0.1 (a free port, 2 sync workers) and sends a bounded number of requests from
client threads on loopback only. Each doctor read decrypts every field of the 50 entries and
writes one audit entry; the run checks afterwards that there is exactly one audit entry per
successful read. /healthz touches neither the database nor DRF: it is the server's ceiling.
Rounds alternate between the endpoints so that drift (other work on the machine) hits both.
"""

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from functools import partial

import psycopg
import requests
from harness import ROOT, alternate, database, get, gunicorn, machine, migrate

SEED = """
import datetime, json, django
django.setup()
from accounts.models import Clinic, Doctor, Specialty, User
from health_profiles import services
from privacy.models import Purpose
from privacy.services import consent_grant, current_version
from rest_framework_simplejwt.tokens import RefreshToken

ENTRIES = int(__import__("os").environ["BENCH_ENTRIES"])
clinic = Clinic.objects.create(name="Bench Klinik", city="Istanbul", address="Bench Cd. 1")
doctor_user = User.objects.create_user("bench.doctor@example.test", role=User.Role.DOCTOR, first_name="Bench",
                                       last_name="Doctor")
doctor = Doctor.objects.create(user=doctor_user, specialty=Specialty.objects.first(), registration_number="BENCH-1")
doctor.clinics.add(clinic)
patient = User.objects.create_user("bench.patient@example.test", first_name="Bench", last_name="Patient")

def grant(purpose, **scope):
    version = current_version(purpose)
    return consent_grant(subject=patient, purpose=purpose, text_version=version, language="tr", **scope)

grant(Purpose.HEALTH_PROFILE_STORAGE)
rows = [
    ("allergy", {"reaction": "Kurdesen ve kasinti", "severity": "moderate"}),
    ("medication", {"dose": "500 mg", "frequency": "Gunde iki kez"}),
    ("condition", {"diagnosed_on": datetime.date(2018, 5, 3)}),
    ("treatment", {"started_on": datetime.date(2023, 1, 9), "ended_on": datetime.date(2023, 4, 1)}),
]
for n in range(ENTRIES):
    category, extra = rows[n % 4]
    services.entry_create(patient=patient, category=category,
                          values={"name": f"Kayit {n}", "details": "Ayrintili aciklama " * 4, **extra})
grant(Purpose.HEALTH_PROFILE_SHARE, doctor=doctor, categories=["allergy", "medication", "condition", "treatment"])
print(json.dumps({"token": str(RefreshToken.for_user(doctor_user).access_token), "patient": str(patient.id)}))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--database", default="medplatform_bench_health")
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    parser.add_argument("--requests", type=int, default=300, help="requests per endpoint per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-seconds", type=float, default=60, help="time limit per endpoint per round")
    parser.add_argument("--keep-database", action="store_true")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    database_url = f"{args.server}/{args.database}"
    var_dir = tempfile.mkdtemp(prefix="medplatform-bench-health-")
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_BROKER_URL", "TEST_DATABASE_NAME"}},
        "DJANGO_SETTINGS_MODULE": "medplatform.settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CRYPTOGRAPHY_KEY": secrets.token_urlsafe(50),
        "MEDPLATFORM_VAR_DIR": var_dir,
        "LOG_LEVEL": "WARNING",
        "JWT_ACCESS_MINUTES": "120",
        "BENCH_ENTRIES": str(args.entries),
        "CONN_MAX_AGE": "60",
    }
    options = ["--workers", str(args.workers), "--log-level", "warning"]
    try:
        run(args, env, options, database_url)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def run(args, env: dict, options: list[str], database_url: str) -> None:
    with database(args.server, args.database, keep=args.keep_database):
        migrate(env)
        seeded = json.loads(
            subprocess.run(
                [sys.executable, "-c", SEED], cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=600
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        with gunicorn(env, options) as base:
            profile = f"/api/v1/patients/{seeded['patient']}/health-profile/"
            auth = {"Authorization": f"Bearer {seeded['token']}"}
            check = requests.get(f"{base}{profile}", headers=auth, timeout=10)
            assert check.status_code == 200, check.text[:300]
            body = check.json()
            read_entries = sum(len(body[group]) for group in ("allergies", "medications", "conditions", "treatments"))
            assert read_entries == args.entries, read_entries
            endpoints = {"/healthz": partial(get, f"{base}/healthz"), "doctor read": partial(get, base + profile, auth)}
            alternate(endpoints, 1, 40, args.threads, 30)  # warm-up: both workers, both paths
            results = alternate(endpoints, args.rounds, args.requests, args.threads, args.max_seconds)

            with psycopg.connect(database_url, connect_timeout=10) as conn:
                audited = conn.execute(
                    "SELECT count(*) FROM privacy_auditentry WHERE action = 'health_profile_read'"
                ).fetchone()[0]
            reads = 1 + 40 + len(results["doctor read"].latencies)

            print(
                f"\nmachine: {machine()}; gunicorn {args.workers} sync workers; {args.threads} client threads; "
                f"{args.rounds} rounds x {args.requests} requests per endpoint; "
                f"profile of {args.entries} entries shared with the doctor"
            )
            print("| endpoint | requests | errors | req/s | p50 ms | p95 ms | max ms |")
            print("|---|---|---|---|---|---|---|")
            for name, result in results.items():
                print(
                    f"| {name} | {len(result.latencies)} | {result.error_count} | {result.rps:.0f} | "
                    f"{result.percentile(50):.1f} | {result.percentile(95):.1f} | {result.percentile(100):.1f} |"
                )
            print(f"audit entries for doctor reads: {audited} (successful reads: {reads})")
            if audited != reads:
                raise SystemExit("audit entries do not match the successful reads")


if __name__ == "__main__":
    main()
