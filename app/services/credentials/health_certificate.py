"""Health certificate (健康证明): the signed QR an outbound worker carries to another city.

Format, as the EU Digital COVID Certificate does it (docs/certificate.md has the vectors):
a CBOR Web Token (RFC 8392) of claims, signed as COSE_Sign1 (RFC 9052) with EdDSA over
Ed25519, the tagged COSE bytes base45-encoded (RFC 9285, the `base45` package) behind the
prefix "FGC1:". COSE rather than the trip credential's fixed struct, because another city's
vendor verifies it with any COSE library and the claims can grow (a map, not offsets); no zlib,
because a signature, a salt and a hash barely compress.

The certificate never carries the ID number: a salted scrypt hash of the ID number AND the full
name on the card (`id_hash`) lets a verifier holding the ID card match it. The certificate also
shows the county, the ID's last 4 characters and the masked name, which leave a guesser little
but the birth date (some 1,500 dates pass the check character) and the name's hidden character
(some thousands of common ones): the name in the hash, and scrypt's cost per guess, make guessing
the number from a photographed QR take days of computing, not minutes.

Pure library code: no Flask and no database, so a scanner or another city can use it as it is.
"""
import functools
import hashlib
import hmac
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime

import base45
import cbor2
from pycose.algorithms import EdDSA
from pycose.headers import KID, Algorithm
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import Sign1Message

from app.services.credentials import credentials
from app.services.platform.timeutil import iso_local

PREFIX = "FGC1:"
VERSION = 1

# CWT claim keys (RFC 8392) and this format's private claim (a negative key, as the DCC's -260).
CLAIM_ISSUER = 1  # the issuing deployment's id, e.g. "640100"
CLAIM_EXPIRES = 4
CLAIM_ISSUED = 6
CLAIM_SERIAL = 7  # cti: the serial, 4 bytes big-endian
CLAIM_HEALTH = -65537

SALT_BYTES = 8
HASH_BYTES = 16
# scrypt cost: ~0.1 s and 32 MiB per check on a 2-core machine (measured in bench/certificate_bench.py).
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1

STATUSES = ("green", "yellow", "red")
OBSERVATIONS = ("none", "in_progress", "completed")

MESSAGES = {
    "ok": "健康证明有效",
    "invalid": "健康证明无效或已被篡改",
    "unknown_issuer": "签发地未与本地互认，证明不被承认",
    "unknown_key": "签发密钥不在签发地的信任列表中（或已停用）",
    "wrong_key_use": "该密钥不用于签发健康证明",
    "county_not_allowed": "签发地无权为该县区出具健康证明",
    "revoked": "健康证明已被签发地撤销",
    "not_yet_valid": "健康证明尚未生效",
    "expired": "健康证明已过期",
    "trust_stale": "互认信任数据已{hours}小时未更新，请人工复核",
    "id_mismatch": "身份证号或姓名与健康证明不符",
    "not_green": "健康证明所载健康状态非绿码，请人工复核",
}
# Reasons that refuse the certificate outright (拒绝); the others ask a person to look (复核).
REJECT_REASONS = ("invalid", "unknown_issuer", "unknown_key", "wrong_key_use", "county_not_allowed", "revoked",
                  "not_yet_valid", "expired", "id_mismatch")


@dataclass(frozen=True)
class CertificateClaims:
    """What a certificate says. Times are unix seconds UTC; temperature is tenths of a degree or None."""

    issuer: str
    serial: int
    county: str
    issued_at: int
    valid_until: int
    name: str  # masked, 张*三
    id_last4: str
    id_salt: bytes
    id_hash: bytes
    status: str  # green | yellow | red at issue
    observation: str  # none | in_progress | completed (14-day observation)
    check_temperature: int | None = None  # pre-trip check, tenths of a degree (365 = 36.5 ℃)
    check_at: int | None = None
    observation_until: str | None = None  # ISO date the observation ends, when in progress

    def basis(self):
        """The basis fields as the API shows them."""
        return {"status": self.status, "observation": self.observation, "observation_until": self.observation_until,
                "check_temperature": None if self.check_temperature is None else f"{self.check_temperature / 10:.1f}",
                "check_at": self.check_at}


