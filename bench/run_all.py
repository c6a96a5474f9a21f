"""`make bench`: every endpoint of issue 13 and a mixed day at 1, 8, 32 and 128 clients, beside /healthz.

    .venv/bin/python bench/run_all.py            # full: writes docs/performance.md's generated section
    .venv/bin/python bench/run_all.py --short    # CI: small data, 1 and 8 clients, checks only

Runs under scripts/with_services.py (a private PostgreSQL and Redis on free loopback ports, removed
afterwards) unless DATABASE_URL and REDIS_URL are set. Creates the database `medplatform_bench_all`,
migrates it, seeds deterministically in bulk (bench/booking_bench.py's seed: doctors in 20 clinics,
weekday schedules, patients holding the booking consent, past and future appointments; then
50-entry health profiles shared with a doctor, written through the services), and starts gunicorn
(sync workers, CONN_MAX_AGE=60) and one Celery worker (the notifications the bookings write) with
Redis as broker and cache. Every client talks to 127.0.0.1 only; each measurement is bounded in time.

Each concurrency level measures /healthz first, then each endpoint, each followed by /healthz again,
all for the same number of seconds; the ratio of an endpoint is its requests/s over the mean of the
two /healthz measurements around it, at the same level (on a shared machine, a neighbour's load
that comes and goes within a level then weighs on both sides of the ratio alike). Before each
/healthz after a cell, the Celery worker's backlog of that cell's messages is sent (at most 2
minutes' wait): it is the cell's work, not the next measurement's. The 1-minute load
average is read before and after each level. Fails (exit 1) on any unexpected status, any 5xx, or
any doctor or patient holding two overlapping booked appointments afterwards.
"""

import argparse
import json
import math
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import cpu
import psycopg
import requests
from booking_bench import booking_plan, seed
from harness import ROOT, database, gunicorn, migrate, stop

LEVELS_FULL = (1, 8, 32, 128)
LEVELS_SHORT = (1, 8)
BEGIN = "<!-- bench/run_all.py: generated section, begin -->"
END = "<!-- bench/run_all.py: generated section, end -->"
PLOTS = ROOT / "docs" / "performance"

# What the mixed day sends, by weight: mostly looking (search, slots), some reading, a few bookings.
MIXED = {
    "search specialty + city": 25,
    "search available_on + city": 10,
    "slots 1 day": 15,
    "slots 14 days": 25,
    "shared profile (50 entries)": 10,
    "booking": 10,
    "/healthz": 5,
}


