"""The health certificate's published test vectors (docs/certificate.md), made from fixed keys at a fixed time.

    .venv/bin/python -m tests.certificate_vectors   # prints the trust list and the vectors blocks for the doc

Everything here is deterministic (Ed25519 signatures, the CBOR encoding, the ID hash's fixed salt),
so tests/test_certificate_doc.py checks that these builders reproduce the document's texts exactly.
The keys sign nothing real: their seeds are written in the document.
"""
import base64
import json
from dataclasses import asdict, replace
from datetime import datetime

import base45
import cbor2

from app.services.credentials import credentials, trust_lists
from app.services.credentials.health_certificate import CertificateClaims, id_hash, issue_certificate
from app.services.platform.timeutil import LOCAL_ZONE

CERTIFICATE_SEED = bytes(range(0x20, 0x40))  # 20 21 … 3f
ROOT_SEED = bytes(range(0x40, 0x60))  # 40 41 … 5f
TRIP_SEED = bytes(range(0x00, 0x20))  # 00 01 … 1f: docs/credential.md's trip test key
STRANGER_SEED = bytes(range(0x60, 0x80))  # 60 61 … 7f: a key no trust list holds
ID_NUMBER = "640121199001011236"  # a made-up 永宁县 number with a correct check character
ID_NAME = "张小三"  # the full name on the same made-up card (the certificate shows 张*三)
ID_SALT = bytes.fromhex("a1b2c3d4e5f60718")
STALE_AFTER_HOURS = 24


def moment(text):
    """Unix seconds of a Beijing-time ISO text."""
    return int(datetime.fromisoformat(text).timestamp())


def iso(unix):
    """Beijing-time ISO text of unix seconds, as every time in the formats is written."""
    return datetime.fromtimestamp(unix, LOCAL_ZONE).isoformat()


ISSUED = moment("2020-02-24T08:00:00+08:00")
CLAIMS = CertificateClaims(
    issuer="640100", serial=7, county="640121", issued_at=ISSUED, valid_until=ISSUED + 7 * 86400,
    name="张*三", id_last4=ID_NUMBER[-4:], id_salt=ID_SALT, id_hash=id_hash(ID_NUMBER, ID_NAME, ID_SALT),
    status="green", observation="none", check_temperature=365, check_at=moment("2020-02-24T07:30:00+08:00"),
)
REVOKED_SERIAL = 8


def key(seed):
    """The Ed25519 private key of a 32-byte seed."""
    return credentials.private_key_from_bytes(seed)


def _entry(seed, use, counties):
    public = credentials.public_key_bytes(key(seed))
    return {"kid": credentials.key_id(public), "use": use, "algorithm": "Ed25519",
            "public_key": base64.b64encode(public).decode(), "counties": counties,
            "valid_from": "2020-02-20T00:00:00+08:00", "retired_at": None}


def trust_list():
    """The 银川市 test deployment's trust list, as GET /api/checkin/v1/trust-list publishes one, signed by ROOT_SEED."""
    counties = ["640104", "640105", "640106", "640121", "640122", "640181"]
    body = {
        "deployment": {"id": "640100", "name": "银川市"},
        "issued_at": "2020-02-24T00:00:00+08:00", "valid_until": "2020-03-09T00:00:00+08:00",
        "keys": [_entry(TRIP_SEED, "trip", counties), _entry(CERTIFICATE_SEED, "certificate", counties)],
        "revocations": {"certificate": [REVOKED_SERIAL]},
    }
    return trust_lists.sign_trust_list(body, key(ROOT_SEED))


def root_fingerprint():
    """The fingerprint a partner pins: SHA-256 of the root public key."""
    return trust_lists.fingerprint(credentials.public_key_bytes(key(ROOT_SEED)))


def _tampered(text):
    """The same COSE_Sign1 with the status claim turned from green to red and the signature kept."""
    tagged = cbor2.loads(base45.b45decode(text[len("FGC1:"):]))
    protected, unprotected, payload, signature = tagged.value
    claims = cbor2.loads(payload)
    claims[-65537]["n"] = "李*四"
    forged = cbor2.CBORTag(18, [protected, unprotected, cbor2.dumps(claims), signature])
    return "FGC1:" + base45.b45encode(cbor2.dumps(forged)).decode()


def claims_json(claims):
    """Claims as the vectors write them: bytes as lowercase hex."""
    return {name: value.hex() if isinstance(value, bytes) else value for name, value in asdict(claims).items()}


