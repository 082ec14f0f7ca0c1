"""Trust lists (信任列表) exchanged between deployments, so each recognises the other's certificates (互认).

A deployment publishes its issuer keys (trip and certificate), the counties each may speak for,
and the certificates it revoked, signed with its root key. Another deployment imports the list
pinned by the SHA-256 fingerprint of that root key, given to it out of band (a letter, a phone
call between the two health commissions): a list that does not verify against the pin is never
used. docs/certificate.md describes the format with vectors.

Pure library code: no Flask and no database.
"""
import base64
import hashlib
import json
from datetime import datetime

from app.services.credentials import credentials
from app.services.credentials.health_certificate import IssuerKey, TrustedIssuer

FORMAT = "fangang-trust-list"
VERSION = 1
KEY_USES = ("trip", "certificate")
# The widths of trust_partners.deployment_id and .name: a longer one is not a list this format makes.
MAX_DEPLOYMENT_ID = 32
MAX_NAME = 64
# Clocks of two cities' servers differ a little; a list signed further ahead than this would set the stored
# issue time in the future and make every later, correct list look older.
MAX_CLOCK_SKEW_SECONDS = 300

# The one place for the Chinese of every TrustListError (partners shows them as they are).
MESSAGES = {
    "not_a_trust_list": "不是信任列表（格式不符）",
    "fingerprint_mismatch": "信任列表的根密钥指纹与给定的不符，拒绝导入",
    "signature_invalid": "信任列表签名无效，拒绝导入",
    "list_expired": "信任列表已过有效期，请向对方索取新的列表",
    "list_from_future": "信任列表的签发时间晚于本机时间，请双方核对服务器时钟",
}


class TrustListError(ValueError):
    """A trust list that cannot be used; code is machine-readable, the message Chinese."""

    def __init__(self, code, detail=None):
        super().__init__(MESSAGES[code] + (f"：{detail}" if detail else ""))
        self.code = code


def canonical(body):
    """The bytes a signature over a JSON document covers: sorted keys, no spaces, UTF-8."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def fingerprint(public_key):
    """The fingerprint partners pin: SHA-256 of the raw 32-byte root public key, 64 lowercase hex characters."""
    return hashlib.sha256(public_key).hexdigest()


def normal_fingerprint(text):
    """A fingerprint as typed (spaces, colons, upper case allowed) in its normal form, or ValueError."""
    normal = "".join(char for char in str(text).lower() if char not in " :-")
    if len(normal) != 64 or not set(normal) <= set("0123456789abcdef"):
        raise ValueError("a fingerprint is 64 hexadecimal characters (SHA-256)")
    return normal


def sign_trust_list(body, root_private_key):
    """Add the root block and the root key's signature to a list body; returns the document."""
    public = credentials.public_key_bytes(root_private_key)
    body = {**body, "format": FORMAT, "version": VERSION,
            "root": {"algorithm": "Ed25519", "kid": credentials.key_id(public),
                     "public_key": base64.b64encode(public).decode(), "fingerprint": fingerprint(public)}}
    signature = root_private_key.sign(canonical(body))
    return {**body, "signature": {"kid": body["root"]["kid"], "algorithm": "Ed25519",
                                  "value": base64.b64encode(signature).decode()}}


def verify_trust_list(document, pinned_fingerprint, now):
    """Check a trust list against the pinned root fingerprint; returns the document or raises TrustListError.

    :param now: unix seconds UTC; a list past its valid_until is refused ("list_expired"), so an old list
        replayed after the partner retired a key cannot bring the key back; one issued more than
        MAX_CLOCK_SKEW_SECONDS after now is refused too ("list_from_future").
    """
    try:
        root_key = base64.b64decode(document["root"]["public_key"], validate=True)
        signature = base64.b64decode(document["signature"]["value"], validate=True)
        valid_until = _unix(document["valid_until"])
        issued = issued_at(document)
        ok_shape = (document["format"] == FORMAT and document["version"] == VERSION
                    and isinstance(document["keys"], list))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise TrustListError("not_a_trust_list") from None
    if not ok_shape or len(root_key) != 32:
        raise TrustListError("not_a_trust_list")
    _check_deployment(document["deployment"])
    if fingerprint(root_key) != normal_fingerprint(pinned_fingerprint):
        raise TrustListError("fingerprint_mismatch")
    body = {name: value for name, value in document.items() if name != "signature"}
    if not credentials.verify_signature(root_key, canonical(body), signature):
        raise TrustListError("signature_invalid")
    if now > valid_until:
        raise TrustListError("list_expired")
    if issued > now + MAX_CLOCK_SKEW_SECONDS:
        raise TrustListError("list_from_future")
    try:
        issuer_from_list(document, synced_at=now)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise TrustListError("not_a_trust_list", "密钥或吊销条目格式有误") from None
    return document


def _check_deployment(deployment):
    """The deployment block fits what is stored of it: an id of 1–32 characters, a name of at most 64."""
    if not isinstance(deployment, dict):
        raise TrustListError("not_a_trust_list", "缺少所属部署")
    deployment_id, name = deployment.get("id"), deployment.get("name") or ""
    if not isinstance(deployment_id, str) or not 0 < len(deployment_id) <= MAX_DEPLOYMENT_ID:
        raise TrustListError("not_a_trust_list", f"部署编号应为 1–{MAX_DEPLOYMENT_ID} 个字符")
    if not isinstance(name, str) or len(name) > MAX_NAME:
        raise TrustListError("not_a_trust_list", f"部署名称应为至多 {MAX_NAME} 个字符")


def counties_of(document):
    """The counties a verified list's issuer keys claim to speak for, sorted."""
    return sorted({county for key in issuer_from_list(document, synced_at=0).keys for county in key.counties})


def issuer_from_list(document, synced_at):
    """The TrustedIssuer a verified list describes; synced_at is unix seconds of the last successful sync."""
    keys = tuple(
        IssuerKey(kid=entry["kid"], public_key=base64.b64decode(entry["public_key"], validate=True),
                  use=entry["use"], counties=_counties(entry.get("counties")),
                  retired_at=_unix(entry["retired_at"]) if entry.get("retired_at") else None)
        for entry in document["keys"] if entry.get("use") in KEY_USES and entry.get("algorithm") == "Ed25519"
    )
    for key in keys:
        credentials.TrustedKey(key.kid, key.public_key)  # raises ValueError on a bad kid or key length
    revoked = frozenset(int(serial) for serial in (document.get("revocations") or {}).get("certificate", ()))
    return TrustedIssuer(deployment_id=document["deployment"]["id"], name=document["deployment"].get("name", ""),
                         keys=keys, revoked=revoked, synced_at=synced_at)


def _counties(listed):
    """A key's counties: a list of codes (a bare string would otherwise become a set of its characters)."""
    if listed is None:
        return frozenset()
    if not isinstance(listed, list) or not all(isinstance(code, str) and code for code in listed):
        raise ValueError("counties is a list of county codes")
    return frozenset(listed)


def issued_at(document):
    """When a list was signed, unix seconds."""
    return _unix(document["issued_at"])


def valid_until(document):
    """Until when a list may be used, unix seconds."""
    return _unix(document["valid_until"])


def _unix(text):
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("a time in a trust list carries its offset")
    return int(moment.timestamp())
