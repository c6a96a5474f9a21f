"""What a bearer request needs of its user, kept in Redis so that a signed-in request costs no query.

The state is the user's id, role, `is_active`, `is_staff`, `is_superuser`, language and whether
the password is usable (a boolean: never the hash). Nothing personal beyond the role and the
language, no health data, no national id. medplatform.authentication builds `request.user` from it
with every other field deferred (loaded, all at once, by the first read of one of them).

It must never be older than the database: an erased, deactivated or demoted account is refused or
restricted on its very next request, as when each request read the row. So:

- a write that can change the state (accounts.models.User.save and delete) first marks the user
  as being written (`writer_begin`: its own id in a set, the state dropped) and refuses to go on
  if Redis cannot be told (fail closed: with Redis configured but down, such changes answer 500
  until it is back; requests go on from the database). After the commit, `writer_end` takes
  the mark away and drops the state again. A mark whose end was lost (or whose write rolled
  back) expires after an hour; until then that user's requests read the database.
- a request that finds no state reads the row as before and seeds the state only through a
  compare-and-set: a placeholder of its own put before the read, replaced after it only if no
  writer came in between. A writer's mark or drop, before or after the read, makes the seed
  lapse: a row read before a commit never lands after it.
- without REDIS_URL (the embedded default, whose cache is per process) or when Redis errors, every
  request reads the row, as before.

Redis must not evict (its default `noeviction`): an evicted writer's mark would leave the drop
after the commit alone to remove a state read during the write (docs/performance.md).
"""

import json
import logging
import uuid
from functools import cache

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

STATE_SECONDS = 3600
# Long enough for any transaction; a lost writer_end only sends the user to the database meanwhile.
WRITER_MARK_SECONDS = 3600
SEED_PLACEHOLDER_SECONDS = 30
# The fields a request's user has loaded; everything else is deferred.
STATE_FIELDS = ("id", "role", "is_active", "is_staff", "is_superuser", "language")
# Fields whose change makes a write a writer (the password: its usability is in the state).
STATE_SOURCES = frozenset({*STATE_FIELDS, "password"})

_READ = """
if redis.call('EXISTS', KEYS[2]) == 1 then return false end
return redis.call('GET', KEYS[1])
"""
_SEED_BEGIN = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 1 end
return 0
"""
_SEED_END = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""
_WRITER_BEGIN = """
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[1])
return 1
"""
_WRITER_END = """
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
return 1
"""


class AuthStateUnavailable(Exception):
    """Redis is configured but could not be told of a change to a user's state."""


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


def _keys(user_id) -> list[str]:
    return [f"medplatform:auth:state:{user_id}", f"medplatform:auth:writers:{user_id}"]


def _run(script: str, user_id, *args):
    client = _client(settings.REDIS_URL)
    return client.eval(script, 2, *_keys(user_id), *args)


def enabled() -> bool:
    return bool(settings.REDIS_URL)


def state_of(user) -> dict:
    """The state of a user row read from the database."""
    state = {name: getattr(user, name) for name in STATE_FIELDS}
    state["id"] = str(state["id"])
    state["password_usable"] = user.has_usable_password()
    return state


def cached_state(user_id) -> dict | None:
    """The user's state if Redis holds a settled one (no writer in flight), else None."""
    if not enabled():
        return None
    try:
        raw = _run(_READ, user_id)
    except redis.RedisError:
        logger.warning("auth state: Redis unavailable, reading the user from the database")
        return None
    if not raw or raw.startswith(b"seed:"):
        return None
    return json.loads(raw)


def seed_begin(user_id) -> str | None:
    """Put this request's placeholder before it reads the row; its token for seed_end, or None."""
    if not enabled():
        return None
    token = f"seed:{uuid.uuid4()}"
    try:
        return token if _run(_SEED_BEGIN, user_id, token, SEED_PLACEHOLDER_SECONDS) else None
    except redis.RedisError:
        return None


def seed_end(user_id, token: str, state: dict) -> None:
    """Replace the placeholder with the state read, unless a writer came in between."""
    try:
        _run(_SEED_END, user_id, token, json.dumps(state), STATE_SECONDS)
    except redis.RedisError:
        pass  # the placeholder expires; the next request reads the row again


def writer_begin(user_id) -> str | None:
    """Mark the user as being written and drop the state; raises AuthStateUnavailable if Redis
    is configured and cannot be told. Returns the mark for writer_end."""
    if not enabled():
        return None
    mark = str(uuid.uuid4())
    try:
        _run(_WRITER_BEGIN, user_id, mark, WRITER_MARK_SECONDS)
    except redis.RedisError as exc:
        raise AuthStateUnavailable("Redis is unavailable: a user's role, activity or password cannot change") from exc
    return mark


def writer_end(user_id, mark: str) -> None:
    """After the commit (or rollback): take the mark away and drop the state read meanwhile."""
    try:
        _run(_WRITER_END, user_id, mark)
    except redis.RedisError:
        logger.warning("auth state: the end of a write was not recorded; the user reads the database for an hour")
