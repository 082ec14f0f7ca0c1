"""Scanner authentication: a captain's worker token or a staff token, either as `Bearer <token>`.

Every scan presents the token, so what it resolves to is remembered (`tokens.remember`): a
logout takes effect at once, a staff account deactivated or changed within TOKEN_CACHE_SECONDS.
"""
from apiflask import HTTPTokenAuth

from app.extensions import db
from app.models import StaffUser
from app.services.platform import tokens
from app.services.scanning.checkin import Scanner

auth = HTTPTokenAuth(scheme="Bearer", security_scheme_name="ScannerToken",
                     description="车长用小程序登录的 token，卡口工作人员用控制台登录的 token")


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
