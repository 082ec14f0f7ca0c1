"""Bearer tokens for workers and staff: random, stored only as a hash, expiring, revocable.

Scanners present a token with every scan, so what a token resolves to can be remembered
(`remember` / `recall`) for TOKEN_CACHE_SECONDS: in Redis when configured, shared by every
process and host, else in this process. While a configured Redis is down, nothing is remembered
(each scan looks its token up in the database), so a logout still takes effect everywhere. Logout and `revoke_all` forget it at once; other
changes (a staff account deactivated, its role or checkpoint changed) take effect within
TOKEN_CACHE_SECONDS.
"""
import hashlib
import json
import logging
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import AuthToken
from app.models.base import utcnow
from app.services.platform import cache


def token_hash(token):
    """The hash a presented token is stored under (AuthToken.token_hash)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(subject_kind, subject_id, ttl=None):
    """Create a token for a subject; returns (token, expires_in seconds). Caller commits."""
    ttl = ttl or current_app.config["TOKEN_TTL_SECONDS"]
    token = secrets.token_urlsafe(32)
    db.session.add(
        AuthToken(
            token_hash=token_hash(token),
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
    row = db.session.scalar(select(AuthToken).where(AuthToken.token_hash == token_hash(token),
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
    _forget([row.token_hash])


def revoke_all(subject_kind, subject_id, keep=None):
    """Revoke every live token of a subject (lost phone, staff leaving), but the row `keep`, and commit."""
    query = select(AuthToken).where(
        AuthToken.subject_kind == subject_kind,
        AuthToken.subject_id == subject_id,
        AuthToken.revoked_at.is_(None),
    )
    if keep is not None:
        query = query.where(AuthToken.id != keep.id)
    rows = db.session.scalars(query)
    now = utcnow()
    hashes = []
    for row in rows:
        row.revoked_at = now
        hashes.append(row.token_hash)
    db.session.commit()
    _forget(hashes)


_log = logging.getLogger(__name__)


def recall(token):
    """What `remember` stored for a presented token, or None."""
    if not token or len(token) > 128:
        return None
    raw = cache.get_bytes(_cache_key(token_hash(token)), shared=True)
    return None if raw is None else json.loads(raw)


def remember(row, value):
    """Keep what a live token row resolves to (a JSON-able value, which should say the token's kind)
    for TOKEN_CACHE_SECONDS at most, and never past the token's expiry."""
    ttl = min(current_app.config["TOKEN_CACHE_SECONDS"], int((row.expires_at - utcnow()).total_seconds()))
    if ttl > 0:
        cache.set_bytes(_cache_key(row.token_hash), json.dumps(value).encode(), ttl, shared=True)


def _forget(hashes):
    if hashes and not cache.delete(*(_cache_key(digest) for digest in hashes)):
        _log.warning("Redis unreachable: %d revoked tokens stay remembered for up to TOKEN_CACHE_SECONDS", len(hashes))


def _cache_key(token_hash):
    return f"token:{token_hash}"
