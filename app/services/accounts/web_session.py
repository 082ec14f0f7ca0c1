"""The console's browser session as both faces see it: the cookie's name and the CSRF token derived from it.

The console (`console/web/session.py`) signs staff in with a staff token in this cookie; the scanner
API (`checkin/auth.py`) accepts the same cookie from the checkpoint scan station's page, so the two
faces share these few definitions here instead of importing each other. A cookie is sent by the
browser on its own, so it counts only together with the CSRF token the page read from its HTML.
"""
import hashlib
import hmac
from datetime import timedelta

from flask import current_app

from app.extensions import db
from app.models.base import utcnow
from app.services.platform import cache, tokens

COOKIE = "fg_console"
CSRF_HEADER = "X-CSRF-Token"
# A page's own refreshes (a reconciliation or an expected list polling by itself) send this header:
# they are not the person at work, so they do not keep an idle console signed in.
BACKGROUND_HEADER = "X-Console-Background"
# Moving the expiry on every request would write a row per click or scan; once a minute is enough.
SLIDE_EVERY = timedelta(seconds=60)


def csrf_for(token_hash):
    """The CSRF token of the session whose staff token has this stored hash (HMAC with SECRET_KEY)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"console-csrf:{token_hash}".encode(), hashlib.sha256).hexdigest()[:40]


def csrf_matches(cookie_token, sent):
    """Whether `sent` is the CSRF token of the session held in the cookie value `cookie_token`."""
    if not cookie_token or not sent or len(cookie_token) > 128:
        return False
    # As bytes: compare_digest refuses str holding anything but ASCII (a forged token with 'é' would be a 500).
    return hmac.compare_digest(sent.encode(), csrf_for(tokens.token_hash(cookie_token)).encode())


def slide(row):
    """Keep a session in use alive: its expiry becomes now + STAFF_TOKEN_TTL_SECONDS (written at most once a minute).

    So the console signs out after STAFF_TOKEN_TTL_SECONDS without a click or a scan.
    """
    ttl = timedelta(seconds=current_app.config["STAFF_TOKEN_TTL_SECONDS"])
    now = utcnow()
    if row.expires_at - now < ttl - SLIDE_EVERY:
        row.expires_at = now + ttl
        db.session.commit()


def keep_alive(cookie_token):
    """A scan made through the session cookie is work too: slide that session, looking its row up once a minute at most."""
    token_hash = tokens.token_hash(cookie_token)
    key = f"console-alive:{token_hash}"
    if cache.get_bytes(key, shared=True) is not None:
        return
    row = tokens.resolve_token(cookie_token, "staff")
    if row is not None:
        slide(row)
    cache.set_bytes(key, b"1", int(SLIDE_EVERY.total_seconds()), shared=True)
