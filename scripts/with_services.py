#!/usr/bin/env python3
"""Run a command against a private PostgreSQL and a private Redis, then remove both.

    python3 scripts/with_services.py [--without-redis] [--] COMMAND [ARG...]

Starts PostgreSQL (initdb into a new temporary directory) and redis-server, each on a free
loopback port found at run time, exports DATABASE_URL and REDIS_URL to COMMAND, and stops both
and deletes the directory when COMMAND ends, fails or is interrupted (Ctrl-C, SIGTERM). Nothing
on the machine's standard PostgreSQL or Redis is touched.

A DATABASE_URL or REDIS_URL already in the environment takes precedence: that service is used as
given and not started (for machines that provide their own). Missing server binaries are installed
with apt-get when running as root on Debian (without starting Debian's own services); otherwise
the script says in one line what to install.

Standard library only: it runs before and without the virtual environment.
"""

import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PREFIX = "medplatform-services-"
START_DEADLINE = 180.0  # seconds: generous, for a loaded machine


def say(message: str) -> None:
    print(f"with_services: {message}", file=sys.stderr, flush=True)


class Terminated(Exception):
    """SIGTERM or SIGHUP reached this script."""


def _terminated(signum, frame):
    raise Terminated(signum)


# --- finding or installing the binaries --------------------------------------------------------


def _apt_install(packages: list[str], why: str) -> None:
    hint = f"install {why} (Debian: apt-get install {' '.join(packages)}) or set the URL of your own"
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit(f"with_services: {hint}")
    say(f"installing {' '.join(packages)} with apt-get (Debian's own services are not started)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # policy-rc.d exit 101 keeps the packages' scripts from starting the system-wide services.
    policy = Path("/usr/sbin/policy-rc.d")
    made_policy = False
    if not policy.exists():
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        made_policy = True
    try:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
        result = subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], env=env, check=False
        )
    finally:
        if made_policy:
            policy.unlink()
    if result.returncode != 0:
        sys.exit(f"with_services: apt-get could not install {' '.join(packages)}; {hint}")


def _version_key(path: str) -> tuple:
    return tuple(int(part) if part.isdigit() else 0 for part in re.split(r"[/.]", path))


def postgres_bindir() -> Path:
    def find() -> Path | None:
        on_path = shutil.which("initdb")
        if on_path:
            return Path(os.path.realpath(on_path)).parent
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
        return Path(found[-1]).parent if found else None

    bindir = find()
    if bindir is None:
        _apt_install(["postgresql"], "the PostgreSQL server")
        bindir = find()
    if bindir is None:
        sys.exit("with_services: PostgreSQL's initdb was not found after installing it")
    return bindir


def redis_server() -> str:
    found = shutil.which("redis-server")
    if found is None:
        _apt_install(["redis-server"], "the Redis server")
        found = shutil.which("redis-server")
    if found is None:
        sys.exit("with_services: redis-server was not found after installing it")
    return found


