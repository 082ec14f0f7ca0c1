"""The console's sign-in session: a staff token in an HttpOnly cookie, CSRF tokens, and the headers every page carries.

The cookie holds a staff token issued by the same login as the API (`staff.login`: the same
throttling, the same accounts); the token's row is the session, so signing out, a password
change, `flask staff deactivate` or a reset end it everywhere at once. Its expiry slides: each
request moves it STAFF_TOKEN_TTL_SECONDS ahead (a scan from the station too, but not a page's own
background refresh), so a console left idle that long is signed out.

CSRF: every state-changing request carries a token derived from the session (HMAC with
SECRET_KEY), in the form field `csrf_token` or the `X-CSRF-Token` header that htmx sends; the
sign-in form, which has no session yet, uses a random cookie it must echo (double submit).
"""
import hmac
import secrets
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, url_for

from app.errors import Forbidden
from app.extensions import db
from app.models import StaffUser
from app.services.accounts import web_session
from app.services.accounts.web_session import BACKGROUND_HEADER, COOKIE, CSRF_HEADER, csrf_for
from app.services.platform import tokens
from console.web import bp

LOGIN_CSRF_COOKIE = "fg_login_csrf"
_UNSAFE = frozenset(("POST", "PUT", "PATCH", "DELETE"))
_PUBLIC = frozenset(("console_web.login", "console_web.static", "console_web.vendor"))
_PER_REQUEST = ("web_token", "web_staff", "new_login_csrf", "flashes", "flash_cookie_read")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "media-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def current_staff():
    """The staff member signed in to this request, or None."""
    return g.get("web_staff")


def csrf_token():
    """The token this session's forms and htmx requests must send back."""
    row = g.get("web_token")
    if row is None:
        return request.cookies.get(LOGIN_CSRF_COOKIE) or g.setdefault("new_login_csrf", secrets.token_urlsafe(24))
    return csrf_for(row.token_hash)


def start(response, token):
    """Put a freshly issued staff token into the session cookie of this response."""
    response.set_cookie(COOKIE, token, max_age=None, httponly=True, samesite="Lax", path="/",
                        secure=current_app.config["CONSOLE_COOKIE_SECURE"])
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


def end(response):
    """Clear the session cookie (the caller has revoked the token)."""
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Lax",
                           secure=current_app.config["CONSOLE_COOKIE_SECURE"])
    return response


def safe_next(target):
    """A redirect target after sign-in: a path inside the console, never another site."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/console") or target.startswith("//"):
        return url_for("console_web.home")
    return target


def resolve(token):
    """The live staff token row and its active account for a cookie value, or (None, None)."""
    row = tokens.resolve_token(token, "staff")
    if row is None:
        return None, None
    user = db.session.get(StaffUser, row.subject_id)
    if user is None or not user.active:
        return None, None
    return row, user


@bp.before_request
def _load_and_guard():
    """Resolve the session, refuse a state change without its CSRF token, send strangers to sign in."""
    # `g` belongs to the app context, which a test (or a CLI) may keep across requests: start clean.
    for name in _PER_REQUEST:
        g.pop(name, None)
    row, user = resolve(request.cookies.get(COOKIE))
    g.web_token, g.web_staff = row, user
    if user is None and request.endpoint not in _PUBLIC:
        # Signed out (or idle too long): to the sign-in form, also from a form posted after the session
        # ended, which then returns to the console's first page rather than repeating the post.
        back = request.full_path.rstrip("?") if request.method not in _UNSAFE else url_for("console_web.home")
        target = url_for("console_web.login", next=back)
        if request.headers.get("HX-Request"):
            response = current_app.response_class("", 204)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target)
    if request.method in _UNSAFE and not _csrf_ok():
        raise Forbidden("csrf_failed", "页面已过期或来源不明，请刷新页面后重试")
    if row is not None and not request.headers.get(BACKGROUND_HEADER):
        web_session.slide(row)
    return None


def _csrf_ok():
    sent = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token") or ""
    # As bytes: compare_digest refuses str holding anything but ASCII (a forged token with 'é' would be a 500).
    return bool(sent) and hmac.compare_digest(sent.encode(), csrf_token().encode())


@bp.after_app_request
def _headers(response):
    """Every /console response (an unmatched URL's 404 page too): CSP without inline script, no framing, no caching."""
    if not (request.path == "/console" or request.path.startswith("/console/")):
        return response
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=()"
    if request.endpoint not in ("console_web.static", "console_web.vendor"):
        response.headers["Cache-Control"] = "no-store"
    new = g.get("new_login_csrf")
    if new and g.get("web_token") is None:
        response.set_cookie(LOGIN_CSRF_COOKIE, new, httponly=True, samesite="Strict", path="/console",
                            secure=current_app.config["CONSOLE_COOKIE_SECURE"])
    return response
