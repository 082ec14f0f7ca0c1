"""Slowing password guessing per (username, client IP) with a growing delay, instead of locking accounts.

Each failed staff login from one client IP for one username (whether or not that account
exists) counts; from the STAFF_MAX_FAILED_LOGINS-th on, that pair must wait before its next
try: 1 s, then 2 s, 4 s… doubling with each further failure, at most STAFF_LOCK_MINUTES. A try
during the wait is refused unchecked, and the same way for every username, so the answer
tells nothing about which accounts exist. The account itself is never locked: the clerk, from
any other IP, logs in as usual. A success clears the pair; failures are forgotten a day after
the last. Kept in Redis (shared by every host), else in process; with Redis unreachable the
delay is skipped (fails open: the per-IP STAFF_LOGIN_RATE_LIMIT still holds).
"""
import hashlib
import math
import time

from flask import current_app

from app.errors import DomainError
from app.services.platform import cache

FORGET_AFTER_SECONDS = 24 * 3600
FIRST_DELAY_SECONDS = 1


def pair_key(username, client_ip):
    """The cache key suffix of a (username, IP) pair: a digest, so neither is stored in plain text."""
    digest = hashlib.sha256(f"{username}\0{client_ip}".encode("utf-8", "replace")).hexdigest()[:32]
    return digest


def refuse_while_waiting(pair):
    """Raise a 429 login_throttled (with Retry-After) while the pair must still wait."""
    stored = cache.get_bytes(f"login-wait:{pair}")
    left = math.ceil(float(stored) - time.time()) if stored else 0
    if left > 0:
        raise DomainError("login_throttled", f"登录失败次数过多，请{left}秒后再试", status=429,
                          details={"retry_after": left}, headers={"Retry-After": str(left)})


def delay_after(failures):
    """Seconds a pair waits after this many failures in a row: 0 below the threshold, then doubling to the cap."""
    config = current_app.config
    over = failures - config["STAFF_MAX_FAILED_LOGINS"]
    if over < 0:
        return 0
    cap = config["STAFF_LOCK_MINUTES"] * 60
    return cap if over >= 32 else min(cap, FIRST_DELAY_SECONDS * 2 ** over)


def record_failure(pair):
    """Count a failed login of the pair and start its wait; returns the wait in seconds."""
    failures = cache.incr(f"login-failures:{pair}", FORGET_AFTER_SECONDS)
    wait = delay_after(failures or 0)
    if wait:
        cache.set_bytes(f"login-wait:{pair}", str(time.time() + wait).encode(), wait)
    return wait


def record_success(pair):
    """Clear the pair's failures after a correct password."""
    cache.delete(f"login-failures:{pair}", f"login-wait:{pair}")
