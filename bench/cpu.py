"""CPU time of the bench's processes, by role, read from /proc (Linux only; empty elsewhere).

The roles are the processes the bench started, found under the process that started the bench
(scripts/with_services.py when it runs the bench, which also started PostgreSQL and Redis):
gunicorn's master and workers ("web"), the Celery worker and its pool ("worker"), PostgreSQL's
backends ("db"), Redis ("redis") and this process, whose threads are the clients ("client").
"""

import os
from pathlib import Path

ROLES = ("web", "worker", "db", "redis", "client")
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[int, float, float] | None:
    """(parent pid, user + system seconds, the same of its children that ended and were waited
    for) of one process, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK, (int(fields[13]) + int(fields[14])) / _TICK


def _role(pid: int) -> str | None:
    if pid == os.getpid():
        return "client"
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return None
    for needle, role in ((b"gunicorn", "web"), (b"celery", "worker"), (b"postgres", "db"), (b"redis-server", "redis")):
        if needle in command:
            return role
    return None


def snapshot() -> dict[str, float]:
    """Seconds of CPU used so far by each role. A process that has ended counts through the parent
    that waited for it (a PostgreSQL backend through the postmaster, a gunicorn worker through the
    master), as the kernel adds it to that parent's children's time."""
    if not Path("/proc/self/stat").exists():
        return {}
    parents: dict[int, int] = {}
    seconds: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            found = _stat(int(entry.name))
            if found is not None:
                parents[int(entry.name)], own, ended_children = found
                seconds[int(entry.name)] = own + ended_children
    root = os.getppid() if "with_services" in _command(os.getppid()) else os.getpid()
    totals = dict.fromkeys(ROLES, 0.0)
    for pid in seconds:
        ancestor, role = pid, None
        while ancestor not in (0, 1):  # under the root?
            if ancestor == root:
                break
            ancestor = parents.get(ancestor, 0)
        else:
            continue
        # A process's role is the first one named along its line of ancestors (a pool child of the
        # Celery worker, a PostgreSQL backend of the postmaster).
        walk = pid
        while walk != root and role is None:
            role = _role(walk)
            walk = parents.get(walk, root)
        if role is not None:
            totals[role] += seconds[pid]
    # This process's own threads (the clients): its children are counted above by their roles.
    own = _stat(os.getpid())
    totals["client"] = own[1] if own else 0.0
    return totals


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def per_request(before: dict[str, float], after: dict[str, float], requests: int) -> dict[str, float]:
    """Milliseconds of CPU per request by role between two snapshots."""
    if not before or not after or not requests:
        return {}
    return {role: 1000 * (after[role] - before[role]) / requests for role in ROLES}
