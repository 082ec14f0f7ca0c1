"""Signing keys: rotation, the published keys, issuing trip credentials, revocations.

A deployment holds keys for three purposes (`SigningKey.purpose`): "trip" signs trip credentials
and offline bundles, "certificate" signs health certificates (健康证明), "root" signs the trust
list other deployments pin by fingerprint. Each purpose rotates on its own: the newest key not
retired signs. The private key is kept in the database only encrypted under DATA_KEY (which
comes from the environment or instance/, never the repository); the public key is published.
"""
import base64
import time
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from app import crypto
from app.errors import Unavailable
from app.extensions import db
from app.models import Revocation, SigningKey
from app.models.transport import KEY_PURPOSES
from app.models.base import utcnow
from app.services.credentials import credentials
from app.services.platform.timeutil import LOCAL_ZONE

_CONTEXT = "signing_key.private"
MAX_REVOCATIONS_PAGE = 1000


def rotate_key(purpose="trip"):
    """Create a new key for a purpose, which signs from now on; older keys keep verifying. Commits."""
    if purpose not in KEY_PURPOSES:
        raise ValueError(f"purpose must be one of {', '.join(KEY_PURPOSES)}")
    private_key = credentials.generate_private_key()
    public = credentials.public_key_bytes(private_key)
    raw = credentials.private_key_to_bytes(private_key)
    # MySQL DATETIME keeps whole seconds: a key made within the same second as the last must
    # still sort after it, since "newest not retired" is the one that signs.
    newest = db.session.scalar(select(func.max(SigningKey.created_at)).where(SigningKey.purpose == purpose))
    created = utcnow() if newest is None else max(utcnow(), newest + timedelta(seconds=1))
    key = SigningKey(
        kid=credentials.key_id(public),
        purpose=purpose,
        public_key=public,
        private_key_cipher=crypto.cipher().encrypt(base64.b64encode(raw).decode("ascii"), _CONTEXT),
        created_at=created,
        valid_from=created,
    )
    db.session.add(key)
    db.session.commit()
    return key


def ensure_key(purpose="trip"):
    """Make a key for the purpose if none is active; returns the active key."""
    return _active_key(purpose) or rotate_key(purpose)


def retire_key(kid):
    """Retire a key: credentials it signed stop verifying. Commits; returns the key or None."""
    key = db.session.get(SigningKey, kid)
    if key is not None and key.retired_at is None:
        key.retired_at = utcnow()
        db.session.commit()
    return key


def active_key(purpose="trip"):
    """The newest key of the purpose not retired, which signs; raises Unavailable when there is none."""
    key = _active_key(purpose)
    if key is None:
        raise Unavailable("signing_key_missing", "尚未配置签名密钥，请联系管理员")
    return key


def signer_or_none(purpose="trip"):
    """The key that signs for the purpose, or None when every such key is retired."""
    return _active_key(purpose)


def private_key_of(key):
    """Decrypt a SigningKey's private half."""
    raw = base64.b64decode(crypto.cipher().decrypt(key.private_key_cipher, _CONTEXT))
    return credentials.private_key_from_bytes(raw)


def _active_key(purpose):
    return db.session.scalar(
        select(SigningKey).where(SigningKey.purpose == purpose, SigningKey.retired_at.is_(None))
        .order_by(SigningKey.created_at.desc()).limit(1)
    )


def trust_list(purpose="trip"):
    """Every key of a purpose, newest first (None: every key): for trips, what GET /keys publishes."""
    query = select(SigningKey).order_by(SigningKey.created_at.desc())
    if purpose is not None:
        query = query.where(SigningKey.purpose == purpose)
    return db.session.scalars(query).all()


def trusted_keys():
    """The trust list in the form `credentials.verify_credential` takes."""
    return {
        key.kid: credentials.TrustedKey(
            kid=key.kid,
            public_key=key.public_key,
            valid_from=_unix(key.valid_from),
            valid_until=_unix(key.retired_at) if key.retired_at else None,
        )
        for key in trust_list()
    }


def cached_trusted_keys(refresh=False):
    """`trusted_keys()`, kept per process for TRUST_LIST_CACHE_SECONDS: scans need it every time."""
    ttl = current_app.config["TRUST_LIST_CACHE_SECONDS"]
    cached = current_app.extensions.get("trust_list_cache")
    now = time.monotonic()
    if refresh or cached is None or now - cached[0] >= ttl:
        cached = (now, trusted_keys())
        current_app.extensions["trust_list_cache"] = cached
    return cached[1]


def validity_window(departure_date):
    """(valid_from, valid_until) unix seconds around a departure date in Beijing time."""
    config = current_app.config
    start = datetime.combine(departure_date, datetime.min.time(), LOCAL_ZONE)
    valid_from = start - timedelta(hours=config["CREDENTIAL_VALID_BEFORE_HOURS"])
    valid_until = start + timedelta(days=1, hours=config["CREDENTIAL_VALID_AFTER_HOURS"])
    return int(valid_from.timestamp()), int(valid_until.timestamp())


def issue_for_seat(seat, trip):
    """The QR text of a seat's credential, signed with the active key.

    Raises Unavailable when no signing key exists (run `flask keys rotate`).
    """
    valid_from, valid_until = validity_window(trip.departure_date)
    text = credentials.issue_credential(
        private_key_of(active_key()),
        serial=seat.serial, trip_id=trip.id, worker_id=seat.worker_id,
        valid_from=valid_from, valid_until=valid_until,
    )
    return text, valid_from, valid_until


def revoke_serial(serial, reason, kind="trip"):
    """Add a serial of a kind ("trip" or "certificate") to the revocation list (idempotent); the caller commits."""
    if db.session.scalar(select(Revocation.id).where(Revocation.kind == kind, Revocation.serial == serial)) is None:
        db.session.add(Revocation(kind=kind, serial=serial, reason=reason))


def revocations_since(cursor, limit=MAX_REVOCATIONS_PAGE, kind=None):
    """Revocations after a cursor, oldest first, of one kind or (None) all; returns (rows, next_cursor, more).

    Ids are handed out at INSERT and become visible at COMMIT, so two transactions can show their rows
    out of id order (two staff closing trips at once; on Galera, writes through two nodes). A cursor
    moved past a row whose lower id was still uncommitted would skip that id for good, and a phone
    would accept a revoked QR offline. So the cursor moves only past rows older than
    REVOCATION_SETTLE_SECONDS (longer than any request's transaction); younger rows are sent now and
    again on the next call (a scanner keeps a set: a repeat changes nothing), until they settle. A page
    full of young rows still moves the cursor to its end, or a scanner would fetch it forever.
    """
    query = select(Revocation).where(Revocation.id > cursor).order_by(Revocation.id).limit(limit + 1)
    if kind is not None:
        query = query.where(Revocation.kind == kind)
    rows = db.session.scalars(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    settled_before = utcnow() - timedelta(seconds=current_app.config["REVOCATION_SETTLE_SECONDS"])
    next_cursor = cursor
    for row in rows:
        if row.revoked_at > settled_before:
            break
        next_cursor = row.id
    if more and next_cursor == cursor:
        next_cursor = rows[-1].id
    return rows, next_cursor, more


def revoked_serials(kind="trip"):
    """Every revoked serial of a kind, for verifying on the server."""
    return set(db.session.scalars(select(Revocation.serial).where(Revocation.kind == kind)))


def _unix(moment):
    return int(moment.replace(tzinfo=UTC).timestamp())
