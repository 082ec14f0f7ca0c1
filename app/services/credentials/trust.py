"""Trust between deployments (健康状况互认): this deployment's signed trust list, and the partners it recognises.

The list is built from the database (keys for trips and certificates, revoked certificates) and
signed with the root key; partners' lists are kept as imported (`TrustPartner.document`) and read
on every verification, so removing a partner stops recognising it online at once (an offline bundle
downloaded before keeps it until its data goes stale).
"""
import base64
import dataclasses
import time
from datetime import UTC, timedelta

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import HealthCertificate, Revocation, TrustPartner
from app.models.base import utcnow
from app.services.credentials import signing, trust_lists
from app.services.credentials.health_certificate import IssuerKey, TrustedIssuer
from app.services.platform.timeutil import iso_local

ISSUER_PURPOSES = ("trip", "certificate")


def deployment():
    """This deployment's id, name and the counties it may issue for."""
    config = current_app.config
    return {"id": config["DEPLOYMENT_ID"], "name": config["DEPLOYMENT_NAME"],
            "counties": list(config["DEPLOYMENT_COUNTIES"])}


def own_trust_list():
    """This deployment's trust list, signed with its root key: what GET /api/checkin/v1/trust-list publishes.

    Raises Unavailable when there is no root key (`flask keys ensure` makes one).
    """
    me = deployment()
    now = utcnow()
    keys = [key for purpose in ISSUER_PURPOSES for key in signing.trust_list(purpose)]
    body = {
        "deployment": {"id": me["id"], "name": me["name"]},
        "issued_at": iso_local(now),
        "valid_until": iso_local(now + timedelta(days=current_app.config["TRUST_LIST_VALID_DAYS"])),
        "keys": [{"kid": key.kid, "use": key.purpose, "algorithm": key.algorithm,
                  "public_key": base64.b64encode(key.public_key).decode(), "counties": me["counties"],
                  "valid_from": iso_local(key.valid_from), "retired_at": iso_local(key.retired_at)}
                 for key in keys],
        "revocations": {"certificate": sorted(_live_certificate_revocations(now))},
    }
    root = signing.active_key("root")
    return trust_lists.sign_trust_list(body, signing.private_key_of(root))


def published_trust_list():
    """`own_trust_list()`, kept per process for TRUST_LIST_CACHE_SECONDS: partners poll it, and each one is signed.

    Raises Unavailable when there is no root key.
    """
    ttl = current_app.config["TRUST_LIST_CACHE_SECONDS"]
    cached = current_app.extensions.get("own_trust_list_cache")
    now = time.monotonic()
    if cached is None or now - cached[0] >= ttl:
        cached = (now, own_trust_list())
        current_app.extensions["own_trust_list_cache"] = cached
    return cached[1]


def root_fingerprint():
    """The fingerprint partners pin for this deployment, or None before a root key exists."""
    root = signing.signer_or_none("root")
    return None if root is None else trust_lists.fingerprint(root.public_key)


def _live_certificate_revocations(now):
    """Revoked certificate serials still inside their validity: an expired certificate needs no revocation."""
    return db.session.scalars(
        select(Revocation.serial).join(HealthCertificate, HealthCertificate.id == Revocation.serial)
        .where(Revocation.kind == "certificate", HealthCertificate.valid_until >= now)
    ).all()


def own_issuer():
    """This deployment as a TrustedIssuer: its keys and revocations, live from the database (never stale)."""
    me = deployment()
    keys = tuple(
        IssuerKey(kid=key.kid, public_key=key.public_key, use=key.purpose, counties=frozenset(me["counties"]),
                  retired_at=_unix(key.retired_at) if key.retired_at else None)
        for purpose in ISSUER_PURPOSES for key in signing.trust_list(purpose)
    )
    return TrustedIssuer(me["id"], me["name"], keys, frozenset(signing.revoked_serials("certificate")), None)


def partners():
    """Every imported partner, by deployment id."""
    return db.session.scalars(select(TrustPartner).order_by(TrustPartner.deployment_id)).all()


def partner_issuer(partner):
    """A partner as a TrustedIssuer, from the list last imported; synced_at says how old it is.

    Its keys speak only for the counties confirmed when it was added (`TrustPartner.counties`), and never
    for this deployment's, whatever the stored list says: add and sync refuse such lists, and this holds
    even if one got through (or DEPLOYMENT_COUNTIES grew since).
    """
    issuer = trust_lists.issuer_from_list(partner.document, synced_at=_unix(partner.synced_at))
    confirmed = frozenset(partner.counties or ()) - frozenset(current_app.config["DEPLOYMENT_COUNTIES"])
    keys = tuple(dataclasses.replace(key, counties=key.counties & confirmed) for key in issuer.keys)
    return dataclasses.replace(issuer, keys=keys)


def issuers():
    """{deployment_id: TrustedIssuer} of every deployment whose certificates are recognised here, this one first."""
    found = {partner.deployment_id: partner_issuer(partner) for partner in partners()}
    own = own_issuer()
    found[own.deployment_id] = own
    return found


def _unix(moment):
    return int(moment.replace(tzinfo=UTC).timestamp())