@dataclass(frozen=True)
class IssuerKey:
    """A public key an issuer published: what it signs ("trip" or "certificate") and for which counties."""

    kid: str
    public_key: bytes
    use: str
    counties: frozenset = frozenset()
    retired_at: int | None = None


@dataclass(frozen=True)
class TrustedIssuer:
    """A deployment whose certificates are recognised here: its keys, revoked serials and trust data's age.

    synced_at is None for this deployment itself (its data is live, never stale).
    """

    deployment_id: str
    name: str
    keys: tuple
    revoked: frozenset = frozenset()
    synced_at: int | None = None

    def keys_with(self, kid):
        """Keys of this issuer with the kid (4-byte kids may collide: all of them)."""
        return [key for key in self.keys if key.kid == kid]


@dataclass(frozen=True)
class CertificateVerification:
    """Outcome of verify_certificate.

    verdict: "accept" (绿, valid), "recheck" (黄, a person looks: stale trust data, status not green),
    "reject" (红). reason is None exactly when accepted; claims are set once the signature held.
    """

    verdict: str
    reason: str | None
    message: str
    claims: CertificateClaims | None = None
    issuer: TrustedIssuer | None = None
    trust_age_hours: float | None = None
    details: dict = field(default_factory=dict)

    @property
    def ok(self):
        """Whether the certificate is genuine, in force and not revoked (accepted, or only rechecked)."""
        return self.verdict != "reject"


def id_hash(id_number, name, salt):
    """The salted scrypt hash a certificate carries of its holder's ID number and full name, as on the card.

    The password is the ID number (spaces removed, upper-cased: a final x is X), a line feed, and the name
    (Unicode NFKC, spaces removed), in UTF-8.
    """
    number = "".join(str(id_number).split()).upper()
    person = "".join(unicodedata.normalize("NFKC", str(name)).split())
    return hashlib.scrypt(f"{number}\n{person}".encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                          maxmem=128 * 1024 * 1024, dklen=HASH_BYTES)


def matches_id(claims, id_number, name):
    """Whether an ID number and name (read from the card) are those the certificate was issued for."""
    return hmac.compare_digest(id_hash(id_number, name or "", claims.id_salt), claims.id_hash)


def _claims_map(claims):
    health = {"v": VERSION, "co": claims.county, "n": claims.name, "l4": claims.id_last4,
              "s": claims.id_salt, "h": claims.id_hash, "st": claims.status, "ob": claims.observation}
    if claims.check_temperature is not None:
        health["t"] = claims.check_temperature
    if claims.check_at is not None:
        health["ct"] = claims.check_at
    if claims.observation_until is not None:
        health["ou"] = claims.observation_until
    return {CLAIM_ISSUER: claims.issuer, CLAIM_EXPIRES: claims.valid_until, CLAIM_ISSUED: claims.issued_at,
            CLAIM_SERIAL: claims.serial.to_bytes(4, "big"), CLAIM_HEALTH: health}


def issue_certificate(private_key, claims):
    """Sign claims with an Ed25519 private key (cryptography's) and return the QR text (PREFIX + base45).

    :raises ValueError: if a claim is out of its range (serial over 32 bits, unknown status…).
    """
    _check(claims)
    raw_private = credentials.private_key_to_bytes(private_key)
    raw_public = credentials.public_key_bytes(private_key)
    message = Sign1Message(phdr={Algorithm: EdDSA, KID: bytes.fromhex(credentials.key_id(raw_public))},
                           payload=cbor2.dumps(_claims_map(claims)))
    message.key = OKPKey(crv=Ed25519, d=raw_private, x=raw_public)
    return PREFIX + base45.b45encode(message.encode(tag=True)).decode("ascii")


