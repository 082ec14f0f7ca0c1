"""Health certificates (健康证明) this deployment issues: signing, storing, revoking, finding a worker's current one."""
import os
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app import crypto
from app.extensions import db
from app.models import HealthCertificate
from app.models.base import utcnow
from app.services.credentials import health_certificate, signing
from app.services.people.identity import mask_name


def sign_and_store(worker, county_code, basis, by_kind, by_id=None, now=None):
    """Sign a certificate for a worker and add it to the session (the caller commits); returns the row.

    :param basis: {"status", "observation", "observation_until" (ISO date or None),
        "check_temperature" (Decimal or None), "check_at" (naive UTC datetime or None)}.
    :param by_kind: "staff" (a health officer issued it) or "rule" (the automatic rule did).
    :raises Unavailable: when there is no certificate key (`flask keys ensure`).
    """
    now = (now or utcnow()).replace(microsecond=0)
    key = signing.active_key("certificate")
    id_number = crypto.cipher().decrypt(worker.id_number_cipher, "worker.id_number")
    salt = os.urandom(health_certificate.SALT_BYTES)
    row = HealthCertificate(worker_id=worker.id, county_code=county_code, kid=key.kid, issued_at=now,
                            valid_until=now + timedelta(days=current_app.config["CERTIFICATE_VALID_DAYS"]),
                            issued_by_kind=by_kind, issued_by_id=by_id, basis=_stored_basis(basis), text="")
    db.session.add(row)
    db.session.flush()  # the id is the serial the signature covers
    claims = health_certificate.CertificateClaims(
        issuer=current_app.config["DEPLOYMENT_ID"], serial=row.id, county=county_code,
        issued_at=_unix(row.issued_at), valid_until=_unix(row.valid_until), name=mask_name(worker.name),
        id_last4=worker.id_last4, id_salt=salt, id_hash=health_certificate.id_hash(id_number, salt),
        status=basis["status"], observation=basis["observation"],
        check_temperature=None if basis.get("check_temperature") is None
        else int(round(basis["check_temperature"] * 10)),
        check_at=None if basis.get("check_at") is None else _unix(basis["check_at"]),
        observation_until=basis.get("observation_until"),
    )
    row.text = health_certificate.issue_certificate(signing.private_key_of(key), claims)
    return row


def current_for(worker_id, now=None):
    """The worker's newest certificate still valid and not revoked, or None."""
    now = now or utcnow()
    return db.session.scalar(
        select(HealthCertificate)
        .where(HealthCertificate.worker_id == worker_id, HealthCertificate.revoked_at.is_(None),
               HealthCertificate.valid_until >= now)
        .order_by(HealthCertificate.issued_at.desc(), HealthCertificate.id.desc()).limit(1)
    )


def revoke(certificate, reason):
    """Revoke a certificate: it joins the revocation list (kind "certificate"). Idempotent; the caller commits."""
    if certificate.revoked_at is None:
        certificate.revoked_at = utcnow()
        certificate.revoke_reason = reason
        signing.revoke_serial(certificate.id, reason, kind="certificate")


def revoke_all_for(worker_id, reason):
    """Revoke every certificate of a worker still in force (a new positive finding, an isolation order); returns them."""
    rows = db.session.scalars(
        select(HealthCertificate).where(HealthCertificate.worker_id == worker_id,
                                        HealthCertificate.revoked_at.is_(None),
                                        HealthCertificate.valid_until >= utcnow())
    ).all()
    for row in rows:
        revoke(row, reason)
    return rows


def _stored_basis(basis):
    return {"status": basis["status"], "observation": basis["observation"],
            "observation_until": basis.get("observation_until"),
            "check_temperature": None if basis.get("check_temperature") is None else str(basis["check_temperature"]),
            "check_at": None if basis.get("check_at") is None else basis["check_at"].replace(tzinfo=UTC).isoformat()}


def _unix(moment):
    return int(moment.replace(tzinfo=UTC).timestamp() if isinstance(moment, datetime) else moment)
