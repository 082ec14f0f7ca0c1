"""The offline bundle's format and the offline decision, with no server and no database.

A captain's phone downloads a bundle before departure (manifest, trust list, revocations,
signed by the server) and decides scans with `decide_offline`, which applies the same
`scan_rules.decide` the server does. Health certificates (健康证明, this deployment's and its
partners') are decided with `decide_certificate_offline`, which applies the same
`health_certificate.verify_certificate` the server does, with the issuers the bundle carries.
"""
import base64
from datetime import UTC, datetime
from decimal import Decimal

from app.services.credentials import credentials, trust_lists
from app.services.credentials.health_certificate import IssuerKey, TrustedIssuer, verify_certificate
from app.services.people.health_rules import HealthRules
from app.services.platform.timeutil import iso_local
from app.services.scanning.scan_rules import SeatFacts, decide


# The bytes a bundle signature covers: sorted keys, no spaces, UTF-8 (as a trust list's).
canonical = trust_lists.canonical


def verify_bundle(bundle, public_keys):
    """Whether the bundle's signature holds against a pinned trust list {kid: raw public key}."""
    keys = public_keys
    signature = bundle.get("signature") or {}
    public = keys.get(signature.get("kid"))
    if public is None:
        return False
    body = {name: value for name, value in bundle.items() if name != "signature"}
    try:
        raw = base64.b64decode(signature.get("value", ""), validate=True)
    except ValueError:
        return False
    return credentials.verify_signature(public, canonical(body), raw)


def trusted_keys(bundle):
    """The bundle's trust list in the form `credentials.verify_credential` takes."""
    keys = {}
    for key in bundle["keys"]:
        retired = key.get("retired_at")
        keys[key["kid"]] = credentials.TrustedKey(
            kid=key["kid"], public_key=base64.b64decode(key["public_key"]),
            valid_until=_unix(retired) if retired else None,
        )
    return keys


def decide_offline(bundle, qr, kind, temperature, symptoms=(), at=None, boarded=(), arrived=()):
    """Decide a scan from the bundle alone.

    Args:
        boarded, arrived: serials this device has already boarded or landed since downloading.
        at: aware datetime of the scan (default now).
    Returns (Decision, manifest entry or None).
    """
    at = at or datetime.now(UTC)
    verification = credentials.verify_credential(qr, trusted_keys(bundle), set(bundle["revocations"]),
                                                 now=int(at.timestamp()))
    entry = None
    facts = None
    if verification.payload is not None:
        entry = next((seat for seat in bundle["manifest"] if seat["serial"] == verification.payload.serial), None)
    if entry is None and verification.payload is not None and verification.payload.trip_id != bundle["trip"]["id"]:
        # Another bus's passenger: the server says wrong_trip, and so must the phone.
        payload = verification.payload
        facts = SeatFacts(serial=payload.serial, trip_id=payload.trip_id, worker_id=payload.worker_id, live=True,
                          trip_closed=False, boarded=False, arrived=False, health_status="unknown")
    if entry is not None:
        facts = SeatFacts(
            serial=entry["serial"], trip_id=bundle["trip"]["id"], worker_id=entry["worker_id"], live=True,
            trip_closed=False, boarded=entry["status"] in ("boarded", "arrived") or entry["serial"] in boarded,
            arrived=entry["status"] == "arrived" or entry["serial"] in arrived,
            health_status=entry["health"]["status"],
        )
    rules = HealthRules(fever_threshold=Decimal(bundle["rules"]["fever_threshold"]))
    reading = None if temperature is None else Decimal(str(temperature)).quantize(Decimal("0.1"))
    decision = decide(verification, facts, kind, reading, tuple(symptoms), {bundle["trip"]["id"]}, rules)
    return decision, entry


def certificate_section(issuers, stale_after_hours):
    """The bundle's `certificates` field: every recognised issuer and the age that makes its data stale.

    Each issuer's keys keep their `use` ("trip" or "certificate") so that a certificate signed
    with a trip key is refused as `wrong_key_use` offline as online. `synced_at` is null for
    this deployment: its keys and revocations are as new as the bundle itself.
    """
    return {
        "trust_stale_after_hours": stale_after_hours,
        "issuers": [
            {"deployment_id": issuer.deployment_id, "name": issuer.name, "synced_at": _iso(issuer.synced_at),
             "keys": [{"kid": key.kid, "use": key.use, "algorithm": "Ed25519",
                       "public_key": base64.b64encode(key.public_key).decode(), "counties": sorted(key.counties),
                       "retired_at": _iso(key.retired_at)} for key in issuer.keys],
             "revoked": sorted(issuer.revoked)}
            for issuer in sorted(issuers, key=lambda issuer: issuer.synced_at is not None)
        ],
    }


def certificate_issuers(bundle):
    """{deployment_id: TrustedIssuer} from a bundle; this deployment's data counts as synced when the bundle was issued.

    A bundle saved before certificates were added has no issuers: every certificate is then unknown_issuer.
    """
    section = bundle.get("certificates") or {"issuers": []}
    downloaded = _unix(bundle["issued_at"])
    found = {}
    for entry in section["issuers"]:
        keys = tuple(IssuerKey(kid=key["kid"], public_key=base64.b64decode(key["public_key"]), use=key["use"],
                               counties=frozenset(key["counties"]),
                               retired_at=_unix(key["retired_at"]) if key["retired_at"] else None)
                     for key in entry["keys"])
        synced = _unix(entry["synced_at"]) if entry["synced_at"] else downloaded
        found[entry["deployment_id"]] = TrustedIssuer(entry["deployment_id"], entry["name"], keys,
                                                      frozenset(entry["revoked"]), synced)
    return found


def decide_certificate_offline(bundle, qr, at=None, id_number=None, issuers=None, name=None):
    """Decide a health certificate from the bundle alone, as `verify_certificate` does on the server.

    The trust data's age runs from each issuer's `synced_at` (this deployment's: the bundle's
    `issued_at`) to the scan time `at`, so a phone offline past `trust_stale_after_hours` turns
    every certificate amber (复核, `trust_stale`), never silently green.

    Args:
        at: aware datetime of the scan (default now).
        id_number, name: the number and the full name on the holder's ID card, matched together against the
            certificate's hash.
        issuers: `certificate_issuers(bundle)`, when the caller read them once for many scans
            (reading a bundle's issuers costs more than checking a signature).
    Returns the CertificateVerification.
    """
    at = at or datetime.now(UTC)
    section = bundle.get("certificates") or {}
    issuers = certificate_issuers(bundle) if issuers is None else issuers
    return verify_certificate(qr, issuers, now=int(at.timestamp()),
                              stale_after_hours=section.get("trust_stale_after_hours"), id_number=id_number,
                              name=name)


def _iso(unix):
    return None if unix is None else iso_local(datetime.fromtimestamp(unix, UTC))


def _unix(iso_text):
    return int(datetime.fromisoformat(iso_text.replace("Z", "+00:00")).timestamp())