def _check(claims):
    if not 0 <= claims.serial <= 0xFFFFFFFF:
        raise ValueError("serial must fit in 32 bits")
    if claims.status not in STATUSES or claims.observation not in OBSERVATIONS:
        raise ValueError("unknown status or observation state")
    if len(claims.id_salt) != SALT_BYTES or len(claims.id_hash) != HASH_BYTES:
        raise ValueError("id_salt must be 8 bytes and id_hash 16")
    if claims.valid_until < claims.issued_at:
        raise ValueError("valid_until must not be before issued_at")


def decode_certificate(text):
    """Parse certificate text without checking its signature.

    Surrounding whitespace is stripped and letters upper-cased (some scanners lower-case QR text).

    :returns: (claims, kid as 8 hex characters, the COSE bytes the signature covers).
    :raises ValueError: on anything that is not a well-formed certificate of this version.
    """
    if not isinstance(text, str):
        raise ValueError("certificate must be text")
    text = text.strip().upper()
    if not text.startswith(PREFIX):
        raise ValueError("missing certificate prefix")
    try:
        raw = base45.b45decode(text[len(PREFIX):])
        message = Sign1Message.decode(raw)
        kid = message.phdr.get(KID)
        if message.phdr.get(Algorithm) is not EdDSA or not isinstance(kid, bytes) or len(kid) != 4:
            raise ValueError("not an EdDSA COSE_Sign1 with a 4-byte kid")
        claims = _parse_claims(cbor2.loads(message.payload))
    except ValueError:
        raise
    except Exception as error:  # base45, cbor2 and pycose raise many kinds on garbage: all mean "invalid"
        raise ValueError(f"not a certificate: {type(error).__name__}") from None
    return claims, kid.hex(), raw


def _parse_claims(claims):
    health = claims[CLAIM_HEALTH]
    if health.get("v") != VERSION:
        raise ValueError("unsupported certificate version")
    serial = claims[CLAIM_SERIAL]
    if not isinstance(serial, bytes) or len(serial) != 4:
        raise ValueError("cti must be 4 bytes")
    parsed = CertificateClaims(
        issuer=_text(claims[CLAIM_ISSUER]), serial=int.from_bytes(serial, "big"), county=_text(health["co"]),
        issued_at=_int(claims[CLAIM_ISSUED]), valid_until=_int(claims[CLAIM_EXPIRES]), name=_text(health["n"]),
        id_last4=_text(health["l4"]), id_salt=health["s"], id_hash=health["h"], status=health["st"],
        observation=health["ob"], check_temperature=_int_or_none(health.get("t")),
        check_at=_int_or_none(health.get("ct")), observation_until=health.get("ou"),
    )
    _check(parsed)
    return parsed


def _text(value):
    if not isinstance(value, str):
        raise ValueError("expected text")
    return value


