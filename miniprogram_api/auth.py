"""Worker authentication: `Authorization: Bearer <token>` from POST /session."""
from apiflask import HTTPTokenAuth
from flask import g

from app.extensions import db
from app.models import Worker
from app.services.platform import tokens

auth = HTTPTokenAuth(scheme="Bearer", security_scheme_name="WorkerToken",
                     description="POST /api/mp/v1/session 返回的 token")


@auth.verify_token
def _verify(token):
    row = tokens.resolve_token(token, "worker")
    if row is None:
        return None
    g.auth_token = row
    return db.session.get(Worker, row.subject_id)


def current_worker():
    """The logged-in worker of this request."""
    return auth.current_user
