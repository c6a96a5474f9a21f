"""The services a real-services test may use: only those its run was given.

`make test-services` runs the suite under scripts/with_services.py, which starts a private
PostgreSQL and Redis and exports DATABASE_URL and REDIS_URL (or passes on the ones set
explicitly). Tests take every server address from there, never a standard port: extra Redis
databases are numbered after the one in REDIS_URL, on the same server, and extra PostgreSQL
databases get a random name and are dropped by the test that made them.
"""

import os
import secrets
from urllib.parse import urlsplit, urlunsplit

import dj_database_url


def redis_url(offset: int = 0) -> str:
    """REDIS_URL's server, database number (REDIS_URL's + offset) mod 16."""
    url = os.environ.get("REDIS_URL")
    assert url, "this test needs REDIS_URL: run it with `make test-services`"
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(base + offset) % 16}"))


def postgres_server() -> dict:
    """Connection parameters of DATABASE_URL's PostgreSQL server (for psycopg.connect)."""
    url = os.environ.get("DATABASE_URL", "")
    assert url.startswith("postgres"), "this test needs DATABASE_URL to point at PostgreSQL (`make test-services`)"
    server = dj_database_url.parse(url)
    return {
        "host": server["HOST"] or "127.0.0.1",
        "port": server["PORT"] or 5432,
        "user": server["USER"] or "postgres",
        "password": server["PASSWORD"] or None,
    }


def postgres_url(database: str) -> str:
    params = postgres_server()
    credentials = params["user"] + (f":{params['password']}" if params["password"] else "")
    return f"postgres://{credentials}@{params['host']}:{params['port']}/{database}"


def unique_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