def _int(value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("expected an integer")
    return value


def _int_or_none(value):
    return None if value is None else _int(value)


@functools.lru_cache(maxsize=4096)
def _signature_holds(public_key, raw_message):
    message = Sign1Message.decode(raw_message)
    message.key = _okp_public(public_key)
    try:
        return bool(message.verify_signature())
    except Exception:  # pycose raises on a malformed signature: it does not hold
        return False


@functools.lru_cache(maxsize=64)
def _okp_public(public_key):
    return OKPKey(crv=Ed25519, x=public_key)


def verify_certificate(text, issuers, now=None, stale_after_hours=None, id_number=None, name=None):
    """Decide offline whether a certificate is recognised here.

    Checks run in this order, the first failure deciding: malformed → "invalid"; issuer not
    trusted → "unknown_issuer"; kid not in that issuer's list → "unknown_key"; signature does not
    hold → "invalid"; the key is not a certificate key → "wrong_key_use"; retired before now →
    "unknown_key"; county not among the key's → "county_not_allowed"; serial revoked → "revoked";
    now before issue → "not_yet_valid"; after valid_until → "expired"; an ID number and name given
    that do not match → "id_mismatch". A genuine certificate is then "recheck" when the issuer's
    trust data is older than `stale_after_hours` ("trust_stale") or its status was not green
    ("not_green"), else "accept".

    :param text: the scanned QR text; anything else is "invalid". Never raises for bad text.
    :param issuers: {deployment_id: TrustedIssuer}, this deployment's own and its partners'.
    :param now: unix seconds UTC (default: the current time).
    :param stale_after_hours: the age of a partner's trust data that makes a scan 复核 (None: never).
    :param id_number: the ID number from the card, to match with `name` (the full name on the card) against
        the certificate's hash.
    """
    now = int(time.time()) if now is None else now
    try:
        claims, kid, raw = decode_certificate(text)
    except ValueError:
        return _result("invalid")
    issuer = issuers.get(claims.issuer)
    if issuer is None:
        return _result("unknown_issuer", details={"issuer": claims.issuer})
    candidates = issuer.keys_with(kid)
    if not candidates:
        return _result("unknown_key", issuer=issuer)
    key = next((key for key in candidates if _signature_holds(key.public_key, raw)), None)
    if key is None:
        return _result("invalid", issuer=issuer)
    if key.use != "certificate":
        return _result("wrong_key_use", claims, issuer)
    if key.retired_at is not None and now >= key.retired_at:
        return _result("unknown_key", claims, issuer)
    if claims.county not in key.counties:
        return _result("county_not_allowed", claims, issuer)
    if claims.serial in issuer.revoked:
        return _result("revoked", claims, issuer)
    if now < claims.issued_at:
        return _result("not_yet_valid", claims, issuer)
    if now > claims.valid_until:
        return _result("expired", claims, issuer)
    if id_number is not None and not matches_id(claims, id_number, name):
        return _result("id_mismatch", claims, issuer)
    age = None if issuer.synced_at is None else max(0.0, (now - issuer.synced_at) / 3600)
    if age is not None and stale_after_hours is not None and age > stale_after_hours:
        return _result("trust_stale", claims, issuer, age, {"hours": int(age)})
    if claims.status != "green":
        return _result("not_green", claims, issuer, age)
    return CertificateVerification("accept", None, MESSAGES["ok"], claims, issuer, age)


def _result(reason, claims=None, issuer=None, age=None, details=None):
    details = details or {}
    verdict = "reject" if reason in REJECT_REASONS else "recheck"
    message = MESSAGES[reason].format(**details) if "{" in MESSAGES[reason] else MESSAGES[reason]
    return CertificateVerification(verdict, reason, message, claims, issuer, age, details)


def answer(verification, stale_after_hours, id_checked=False, county_names=None):
    """A CertificateVerification as a scanner shows it (masked identity only): the verify route, a certificate
    scan's answer and the offline verifier all answer this.

    id_checked: whether an ID number was given; the answer says true only when it was matched.
    county_names: {county code: name} the verifier knows (a partner's counties it usually does not).
    """
    claims, issuer = verification.claims, verification.issuer
    certificate = None if claims is None else {
        "issuer": {"id": claims.issuer, "name": issuer.name if issuer else None}, "serial": claims.serial,
        "county": {"code": claims.county, "name": (county_names or {}).get(claims.county)},
        "name": claims.name, "id_last4": claims.id_last4, "issued_at": _iso(claims.issued_at),
        "valid_until": _iso(claims.valid_until), "basis": claims.basis() | {"check_at": _iso(claims.check_at)},
        "id_checked": id_checked and verification.reason in (None, "trust_stale", "not_green"),
    }
    age = verification.trust_age_hours
    trust = None if issuer is None else {
        "deployment_id": issuer.deployment_id, "name": issuer.name, "synced_at": _iso(issuer.synced_at),
        "age_hours": None if age is None else round(age, 2),
        "stale": age is not None and stale_after_hours is not None and age > stale_after_hours,
        "stale_after_hours": stale_after_hours,
    }
    return {"verdict": verification.verdict, "reason": verification.reason, "message": verification.message,
            "certificate": certificate, "trust": trust}


def _iso(unix):
    return None if unix is None else iso_local(datetime.fromtimestamp(unix, UTC))
