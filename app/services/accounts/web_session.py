"""The console's browser session as both faces see it: the cookie's name and the CSRF token derived from it.

The console (`console/web/session.py`) signs staff in with a staff token in this cookie; the scanner
API (`checkin/auth.py`) accepts the same cookie from the checkpoint scan station's page, so the two
faces share these few definitions here instead of importing each other. A cookie is sent by the
browser on its own, so it counts only together with the CSRF token the page read from its HTML.
"""
import hashlib
import hmac

from flask import current_app

from app.services.platform import tokens

COOKIE = "fg_console"
CSRF_HEADER = "X-CSRF-Token"


def csrf_for(token_hash):
    """The CSRF token of the session whose staff token has this stored hash (HMAC with SECRET_KEY)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"console-csrf:{token_hash}".encode(), hashlib.sha256).hexdigest()[:40]


def csrf_matches(cookie_token, sent):
    """Whether `sent` is the CSRF token of the session held in the cookie value `cookie_token`."""
    if not cookie_token or not sent or len(cookie_token) > 128:
        return False
    return hmac.compare_digest(sent, csrf_for(tokens.token_hash(cookie_token)))
