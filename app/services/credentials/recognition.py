"""Recognising a health certificate here (互认核验): this deployment's and its partners' issuers, and the answer a
scanner shows.

`verify` runs the pure `health_certificate.verify_certificate` against `trust.issuers()` (read from
the database on every call, so a partner removed is unknown at once); `answer` is the shape
`POST /api/checkin/v1/certificates/verify` returns and a certificate scan embeds.
"""
from datetime import UTC

from flask import current_app

from app.extensions import db
from app.models import County
from app.models.base import utcnow
from app.services.credentials import health_certificate, trust

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
    county = verification.claims.county if verification.claims else None
    return health_certificate.answer(verification, current_app.config["TRUST_STALE_HOURS"], id_checked,
                                     {county: _county_name(county)} if county else None)


def _county_name(code):
    """A county's name when this deployment's reference data knows it (a partner's counties it usually does not)."""
    county = db.session.get(County, code)
    return county.name if county else None