def vectors():
    """Every vector: name, note, qr, now, synced_at, stale_after_hours, id_number, id_name, verdict, reason, claims."""
    valid = issue_certificate(key(CERTIFICATE_SEED), CLAIMS)
    revoked = replace(CLAIMS, serial=REVOKED_SERIAL)
    elsewhere = replace(CLAIMS, serial=9, county="110101")
    yellow = replace(CLAIMS, serial=10, status="yellow", observation="in_progress",
                     observation_until="2020-03-05")
    beijing = replace(CLAIMS, issuer="110100", county="110101")
    at, synced = "2020-02-24T10:00:00+08:00", "2020-02-24T09:00:00+08:00"
    rows = [
        ("valid", "two hours after issue, the list synced an hour before; the ID card read matches",
         valid, at, synced, (ID_NUMBER, ID_NAME), "accept", None, CLAIMS),
        ("valid_no_id", "the same without an ID card: the ID hash is not checked", valid, at, synced, None,
         "accept", None, CLAIMS),
        ("lowercase", "a scanner that lower-cased the text", valid.lower(), at, synced, None, "accept", None, CLAIMS),
        ("last_valid_second", "valid_until itself is inside the window", valid, iso(CLAIMS.valid_until),
         iso(CLAIMS.valid_until - 3600), None, "accept", None, CLAIMS),
        ("expired", "one second after valid_until", valid, iso(CLAIMS.valid_until + 1),
         iso(CLAIMS.valid_until - 3600), None, "reject", "expired", CLAIMS),
        ("not_yet_valid", "one second before issued_at", valid, iso(ISSUED - 1), iso(ISSUED - 3600), None,
         "reject", "not_yet_valid", CLAIMS),
        ("id_mismatch", "the ID card read is another person's (last character changed)", valid, at, synced,
         (ID_NUMBER[:-1] + "4", ID_NAME), "reject", "id_mismatch", CLAIMS),
        ("name_mismatch", "the right ID number typed with another name (张大三)", valid, at, synced,
         (ID_NUMBER, "张大三"), "reject", "id_mismatch", CLAIMS),
        ("trust_stale", "the list was last synced 25 hours before the scan (limit 24)", valid,
         iso(moment(synced) + 25 * 3600), synced, None, "recheck", "trust_stale", CLAIMS),
        ("not_green", "issued while the holder was yellow, in observation", issue_certificate(
            key(CERTIFICATE_SEED), yellow), at, synced, None, "recheck", "not_green", yellow),
        ("tampered", "the name in the health claim changed, signature kept", _tampered(valid), at, synced, None,
         "reject", "invalid", None),
        ("revoked", f"serial {REVOKED_SERIAL} is in the list's revocations", issue_certificate(
            key(CERTIFICATE_SEED), revoked), at, synced, None, "reject", "revoked", revoked),
        ("county_not_allowed", "county 110101 (北京市东城区) is not among the key's counties", issue_certificate(
            key(CERTIFICATE_SEED), elsewhere), at, synced, None, "reject", "county_not_allowed", elsewhere),
        ("unknown_key", "signed by a key the list does not hold", issue_certificate(key(STRANGER_SEED), CLAIMS),
         at, synced, None, "reject", "unknown_key", None),
        ("wrong_key_use", "signed by the list's trip key, which does not sign certificates", issue_certificate(
            key(TRIP_SEED), CLAIMS), at, synced, None, "reject", "wrong_key_use", CLAIMS),
        ("unknown_issuer", "issuer 110100, a deployment this verifier never imported", issue_certificate(
            key(STRANGER_SEED), beijing), at, synced, None, "reject", "unknown_issuer", None),
        ("garbage", "not base45 of a COSE_Sign1", "FGC1:HELLO", at, synced, None, "reject", "invalid", None),
    ]
    return [{"name": name, "note": note, "qr": qr, "now": now, "synced_at": synced_at,
             "stale_after_hours": STALE_AFTER_HOURS, "id_number": card[0] if card else None,
             "id_name": card[1] if card else None, "verdict": verdict, "reason": reason,
             "claims": None if claims is None else claims_json(claims)}
            for name, note, qr, now, synced_at, card, verdict, reason, claims in rows]


def main():
    """Print the document's machine-readable blocks."""
    print(json.dumps(trust_list(), ensure_ascii=False, indent=1))
    print()
    print("[\n" + ",\n".join(json.dumps(vector, ensure_ascii=False) for vector in vectors()) + "\n]")


if __name__ == "__main__":
    main()
