"""Recognising a health certificate here (互认核验): this deployment's and its partners' issuers, and the answer a
scanner shows.

`verify` runs the pure `health_certificate.verify_certificate` against `trust.issuers()` (read from
the database on every call, so a partner removed is unknown at once); `answer` is the shape
`POST /api/checkin/v1/certificates/verify` returns and a certificate scan embeds.
"""
from datetime import UTC, datetime

from flask import current_app

from app.extensions import db
from app.models import County
from app.models.base import utcnow
from app.services.credentials import health_certificate, trust
from app.services.platform.timeutil import iso_local

CERTIFICATE_PREFIX = health_certificate.PREFIX


def is_certificate(qr):
    """Whether scanned text is a health certificate rather than a trip QR (a prefix test, nothing decoded)."""
    return isinstance(qr, str) and qr.lstrip()[:len(CERTIFICATE_PREFIX)].upper() == CERTIFICATE_PREFIX


def verify(qr, id_number=None, name=None, now=None):
    """Verify a certificate against every issuer recognised here, as of `now` (naive UTC, default now).

    :param id_number: the number on the ID card, matched with `name` (on the card too) against the certificate's
        hash when given.
    :returns: `health_certificate.CertificateVerification`; never raises for bad text.
    """
    now = now or utcnow()
    return health_certificate.verify_certificate(
        qr, trust.issuers(), now=int(now.replace(tzinfo=UTC).timestamp()),
        stale_after_hours=current_app.config["TRUST_STALE_HOURS"], id_number=id_number, name=name)


def answer(verification, id_checked=False):
    """The verify route's answer: verdict, reason, message, the certificate (masked) and the trust data's age."""
    return {"verdict": verification.verdict, "reason": verification.reason, "message": verification.message,
            "certificate": certificate_fields(verification, id_checked), "trust": trust_fields(verification)}


def certificate_fields(verification, id_checked=False):
    """What the certificate says, as shown to a scanner (name masked, ID last 4 only), or None before it held."""
    claims = verification.claims
    if claims is None:
        return None
    issuer = verification.issuer
    basis = claims.basis()
    basis["check_at"] = _iso(basis["check_at"])
    return {"issuer": {"id": claims.issuer, "name": issuer.name if issuer else None}, "serial": claims.serial,
            "county": {"code": claims.county, "name": _county_name(claims.county)}, "name": claims.name,
            "id_last4": claims.id_last4, "issued_at": _iso(claims.issued_at), "valid_until": _iso(claims.valid_until),
            "basis": basis, "id_checked": bool(id_checked and verification.ok)}


def trust_fields(verification):
    """How old the issuer's trust data is (None for an issuer not trusted here); this deployment's own is live."""
    issuer = verification.issuer
    if issuer is None:
        return None
    stale_after = current_app.config["TRUST_STALE_HOURS"]
    age = None if issuer.synced_at is None else round(max(0.0, utcnow().replace(tzinfo=UTC).timestamp()
                                                           - issuer.synced_at) / 3600, 2)
    return {"deployment_id": issuer.deployment_id, "name": issuer.name, "synced_at": _iso(issuer.synced_at),
            "age_hours": age, "stale": age is not None and age > stale_after, "stale_after_hours": stale_after}


def _county_name(code):
    """A county's name when this deployment's reference data knows it (a partner's counties it usually does not)."""
    county = db.session.get(County, code)
    return county.name if county else None


def _iso(unix):
    return None if unix is None else iso_local(datetime.fromtimestamp(unix, UTC).replace(tzinfo=None))
