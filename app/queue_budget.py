"""Refuse a request that waited in the queue longer than QUEUE_BUDGET_MS before a worker picked it up.

nginx stamps each request `X-Request-Start: t=<seconds since the epoch>` (its ${msec}) as it hands
it to gunicorn, after the body has been read in full, so the stamp-to-now time is the wait for a
free worker, not the client's upload. A request that waited past the budget is answered 503 with
Retry-After at once, before any work: its client may well have given up, and serving it would only
make every request behind it wait as long. So a backlog drains instead of growing.
"""
import time

from flask import current_app, request

from app.errors import error_response

HEADER = "X-Request-Start"
RETRY_AFTER_SECONDS = 1


def queued_seconds(stamp, now):
    """Seconds between an X-Request-Start stamp and `now`; None when the stamp is missing or unreadable.

    nginx sends seconds with a fraction ("t=1764676800.123"); stamps in milliseconds or microseconds
    (other proxies) are told apart by their size. A stamp from the future counts as no wait.
    """
    if not stamp:
        return None
    value = stamp.strip()
    if value.startswith("t="):
        value = value[2:]
    try:
        started = float(value)
    except ValueError:
        return None
    if started != started or started <= 0:  # NaN or nonsense
        return None
    if started > 1e14:
        started /= 1e6
    elif started > 1e11:
        started /= 1e3
    return max(0.0, now - started)


def register_queue_budget(app):
    """Check the wait before anything else runs (rate limits, body parsing), so a refusal costs next to nothing."""

    def _refuse_stale():
        budget_ms = current_app.config["QUEUE_BUDGET_MS"]
        if budget_ms <= 0:
            return None
        waited = queued_seconds(request.headers.get(HEADER), time.time())
        if waited is None or waited * 1000 <= budget_ms:
            return None
        return error_response(503, "overloaded", "服务繁忙，请稍后再试", headers={"Retry-After": str(RETRY_AFTER_SECONDS)})

    # Flask runs before-request functions in the order they were added; Flask-Limiter added its own
    # already (and may ask Redis). Put this one first.
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_stale)
