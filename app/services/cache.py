"""A small byte cache: Redis when configured, else a bounded in-process dictionary."""
import threading
from collections import OrderedDict

from flask import current_app

from app.extensions import redis_client

_MAX_LOCAL_ITEMS = 2048
_lock = threading.Lock()


def _local():
    return current_app.extensions.setdefault("local_cache", OrderedDict())


def _key(key):
    return f"{current_app.config['RATELIMIT_KEY_PREFIX']}:cache:{key}"


def get_bytes(key):
    """The cached value, or None."""
    client = redis_client()
    if client is not None:
        return client.get(_key(key))
    with _lock:
        store = _local()
        value = store.get(key)
        if value is not None:
            store.move_to_end(key)
        return value


def set_bytes(key, value, ttl):
    """Cache a value for `ttl` seconds (in-process: until pushed out by newer entries)."""
    client = redis_client()
    if client is not None:
        client.set(_key(key), value, ex=ttl)
        return
    with _lock:
        store = _local()
        store[key] = value
        store.move_to_end(key)
        while len(store) > _MAX_LOCAL_ITEMS:
            store.popitem(last=False)
