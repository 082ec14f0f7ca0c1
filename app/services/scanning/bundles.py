"""The offline bundle's format and the offline decision, with no server and no database.

A captain's phone downloads a bundle before departure (manifest, trust list, revocations,
signed by the server) and decides scans with `decide_offline`, which applies the same
`scan_rules.decide` the server does.
"""
import base64
from datetime import UTC, datetime
from decimal import Decimal

from app.services.credentials import credentials, trust_lists
from app.services.people.health_rules import HealthRules
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


def _unix(iso_text):
    return int(datetime.fromisoformat(iso_text.replace("Z", "+00:00")).timestamp())
