"""Scanner authentication: a captain's worker token or a staff token, either as `Bearer <token>`,
or the console's session cookie with its CSRF token in `X-CSRF-Token` (the checkpoint scan station's page).

Every scan presents the token, so what it resolves to is remembered (`tokens.remember`): a
logout takes effect at once, a staff account deactivated or changed within TOKEN_CACHE_SECONDS.
The cookie holds the same kind of staff token, so it resolves the same way; because a browser
sends cookies by itself, it counts only beside the CSRF token the page read from its own HTML.
"""
from apiflask import HTTPTokenAuth
from flask import request

from app.errors import Forbidden
from app.extensions import db
from app.models import StaffUser
from app.services.accounts import web_session
from app.services.platform import tokens
from app.services.scanning.checkin import Scanner


class ScannerAuth(HTTPTokenAuth):
    """A bearer token if one is sent, else the console session cookie with its CSRF header."""

    def authenticate(self, auth, stored_password):
        """The scanner of the bearer token, or of the console session; None when neither holds."""
        if getattr(auth, "token", None):
            return super().authenticate(auth, stored_password)
        cookie = request.cookies.get(web_session.COOKIE)
        if not cookie:
            return None
        if not web_session.csrf_matches(cookie, request.headers.get(web_session.CSRF_HEADER)):
            raise Forbidden("csrf_failed", "页面已过期或来源不明，请刷新页面后重试")
        scanner = _verify(cookie)
        if scanner is not None:
            web_session.keep_alive(cookie)  # scanning is work: the station's session stays signed in
        return scanner


auth = ScannerAuth(scheme="Bearer", security_scheme_name="ScannerToken",
                   description="车长用小程序登录的 token，卡口工作人员用控制台登录的 token"
                               "（或控制台会话 Cookie 加 X-CSRF-Token 请求头：卡口扫码页）")


@auth.verify_token
def _verify(token):
    known = tokens.recall(token)
    if known is None:
        known = _resolve(token)
    if known is None or known.get("scanner") is None:
        return None
    return Scanner(*known["scanner"])


def _resolve(token):
    """Look the token up and remember what it resolves to: a scanner, or nobody (a live token of an inactive account)."""
    row = tokens.resolve_token(token, "worker")
    if row is not None:  # worker rows are never deleted (retention erases their fields), so no lookup
        known = {"scanner": ["worker", row.subject_id]}
    else:
        row = tokens.resolve_token(token, "staff")
        if row is None:
            return None
        user = db.session.get(StaffUser, row.subject_id)
        active = user is not None and user.active
        known = {"scanner": ["staff", user.id, user.role, user.checkpoint_id] if active else None}
    tokens.remember(row, known)
    return known


def current_scanner():
    """The scanner of this request."""
    return auth.current_user
