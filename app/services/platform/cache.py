"""A small byte cache: Redis when configured, else a bounded in-process dictionary.

A cache miss is always safe. While Redis is unreachable (or skipped by its circuit breaker,
`app.redis_breaker`) the in-process dictionary stands in, except for `shared` values, which
every process must see alike (a token logged out elsewhere must stop working here): those
read as a miss and are not written, so the caller looks them up again.
"""
import threading
import time
from collections import OrderedDict

from flask import current_app
from redis import RedisError

from app.extensions import redis_client

_MAX_LOCAL_ITEMS = 4096
_lock = threading.Lock()


def _local():
    return current_app.extensions.setdefault("local_cache", OrderedDict())


def _key(key):
    return f"{current_app.config['RATELIMIT_KEY_PREFIX']}:cache:{key}"


def get_bytes(key, shared=False):
    """The cached value, or None (also when Redis is unreachable and the value is `shared`)."""
    client = redis_client()
    if client is not None:
        try:
            return client.get(_key(key))
        except RedisError:
            if shared:
                return None
    with _lock:
        store = _local()
        entry = store.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        store.move_to_end(key)
        return entry[1]


def set_bytes(key, value, ttl, shared=False):
    """Cache a value for `ttl` seconds (in process, the oldest go first past a bound).

    With Redis unreachable, a `shared` value is not cached, another is cached in process.
    """
    client = redis_client()
    if client is not None:
        try:
            client.set(_key(key), value, ex=ttl)
            return
        except RedisError:
            if shared:
                return
    with _lock:
        _put_local(key, value, ttl)


def _put_local(key, value, ttl):
    # Under _lock: newest last, so the oldest go first past the bound.
    store = _local()
    store[key] = (time.monotonic() + ttl, value)
    store.move_to_end(key)
    while len(store) > _MAX_LOCAL_ITEMS:
        store.popitem(last=False)


def delete(*keys):
    """Forget cached values; False when Redis is unreachable and they stay there until their ttl."""
    with _lock:
        store = _local()
        for key in keys:
            store.pop(key, None)
    client = redis_client()
    if client is not None and keys:
        try:
            client.delete(*(_key(key) for key in keys))
        except RedisError:
            return False
    return True


def incr(key, ttl):
    """Add one to a counter kept `ttl` seconds from its last change and return it; None when Redis is unreachable."""
    client = redis_client()
    if client is not None:
        try:
            pipe = client.pipeline()
            pipe.incr(_key(key))
            pipe.expire(_key(key), ttl)
            return int(pipe.execute()[0])
        except RedisError:
            return None
    with _lock:
        store = _local()
        entry = store.get(key)
        count = (int(entry[1]) if entry is not None and entry[0] > time.monotonic() else 0) + 1
        _put_local(key, str(count).encode(), ttl)
        return count
