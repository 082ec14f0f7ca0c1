"""Staff authentication: `Authorization: Bearer <token>` from POST /api/console/v1/session."""
from apiflask import HTTPTokenAuth
from flask import g

from app.extensions import db
from app.models import StaffUser
from app.services.platform import tokens

auth = HTTPTokenAuth(scheme="Bearer", security_scheme_name="StaffToken",
                     description="POST /api/console/v1/session 返回的 token")


@auth.verify_token
def _verify(token):
    row = tokens.resolve_token(token, "staff")
    if row is None:
        return None
    user = db.session.get(StaffUser, row.subject_id)
    if user is None or not user.active:
        return None
    g.auth_token = row
    return user


def current_staff():
    """The logged-in staff member of this request."""
    return auth.current_user
