"""Scanner authentication: a captain's worker token or a staff token, either as `Bearer <token>`."""
from apiflask import HTTPTokenAuth

from app.extensions import db
from app.models import StaffUser
from app.services import tokens
from app.services.checkin import Scanner

auth = HTTPTokenAuth(scheme="Bearer", security_scheme_name="ScannerToken",
                     description="车长用小程序登录的 token，卡口工作人员用控制台登录的 token")


@auth.verify_token
def _verify(token):
    row = tokens.resolve_token(token, "worker")
    if row is not None:  # worker rows are never deleted (retention erases their fields), so no lookup
        return Scanner("worker", row.subject_id)
    row = tokens.resolve_token(token, "staff")
    if row is None:
        return None
    user = db.session.get(StaffUser, row.subject_id)
    if user is None or not user.active:
        return None
    return Scanner("staff", user.id, role=user.role, checkpoint_id=user.checkpoint_id, staff=user)


def current_scanner():
    """The scanner of this request."""
    return auth.current_user