# --- processes ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _stop_group(pid: int, first: signal.Signals, wait: float) -> None:
    """Send `first` to the process group led by `pid`; SIGKILL what is left after `wait` s."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, first)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        if not _alive(pid):
            break
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Services:
    """The private services of one run, in one temporary directory (which records their pids)."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix=PREFIX))
        self.root.chmod(0o755)
        (self.root / "owner").write_text(str(os.getpid()))
        self.postgres: subprocess.Popen | None = None
        self.redis: subprocess.Popen | None = None

    def _record(self, name: str, pid: int, marker: str) -> None:
        (self.root / f"{name}.pid").write_text(f"{pid}\n{marker}\n")

    # PostgreSQL ---------------------------------------------------------------------------------

    def start_postgres(self) -> str:
        bindir = postgres_bindir()
        data = self.root / "pg"
        run_as: dict = {}
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                account = pwd.getpwnam("nobody")
            run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
            data.mkdir(mode=0o700)
            os.chown(data, account.pw_uid, account.pw_gid)
        started = time.monotonic()
        result = subprocess.run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd=self.root,
            **run_as,
        )
        if result.returncode != 0:
            sys.exit(f"with_services: initdb failed:\n{result.stdout}{result.stderr}")
        log = self.root / "postgres.log"
        for _attempt in range(5):
            port = free_port()
            with log.open("ab") as out:
                process = subprocess.Popen(
                    [
                        str(bindir / "postgres"),
                        "-D",
                        str(data),
                        "-p",
                        str(port),
                        "-k",
                        str(data),  # the socket lives in the private directory too
                        "-c",
                        "listen_addresses=127.0.0.1",
                        "-c",
                        "fsync=off",
                        "-c",
                        "synchronous_commit=off",
                        "-c",
                        "full_page_writes=off",
                        "-c",
                        "max_connections=200",
                        # Replication connections are allowed (initdb's pg_hba.conf trusts them on
                        # loopback): tests/ops/test_replica.py makes a streaming replica with
                        # pg_basebackup -R. Both are PostgreSQL's defaults, named here on purpose.
                        "-c",
                        "wal_level=replica",
                        "-c",
                        "max_wal_senders=10",
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=self.root,
                    start_new_session=True,
                    **run_as,
                )
            self.postgres = process
            self._record("postgres", process.pid, str(data))
            if self._wait_ready(process, log, lambda port=port: _postgres_ready(port)):
                say(f"PostgreSQL on 127.0.0.1:{port} ({time.monotonic() - started:.1f} s; {self.root})")
                return f"postgres://postgres@127.0.0.1:{port}/postgres"
            if "could not bind" not in _tail(log, 50) and "in use" not in _tail(log, 50):
                break
            say(f"port {port} was taken meanwhile; trying another")
        sys.exit(f"with_services: PostgreSQL did not start:\n{_tail(log)}")

    # Redis --------------------------------------------------------------------------------------

    def start_redis(self) -> str:
        binary = redis_server()
        log = self.root / "redis.log"
        started = time.monotonic()
        for _attempt in range(5):
            port = free_port()
            with log.open("ab") as out:
                process = subprocess.Popen(
                    [
                        binary,
                        "--port",
                        str(port),
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        str(self.root),
                        "--databases",
                        "16",
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=self.root,
                    start_new_session=True,
                )
            self.redis = process
            self._record("redis", process.pid, f"127.0.0.1:{port}")
            if self._wait_ready(process, log, lambda port=port: _redis_ready(port)):
                say(f"Redis on 127.0.0.1:{port} ({time.monotonic() - started:.1f} s)")
                return f"redis://127.0.0.1:{port}/0"
            if "in use" not in _tail(log, 50):
                break
            say(f"port {port} was taken meanwhile; trying another")
        sys.exit(f"with_services: redis-server did not start:\n{_tail(log)}")

    @staticmethod
    def _wait_ready(process: subprocess.Popen, log: Path, ready) -> bool:
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            if ready():
                return True
            time.sleep(0.1)
        sys.exit(f"with_services: a service did not answer within {START_DEADLINE:.0f} s:\n{_tail(log)}")

    # teardown -----------------------------------------------------------------------------------

    def stop(self) -> None:
        if self.redis is not None and self.redis.poll() is None:
            _stop_group(self.redis.pid, signal.SIGTERM, 15)
        if self.postgres is not None and self.postgres.poll() is None:
            _stop_group(self.postgres.pid, signal.SIGINT, 30)  # SIGINT: PostgreSQL's fast shutdown
        shutil.rmtree(self.root, ignore_errors=True)


def _postgres_ready(port: int) -> bool:
    """A startup packet for user postgres answered with AuthenticationOk ('R', code 0)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            body = b"user\0postgres\0database\0postgres\0\0"
            packet = (8 + len(body)).to_bytes(4, "big") + (196608).to_bytes(4, "big") + body
            sock.sendall(packet)
            answer = sock.recv(9)
            sock.sendall(b"X\0\0\0\4")  # Terminate
            return answer[:1] == b"R" and answer[5:9] == b"\0\0\0\0"
    except OSError:
        return False


def _redis_ready(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def remove_stale() -> None:
    """Stop and delete what an earlier run left behind when it was killed outright (SIGKILL)."""
    for root in Path(tempfile.gettempdir()).glob(PREFIX + "*"):
        try:
            owner = int((root / "owner").read_text())
        except (OSError, ValueError):
            continue
        if _alive(owner):
            continue
        for name in ("redis", "postgres"):
            with contextlib.suppress(OSError, ValueError):
                pid_text, marker = (root / f"{name}.pid").read_text().splitlines()[:2]
                pid = int(pid_text)
                if _alive(pid) and marker in _cmdline(pid):
                    say(f"stopping {name} left by an interrupted run ({root})")
                    _stop_group(pid, signal.SIGINT if name == "postgres" else signal.SIGTERM, 30)
        shutil.rmtree(root, ignore_errors=True)


# --- main -----------------------------------------------------------------------------------------


def run(command: list[str], *, with_redis: bool = True) -> int:
    signal.signal(signal.SIGTERM, _terminated)
    signal.signal(signal.SIGHUP, _terminated)
    env = dict(os.environ)
    services: Services | None = None
    child: subprocess.Popen | None = None
    try:
        remove_stale()
        if not env.get("DATABASE_URL") or (with_redis and not env.get("REDIS_URL")):
            services = Services()
        if env.get("DATABASE_URL"):
            say("DATABASE_URL is set: using that PostgreSQL, starting none")
        else:
            env["DATABASE_URL"] = services.start_postgres()
        if not with_redis:
            pass
        elif env.get("REDIS_URL"):
            say("REDIS_URL is set: using that Redis, starting none")
        else:
            env["REDIS_URL"] = services.start_redis()
            env.pop("CELERY_BROKER_URL", None)  # the broker is the private Redis too
            env["PATH"] = f"{Path(redis_server()).parent}{os.pathsep}{env.get('PATH', '')}"
        child = subprocess.Popen(command, env=env)
        try:
            return child.wait()
        except KeyboardInterrupt:
            # The terminal sent SIGINT to the child as well: give it time to finish its own teardown.
            try:
                return child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.terminate()
                return 130
    except Terminated:
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()
        return 143
    except KeyboardInterrupt:
        return 130
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        if services is not None:
            # Ignore further signals so a second Ctrl-C cannot leave the services behind.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            services.stop()


def main(argv: list[str]) -> int:
    with_redis = True
    if argv and argv[0] == "--without-redis":
        with_redis, argv = False, argv[1:]
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    return run(argv, with_redis=with_redis)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
