#!/usr/bin/env python3
"""Prove that a command leaves the machine's standard PostgreSQL and Redis untouched.

    .venv/bin/python scripts/standard_services_marker.py plant STATE.json
    make test
    .venv/bin/python scripts/standard_services_marker.py check STATE.json

`plant` writes markers of its own on the standard services, if they run: a database
`medplatform_marker_<random>` holding one row on PostgreSQL at 127.0.0.1:5432 (user postgres,
trust auth) and a key `medplatform:marker:<random>` in the Redis databases the suite once used
(0, 5, 11 and 14) on 127.0.0.1:6379. `check` fails when any of them is gone or changed, then
removes those markers (and nothing else). A service that does not run (a fresh machine) is
reported and skipped, not failed.
"""

import json
import secrets
import sys
from pathlib import Path

import psycopg
import redis

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
REDIS = {"host": "127.0.0.1", "port": 6379}
REDIS_DATABASES = (0, 5, 11, 14)


def say(message: str) -> None:
    print(f"marker: {message}", flush=True)


def plant(state_path: Path) -> int:
    token = secrets.token_hex(8)
    state: dict = {"token": token, "database": None, "redis_key": None}
    try:
        with psycopg.connect(**PG, autocommit=True, connect_timeout=5) as conn:
            database = f"medplatform_marker_{token}"
            conn.execute(f'CREATE DATABASE "{database}"')
        with psycopg.connect(**{**PG, "dbname": database}, autocommit=True, connect_timeout=5) as conn:
            conn.execute("CREATE TABLE marker (value text NOT NULL)")
            conn.execute("INSERT INTO marker VALUES (%s)", (token,))
        state["database"] = database
        say(f"PostgreSQL 127.0.0.1:5432: database {database} planted")
    except psycopg.OperationalError as error:
        say(f"no PostgreSQL on 127.0.0.1:5432 ({str(error).strip().splitlines()[0]}): skipped")
    try:
        key = f"medplatform:marker:{token}"
        for db in REDIS_DATABASES:
            redis.Redis(**REDIS, db=db, socket_connect_timeout=5).set(key, token)
        state["redis_key"] = key
        say(f"Redis 127.0.0.1:6379: key {key} planted in databases {REDIS_DATABASES}")
    except redis.ConnectionError as error:
        say(f"no Redis on 127.0.0.1:6379 ({error}): skipped")
    state_path.write_text(json.dumps(state))
    return 0


def check(state_path: Path) -> int:
    state = json.loads(state_path.read_text())
    token, database, key = state["token"], state["database"], state["redis_key"]
    problems = []
    if database:
        try:
            with psycopg.connect(**{**PG, "dbname": database}, connect_timeout=5) as conn:
                values = [row[0] for row in conn.execute("SELECT value FROM marker")]
            if values != [token]:
                problems.append(f"PostgreSQL: database {database} holds {values}, not [{token!r}]")
        except psycopg.Error as error:
            problems.append(f"PostgreSQL: database {database} is gone or unreadable: {error}")
        try:
            with psycopg.connect(**PG, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
        except psycopg.Error as error:
            problems.append(f"PostgreSQL: could not remove the marker database {database}: {error}")
    else:
        say("PostgreSQL 127.0.0.1:5432 was not running: nothing to check")
    if key:
        for db in REDIS_DATABASES:
            client = redis.Redis(**REDIS, db=db, socket_connect_timeout=5)
            try:
                value = client.get(key)
                if value != token.encode():
                    problems.append(f"Redis: database {db} lost the marker key {key} (now {value!r})")
                client.delete(key)
            except redis.RedisError as error:
                problems.append(f"Redis: database {db} unreadable: {error}")
    else:
        say("Redis 127.0.0.1:6379 was not running: nothing to check")
    state_path.unlink(missing_ok=True)
    for problem in problems:
        say(f"TOUCHED: {problem}")
    if problems:
        return 1
    if database or key:
        say("the standard PostgreSQL and Redis markers are intact (and now removed)")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("plant", "check"):
        print(__doc__)
        return 2
    return (plant if argv[0] == "plant" else check)(Path(argv[1]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
