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
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CITIES = ["İstanbul", "Ankara", "İzmir", "Bursa", "Antalya"]


@dataclass
class Result:
    path: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


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


def recreate_database(server: str, name: str) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(server: str, name: str) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(count: int) -> None:
    """Bulk-create `count` active doctors over 20 clinics and every specialty (Django set up here)."""
    import django

    django.setup()
    from django.db import transaction

    from accounts.models import Clinic, Doctor, Specialty, User

    specialties = list(Specialty.objects.all())
    with transaction.atomic():
        clinics = Clinic.objects.bulk_create(
            Clinic(name=f"Bench Klinik {i:02d}", city=CITIES[i % len(CITIES)], address=f"Cadde {i}") for i in range(20)
        )
        users = User.objects.bulk_create(
            User(
                email=f"bench.doctor{i:05d}@example.test",
                first_name=f"Ad{i:05d}",
                last_name=f"Soyad{i % 97:02d}",
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict, port: int, workers: int, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(BIN / "gunicorn"), "medplatform.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop(process: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def wait_until_up(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(base + "/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    sys.exit("gunicorn did not answer /healthz within 60 s")


def load(base: str, path: str, total: int, threads: int, max_seconds: float) -> Result:
    """`total` GETs of `path` from `threads` threads, stopping early at `max_seconds`."""
    result = Result(path)
    lock = threading.Lock()
    remaining = [total]
    deadline = time.monotonic() + max_seconds

    def worker():
        session = requests.Session()
        while time.monotonic() < deadline:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            started = time.perf_counter()
            try:
                ok = session.get(base + path, timeout=10).status_code == 200
            except requests.RequestException:
                ok = False
            elapsed = time.perf_counter() - started
            with lock:
                if ok:
                    result.latencies.append(elapsed)
                else:
                    result.errors += 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    began = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result


def merge(results: list[Result]) -> Result:
    merged = Result(results[0].path)
    for r in results:
        merged.latencies += r.latencies
        merged.errors += r.errors
        merged.seconds += r.seconds
    return merged


def main() -> None:
    args = parse_args()
    # This process (seeding through the ORM) and gunicorn share one environment: the bench
    # database, throwaway keys, and no Redis (locmem cache, in-process tasks).
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "MEDPLATFORM_ENV"):
        os.environ.pop(name, None)
    os.environ.update(
        DATABASE_URL=f"{args.server}/{args.database}",
        SECRET_KEY="bench-only-" + secrets.token_urlsafe(40),
        CRYPTOGRAPHY_KEY="bench-only-" + secrets.token_urlsafe(40),
        DJANGO_SETTINGS_MODULE="medplatform.settings",
        DEBUG="false",
        LOG_LEVEL="WARNING",
    )
    env = dict(os.environ)
    sys.path.insert(0, str(ROOT))

    print(f"database {args.database}: creating, migrating, seeding {args.doctors} doctors ...", flush=True)
    recreate_database(args.server, args.database)
    log = Path(f"/tmp/doctors_bench_gunicorn_{os.getpid()}.log")  # noqa: S108
    process = None
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=600
        )
        seed(args.doctors)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        process = start_gunicorn(env, port, args.workers, log)
        wait_until_up(base, process, log)

        listing = requests.get(base + "/api/v1/doctors/", timeout=10).json()
        assert listing["count"] == args.doctors, listing.get("count")
        paths = ["/healthz", "/api/v1/doctors/", "/api/v1/doctors/?specialty=cardiology&city=Ankara"]
        for path in paths:  # warm-up: connections, imports, query plans
            load(base, path, 50, args.threads, 30)

        load_before = os.getloadavg()[0]
        rounds: dict[str, list[Result]] = {path: [] for path in paths}
        for _ in range(args.rounds):
            for path in paths:
                rounds[path].append(load(base, path, args.requests, args.threads, args.max_seconds))
        results = {path: merge(rs) for path, rs in rounds.items()}
        load_after = os.getloadavg()[0]
    finally:
        if process is not None:
            stop(process)
        if not args.keep_database:
            drop_database(args.server, args.database)

    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.platform()}; gunicorn {args.workers} sync workers on 127.0.0.1; "
        f"{args.threads} client threads in one process; {args.doctors} doctors; "
        f"{args.rounds} rounds x {args.requests} requests per endpoint; "
        f"1-minute load average {load_before:.2f} before, {load_after:.2f} after\n"
    )
    print(f"{'endpoint':<52} {'ok':>6} {'errors':>6} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for path, r in results.items():
        print(
            f"{path:<52} {len(r.latencies):>6} {r.errors:>6} {r.rps:>8.1f} "
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
