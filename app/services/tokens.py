"""Bearer tokens for workers and staff: random, stored only as a hash, expiring, revocable."""
import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import AuthToken
from app.models.base import utcnow


def _hash(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(subject_kind, subject_id, ttl=None):
    """Create a token for a subject; returns (token, expires_in seconds). Caller commits."""
    ttl = ttl or current_app.config["TOKEN_TTL_SECONDS"]
    token = secrets.token_urlsafe(32)
    db.session.add(
        AuthToken(
            token_hash=_hash(token),
            subject_kind=subject_kind,
            subject_id=subject_id,
            expires_at=utcnow() + timedelta(seconds=ttl),
        )
    )
    return token, ttl


def resolve_token(token, subject_kind):
    """Return the live AuthToken for a presented token of that kind, or None."""
    if not token or len(token) > 128:
        return None
    row = db.session.scalar(select(AuthToken).where(AuthToken.token_hash == _hash(token),
                                                    AuthToken.subject_kind == subject_kind))
    if row is None:
        return None
    if row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    return row


def revoke_token(row):
    """Revoke one token (logout) and commit."""
    row.revoked_at = utcnow()
    db.session.commit()


def revoke_all(subject_kind, subject_id):
    """Revoke every live token of a subject (lost phone, staff leaving) and commit."""
    rows = db.session.scalars(
        select(AuthToken).where(
            AuthToken.subject_kind == subject_kind,
            AuthToken.subject_id == subject_id,
            AuthToken.revoked_at.is_(None),
        )
    )
    now = utcnow()
    for row in rows:
        row.revoked_at = now
    db.session.commit()
