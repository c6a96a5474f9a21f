"""Django's Redis cache, with one client object per connection pool instead of one per call.

django.core.cache.backends.redis builds a new `redis.Redis` for every cache call, and its
constructor fills a table of ~170 response callbacks each time: about a quarter of a cached
slot or search answer's time in a profile. A `redis.Redis` may be shared (its connections come
from the pool), so each pool keeps one."""

from django.core.cache.backends import redis as django_redis


class _RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _RedisCacheClient