@dataclass
class Measure:
    latencies: list[float] = field(default_factory=list)
    errors: dict = field(default_factory=dict)
    seconds: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)
    # /healthz's req/s around this cell: the mean of the measurements just before and just after it.
    baseline: float = 0.0
    # Messages the worker had still to send when the cell ended, and the seconds it took.
    backlog: tuple[int, float] = (0, 0.0)
    # Milliseconds of CPU per answered request by role (bench/cpu.py), the worker's backlog included.
    cpu: dict = field(default_factory=dict)

    def ratio(self, level_health: "Measure") -> float:
        health = self.baseline or level_health.rps
        return self.rps / health if health else float("nan")

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="small data, 1 and 8 clients, no docs written")
    parser.add_argument("--seconds", type=float, help="seconds per endpoint per level (default 8, short 2)")
    parser.add_argument("--doctors", type=int)
    parser.add_argument("--appointments", type=int)
    parser.add_argument("--patients", type=int, help="all patients, holders of the seeded visits and bookers")
    parser.add_argument("--profiles", type=int, help="50-entry health profiles shared with a doctor")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--database", default="medplatform_bench_all")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--write", action="store_true", help="write docs/performance.md even with --short")
    parser.add_argument("--only", action="append", default=[], help="measure only endpoints whose name holds this")
    parser.add_argument("--levels", help="comma-separated client counts instead of the mode's")
    args = parser.parse_args()
    full = not args.short
    args.seconds = args.seconds or (8.0 if full else 2.0)
    args.doctors = args.doctors or (1000 if full else 40)
    args.appointments = args.appointments or (200_000 if full else 4_000)
    args.patients = args.patients or (50_000 if full else 1_000)
    args.profiles = args.profiles if args.profiles is not None else (20 if full else 2)
    default_levels = LEVELS_FULL if full else LEVELS_SHORT
    args.levels = tuple(int(n) for n in args.levels.split(",")) if args.levels else default_levels
    # Bookers: fresh patients for the booking phases (at most five bookings each, with different
    # doctors on different days: booking_plan needs their number coprime to the doctors').
    args.bookers = min(4_000 if full else 400, args.patients // 2)
    while math.gcd(args.bookers, args.doctors) != 1:
        args.bookers -= 1
    args.holders = args.patients - args.bookers
    return args


def under_services() -> None:
    """Re-run this script under scripts/with_services.py unless both services are given."""
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        return
    command = [sys.executable, str(ROOT / "scripts" / "with_services.py"), "--", sys.executable, *sys.argv]
    os.execv(sys.executable, command)  # noqa: S606 - our own script, same interpreter


def environment(database_url: str) -> dict[str, str]:
    import secrets

    # PYTHONDONTWRITEBYTECODE (set in some sandboxes) would make every gunicorn worker compile
    # every module from source, including the ones first imported by a request (redis, the
    # Celery client): seconds of a booking cell's first requests. A deployment keeps bytecode.
    for name in ("MEDPLATFORM_ENV", "TEST_DATABASE_NAME", "MEDPLATFORM_REQUIRE_SERVICES", "PYTHONDONTWRITEBYTECODE"):
        os.environ.pop(name, None)
    os.environ.update(
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=os.environ["REDIS_URL"],
        SECRET_KEY="bench-only-" + secrets.token_urlsafe(40),
        CRYPTOGRAPHY_KEY="bench-only-" + secrets.token_urlsafe(40),
        DJANGO_SETTINGS_MODULE="medplatform.settings",
        DEBUG="false",
        LOG_LEVEL="WARNING",
        JWT_ACCESS_MINUTES="240",
        # Every bench patient books at most five times; the per-user throttle is not what is measured.
        THROTTLE_BOOKING="100000/min",
        CONN_MAX_AGE="60",
    )
    sys.path.insert(0, str(ROOT))
    return dict(os.environ)


def seed_profiles(count: int, doctor_ids: list[str]) -> list[tuple[str, str]]:
    """`count` patients with 50-entry profiles, each shared with one doctor; (doctor token, patient id)."""
    import datetime as dt

    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import Doctor, User
    from health_profiles import services
    from privacy.models import Purpose
    from privacy.services import consent_grant, current_version

    rows = [
        ("allergy", {"reaction": "Kurdesen ve kasinti", "severity": "moderate"}),
        ("medication", {"dose": "500 mg", "frequency": "Gunde iki kez"}),
        ("condition", {"diagnosed_on": dt.date(2018, 5, 3)}),
        ("treatment", {"started_on": dt.date(2023, 1, 9), "ended_on": dt.date(2023, 4, 1)}),
    ]
    pairs = []
    for n in range(count):
        patient = User.objects.create_user(f"bench.profile{n:04d}@example.test", first_name="Profil", last_name=str(n))
        doctor = Doctor.objects.select_related("user").get(pk=doctor_ids[n % len(doctor_ids)])

        def grant(purpose, **scope):
            version = current_version(purpose)
            return consent_grant(subject=patient, purpose=purpose, text_version=version, language="tr", **scope)  # noqa: B023

        grant(Purpose.HEALTH_PROFILE_STORAGE)
        for i in range(50):
            category, extra = rows[i % 4]
            values = {"name": f"Kayit {i}", "details": "Ayrintili aciklama " * 4, **extra}
            services.entry_create(patient=patient, category=category, values=values)
        grant(Purpose.HEALTH_PROFILE_SHARE, doctor=doctor, categories=[row[0] for row in rows])
        pairs.append((str(AccessToken.for_user(doctor.user)), str(patient.id)))
    return pairs


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    command = [str(Path(sys.executable).parent / "celery"), "-A", "medplatform", "worker", "--concurrency", "1"]
    command += ["--pool", os.environ.get("BENCH_POOL", "prefork")]
    command += ["--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip


class Endpoints:
    """Request makers: each returns (method, path, json body or None, headers, expected status)."""

    def __init__(self, data: dict, profiles: list[tuple[str, str]], plan: list[tuple[str, dict]]):
        self.rng = random.Random(13)  # noqa: S311 - load generation, not security
        self.lock = threading.Lock()
        self.doctors = data["doctor_ids"]
        self.day = datetime.now(UTC).date() + timedelta(days=1)
        while self.day.weekday() >= 5:
            self.day += timedelta(days=1)
        self.search_day = data["search_day"]
        self.specialty = data["search_specialty"]
        self.profiles = profiles
        self.bookings = iter(plan)
        self.makers = {
            "/healthz": lambda: ("GET", "/healthz", None, {}, 200),
            "slots 1 day": lambda: self._slots(0),
            "slots 14 days": lambda: self._slots(13),
            "search specialty + city": lambda: self._get(f"/api/v1/doctors/?specialty={self.specialty}&city=Ankara"),
            "search, no filter (page of 20)": lambda: self._get("/api/v1/doctors/"),
            "search available_on (all candidates)": lambda: self._get(
                f"/api/v1/doctors/?available_on={self.search_day}"
            ),
            "search available_on + city": lambda: self._get(
                f"/api/v1/doctors/?available_on={self.search_day}&city=Ankara"
            ),
            "search available_on + specialty + city": lambda: self._get(
                f"/api/v1/doctors/?available_on={self.search_day}&specialty={self.specialty}&city=Ankara"
            ),
            "shared profile (50 entries)": self._profile,
            "booking": self._booking,
        }
        weighted = [(name, weight) for name, weight in MIXED.items()]
        self.mixed_names = [name for name, weight in weighted for _ in range(weight)]
        self.makers["mixed day"] = self._mixed

    def _get(self, path: str):
        return ("GET", path, None, {}, 200)

    def _slots(self, extra_days: int):
        with self.lock:
            doctor = self.rng.choice(self.doctors)
        last = self.day + timedelta(days=extra_days)
        return self._get(f"/api/v1/doctors/{doctor}/slots/?from={self.day}&to={last}")

    def _profile(self):
        with self.lock:
            token, patient = self.rng.choice(self.profiles)
        return ("GET", f"/api/v1/patients/{patient}/health-profile/", None, {"Authorization": f"Bearer {token}"}, 200)

    def _booking(self):
        with self.lock:
            planned = next(self.bookings, None)
        if planned is None:
            return None  # no free slot left in the plan: this measurement ends
        token, body = planned
        return ("POST", "/api/v1/appointments/", body, {"Authorization": f"Bearer {token}"}, 201)

    def _mixed(self):
        with self.lock:
            name = self.rng.choice(self.mixed_names)
        return self.makers[name]() or self.makers["slots 14 days"]()


def measure(base: str, make, clients: int, seconds: float) -> Measure:
    """`clients` threads send requests made by `make` for `seconds` (each waits for its answer)."""
    result = Measure()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        session = requests.Session()
        while time.monotonic() < deadline:
            request = make()
            if request is None:
                return
            method, path, body, headers, expected = request
            started = time.perf_counter()
            try:
                status = session.request(method, base + path, json=body, headers=headers, timeout=120).status_code
            except requests.RequestException as exc:
                status = type(exc).__name__
            elapsed = time.perf_counter() - started
            with lock:
                if status == expected:
                    result.latencies.append(elapsed)
                else:
                    key = f"{path.split('?')[0][:40]} {status}"
                    result.errors[key] = result.errors.get(key, 0) + 1

    before = os.getloadavg()[0]
    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    result.load = (before, os.getloadavg()[0])
    return result


def cpu_text(used: dict) -> str:
    return " ".join(f"{role} {ms:.1f}" for role, ms in used.items()) if used else "-"


def drained(database_url: str, limit: float = 120.0) -> tuple[int, float]:
    """Wait (at most `limit` seconds) until the Celery worker has sent every message written so far;
    (messages waiting at first, seconds waited)."""
    began = time.monotonic()
    with psycopg.connect(database_url, connect_timeout=10, autocommit=True) as conn:
        sql = "SELECT count(*) FROM notifications_notification WHERE status IN ('pending', 'sending')"
        waiting = left = conn.execute(sql).fetchone()[0]
        while left and time.monotonic() < began + limit:
            time.sleep(0.2)
            left = conn.execute(sql).fetchone()[0]
    return waiting, time.monotonic() - began


def double_bookings(database_url: str) -> int:
    """Booked appointments that overlap another booked one of the same doctor or the same patient."""
    sql = """
        SELECT count(*) FROM appointments_appointment a JOIN appointments_appointment b
          ON a.id < b.id AND a.status = 'booked' AND b.status = 'booked'
         AND (a.doctor_id = b.doctor_id OR a.patient_id = b.patient_id)
         AND a.start < b."end" AND b.start < a."end"
    """
    with psycopg.connect(database_url, connect_timeout=10) as conn:
        return conn.execute(sql).fetchone()[0]


def plot(results: dict, levels: tuple, stamp: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    PLOTS.mkdir(parents=True, exist_ok=True)
    names = list(results)
    files = []
    fig, ax = plt.subplots(figsize=(9, 5.5))
    ax.set_prop_cycle(color=plt.cm.tab20.colors)  # eleven lines, eleven colours
    for name in names:
        ax.plot(levels, [results[name][c].rps for c in levels], marker="o", label=name)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(levels, [str(c) for c in levels])
    ax.set_xlabel("concurrent clients")
    ax.set_ylabel("requests/s (log)")
    ax.set_title(f"Throughput against concurrency ({stamp})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(PLOTS / "throughput.png", dpi=110)
    plt.close(fig)
    files.append("performance/throughput.png")
    for name in names:
        slug = "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")
        slug = "-".join(part for part in slug.split("-") if part)
        fig, ax = plt.subplots(figsize=(6, 4))
        for p in (50, 95, 99):
            ax.plot(levels, [results[name][c].pct(p) for c in levels], marker="o", label=f"p{p}")
        ax.set_xscale("log", base=2)
        ax.set_xticks(levels, [str(c) for c in levels])
        ax.set_xlabel("concurrent clients")
        ax.set_ylabel("latency, ms")
        ax.set_title(name)
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(PLOTS / f"latency-{slug}.png", dpi=90)
        plt.close(fig)
        files.append(f"performance/latency-{slug}.png")
    return files


def report(args, results: dict, levels: tuple, seeded: dict, checks: dict, files: list[str]) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    lines = [
        BEGIN,
        "",
        f"## `make bench` (generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"commit {commit.stdout.strip() or os.environ.get('BENCH_COMMIT', 'unknown')})",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.platform()}; PostgreSQL, Redis, gunicorn ({args.workers} sync workers, CONN_MAX_AGE=60), "
        "one Celery worker and the client threads all on this machine, over 127.0.0.1.",
        f"Data: {args.doctors:,} doctors in 20 clinics, {args.patients:,} patients, "
        f"{seeded['total']:,} appointments, {args.profiles} profiles of 50 entries "
        f"(seeded in {seeded['seconds']:.0f} s). "
        f"Each cell: {args.seconds:.0f} s of requests at that concurrency; /healthz measured first at each level "
        "and again after every cell (once the worker has sent the cell's messages).",
        "",
        "Requests/s, and in brackets the ratio to /healthz at the same concurrency (the mean of its two "
        "measurements just before and just after the cell; the /healthz row is the level's first):",
        "",
        "| endpoint | " + " | ".join(f"{c} client{'s' if c > 1 else ''}" for c in levels) + " |",
        "|---|" + "---|" * len(levels),
    ]
    for name, by_level in results.items():
        cells = []
        for c in levels:
            m = by_level[c]
            cells.append(f"{m.rps:.1f} ({m.ratio(results['/healthz'][c]):.3f})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Latency p50 / p95 / p99 in ms, errors, and the 1-minute load average before → after each cell:",
        "",
        "| endpoint | clients | ok | errors | p50 | p95 | p99 | load average | /healthz around it, req/s "
        "| messages still to send at the end, s to send them | CPU ms per request by process |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, by_level in results.items():
        for c in levels:
            m = by_level[c]
            errors = sum(m.errors.values())
            lines.append(
                f"| {name} | {c} | {len(m.latencies)} | {errors} | {m.pct(50):.0f} | {m.pct(95):.0f} | "
                f"{m.pct(99):.0f} | {m.load[0]:.2f} → {m.load[1]:.2f} | {m.baseline:.0f} | "
                f"{m.backlog[0]}, {m.backlog[1]:.1f} | {cpu_text(m.cpu)} |"
            )
    lines += [
        "",
        f"Checks: {checks['errors']} unexpected answers, {checks['server_errors']} 5xx, "
        f"{checks['double']} overlapping booked appointments, {checks['booked']} bookings made.",
        "",
        *[f"![{Path(f).stem}]({f})" for f in files],
        "",
        END,
    ]
    return "\n".join(lines) + "\n"


def write_doc(section: str) -> None:
    doc = ROOT / "docs" / "performance.md"
    text = doc.read_text()
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.write_text(text)


def main() -> None:
    args = parse_args()
    under_services()
    parts = urlsplit(os.environ["DATABASE_URL"])
    server = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    print(f"bench: {'short' if args.short else 'full'} run; database {args.database} on {parts.hostname}", flush=True)
    # The server's and worker's logs: removed after a clean run, kept (and named) after a failed one.
    log_dir = Path(tempfile.mkdtemp(prefix="medplatform-bench-"))
    with database(server, args.database, keep=args.keep_database) as database_url:
        env = environment(database_url)
        migrate(env)
        import django

        django.setup()
        seed_args = argparse.Namespace(
            doctors=args.doctors, appointments=args.appointments, patients=args.holders, bookers=args.bookers
        )
        print("bench: seeding ...", flush=True)
        seeded = seed(seed_args)
        profiles = seed_profiles(args.profiles, seeded["doctor_ids"])
        print(f"bench: seeded in {seeded['seconds']:.0f} s (+ {args.profiles} profiles)", flush=True)
        from django.db import connections

        connections.close_all()
        plan = booking_plan(seeded, 5 * args.bookers)
        endpoints = Endpoints(seeded, profiles, plan)
        worker = start_worker(env, log_dir / "celery.log")
        options = ["--workers", str(args.workers), "--log-level", "warning", "--backlog", "2048"]
        measured = endpoints.makers
        if args.only:  # a partial run for development: /healthz stays, the docs are not written
            measured = {n: m for n, m in measured.items() if n == "/healthz" or any(o in n for o in args.only)}
        results: dict = {name: {} for name in measured}
        try:
            with gunicorn(env, options, log_dir / "gunicorn.log") as base:
                # warm-up: every worker, every path, a few bookings included (each worker's first
                # booking imports and connects what only a write needs: the broker's client)
                for name, make in measured.items():
                    if name != "mixed day":
                        measure(base, make, 4, 1.0 if name != "booking" else 0.5)
                health_make = endpoints.makers["/healthz"]
                for clients in args.levels:
                    drained(database_url)
                    before = None
                    for name, make in measured.items():
                        used = cpu.snapshot()
                        m = measure(base, make, clients, args.seconds)
                        results[name][clients] = m
                        if name == "/healthz":
                            before = m.rps
                            m.cpu = cpu.per_request(used, cpu.snapshot(), len(m.latencies))
                        else:
                            # The worker's backlog of this cell's messages is this cell's work: it is
                            # sent before the next measurement, which it would otherwise slow down.
                            waiting, waited = drained(database_url)
                            m.backlog = (waiting, waited)
                            m.cpu = cpu.per_request(used, cpu.snapshot(), len(m.latencies))
                            after = measure(base, health_make, clients, args.seconds).rps
                            m.baseline = (before + after) / 2
                            before = after
                        around = ""
                        if name != "/healthz":
                            around = f"; /healthz around it {m.baseline:.0f}; backlog {m.backlog[0]}"
                            around += f" sent in {m.backlog[1]:.1f} s"
                        around += f"; CPU ms/request {cpu_text(m.cpu)}"
                        print(
                            f"  {clients:>3} clients  {name:<42} {m.rps:8.1f} req/s "
                            f"({m.ratio(results['/healthz'][clients]):.3f}x{around})  "
                            f"p50 {m.pct(50):7.1f}  p99 {m.pct(99):7.1f} ms  errors {sum(m.errors.values())}  "
                            f"load {m.load[0]:.2f}->{m.load[1]:.2f}",
                            flush=True,
                        )
                        for key, count in m.errors.items():
                            print(f"      {count} x {key}", flush=True)
        finally:
            stop(worker)
        errors = sum(sum(m.errors.values()) for by_level in results.values() for m in by_level.values())
        server_errors = sum(
            count
            for by_level in results.values()
            for m in by_level.values()
            for key, count in m.errors.items()
            if key.rsplit(" ", 1)[-1].startswith("5")
        )
        # The seed bulk-creates its appointments without history: each first history row is a booking.
        with psycopg.connect(database_url, connect_timeout=10) as conn:
            sql = "SELECT count(*) FROM appointments_appointmentstatuschange WHERE from_status = ''"
            booked = conn.execute(sql).fetchone()[0]
        checks = {
            "errors": errors,
            "server_errors": server_errors,
            "double": double_bookings(database_url),
            "booked": booked,
        }
    print(f"bench: {json.dumps(checks)}", flush=True)
    if (not args.short or args.write) and not args.only:
        stamp = f"{datetime.now(UTC):%Y-%m-%d}"
        files = plot(results, args.levels, stamp)
        write_doc(report(args, results, args.levels, seeded, checks, files))
        print("bench: wrote docs/performance.md and docs/performance/*.png", flush=True)
    if errors or server_errors or checks["double"]:
        sys.exit(f"bench: failed (unexpected answers, 5xx or overlapping bookings; see above; logs in {log_dir})")
    shutil.rmtree(log_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
