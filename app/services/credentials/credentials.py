"""Trip credential (乘车凭证): the signed QR a worker shows when boarding a bus.

A fixed 25-byte binary payload (version, key id, serial, trip, worker, validity
window) is signed with Ed25519 and base45-encoded (RFC 9285, the `base45` package) behind the prefix
"FG1:". Every character stays in the QR alphanumeric alphabet, which keeps the
code small. Anyone holding the published public keys and revocation list can
verify a credential offline, as with the EU Digital COVID Certificate. The
credential carries no name or ID number: scanners show masked identity from the
manifest instead.

Pure library code: no Flask and no database, so a scanner can use it as it is.
"""
import functools
import hashlib
import io
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass

import base45
import qrcode
import qrcode.util
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.pil import PilImage

PREFIX = "FG1:"
VERSION = 1

# version, kid, serial, trip_id, worker_id, valid_from, valid_until.
_PAYLOAD = struct.Struct(">B4sIIIII")
_SIGNATURE_BYTES = 64
_CREDENTIAL_BYTES = _PAYLOAD.size + _SIGNATURE_BYTES
_U32_MAX = 0xFFFFFFFF
_KEY_BYTES = 32
_HEX = frozenset("0123456789abcdef")

# Automatic mask selection renders all eight masks and scores them (~18 ms a PNG);
# any fixed mask decodes fine and takes ~7 ms.
_QR_MASK_PATTERN = 0


@dataclass(frozen=True)
class CredentialPayload:
    """The signed fields of a credential; kid is 8 lowercase hex characters."""

    version: int
    kid: str
    serial: int
    trip_id: int
    worker_id: int
    valid_from: int
    valid_until: int


@dataclass(frozen=True)
class TrustedKey:
    """A published public key a scanner trusts.

    valid_from records when the key came into use; it is informational and not
    checked, because a credential's valid_from may precede the moment it was
    issued. valid_until retires the key: from that moment on, everything it signed is
    refused as "unknown_key" (a retired key may have leaked). None means it is in use.
    """

    kid: str
    public_key: bytes
    valid_from: int | None = None
    valid_until: int | None = None

    def __post_init__(self):
        # Checked here so that verify_credential never trips over a bad trust list entry.
        if not isinstance(self.public_key, bytes) or len(self.public_key) != _KEY_BYTES:
            raise ValueError("public_key must be the raw 32-byte Ed25519 public key")
        if not isinstance(self.kid, str) or len(self.kid) != 8 or not set(self.kid) <= _HEX:
            raise ValueError("kid must be 8 lowercase hex characters")

    @classmethod
    def from_public_key(cls, public_key, valid_from=None, valid_until=None):
        """Build a TrustedKey whose kid is derived from the raw public key."""
        return cls(key_id(public_key), public_key, valid_from, valid_until)


@dataclass(frozen=True)
class Verification:
    """Outcome of verify_credential; reason is None exactly when ok."""

    ok: bool
    reason: str | None
    payload: CredentialPayload | None


# --- base45 (RFC 9285), by the `base45` package EU DCC verifiers use -------------


def base45_encode(data):
    """Encode bytes as base45 text (RFC 9285)."""
    return base45.b45encode(data).decode("ascii")


def base45_decode(text):
    """Decode base45 text (RFC 9285) to bytes.

    :param text: base45 text; only uppercase letters are part of the alphabet.
    :raises TypeError: if text is not a str.
    :raises ValueError: on a character outside the alphabet, a length of 3n+1, or
        a group whose value does not fit its bytes (over 65535, or 255 at the end).
    """
    if not isinstance(text, str):
        raise TypeError("base45 text must be a str")
    return base45.b45decode(text)


# --- keys ----------------------------------------------------------------------


def generate_private_key():
    """Return a new Ed25519 signing key."""
    return Ed25519PrivateKey.generate()


def private_key_to_bytes(private_key):
    """Return the raw 32-byte form of an Ed25519 private key (keep it secret)."""
    return private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def private_key_from_bytes(raw):
    """Load an Ed25519 private key from its raw 32 bytes; ValueError if malformed."""
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_bytes(private_key):
    """Return the raw 32-byte public key of an Ed25519 private key."""
    return private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key):
    """Return the kid of a raw public key: first 4 bytes of its SHA-256, as hex."""
    if not isinstance(public_key, bytes) or len(public_key) != _KEY_BYTES:
        raise ValueError("public_key must be the raw 32-byte Ed25519 public key")
    return hashlib.sha256(public_key).digest()[:4].hex()


# --- issuing and checking --------------------------------------------------------


def _check_u32(name, value):
    # bool is an int subclass; True as a trip id is a bug, not a value.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _U32_MAX:
        raise ValueError(f"{name} must be an integer from 0 to {_U32_MAX}")


def issue_credential(private_key, *, serial, trip_id, worker_id, valid_from, valid_until):
    """Sign a trip credential and return its QR text (PREFIX + base45).

    :param private_key: the Ed25519PrivateKey in use; its kid goes into the payload.
    :param serial: the seat's credential serial; re-issuing bumps it, revoking the old one.
    :param trip_id: the trip the credential boards.
    :param worker_id: the worker it belongs to (an id, never a name or ID number).
    :param valid_from: first valid moment, unix seconds UTC.
    :param valid_until: last valid moment, unix seconds UTC (inclusive).
    :raises ValueError: if a field is not an unsigned 32-bit integer or the window is reversed.
    """
    fields = dict(serial=serial, trip_id=trip_id, worker_id=worker_id, valid_from=valid_from, valid_until=valid_until)
    for name, value in fields.items():
        _check_u32(name, value)
    if valid_until < valid_from:
        raise ValueError("valid_until must not be before valid_from")
    kid = bytes.fromhex(key_id(public_key_bytes(private_key)))
    payload = _PAYLOAD.pack(VERSION, kid, serial, trip_id, worker_id, valid_from, valid_until)
    return PREFIX + base45_encode(payload + private_key.sign(payload))


def decode_credential(text):
    """Parse credential text without checking its signature.

    Surrounding whitespace is stripped and letters upper-cased, since some QR
    scanners lowercase alphanumeric codes.

    :returns: (payload, signed_bytes, signature).
    :raises ValueError: if text is not a str, lacks the prefix, is not base45, has
        the wrong length or an unknown version.
    """
    if not isinstance(text, str):
        raise ValueError("credential must be text")
    # Safe to strip: a valid base45 string never ends in a space (the last
    # character's value is at most 32), and the text starts with the prefix.
    text = text.strip().upper()
    if not text.startswith(PREFIX):
        raise ValueError("missing credential prefix")
    raw = base45_decode(text[len(PREFIX) :])
    if len(raw) != _CREDENTIAL_BYTES:
        raise ValueError("credential has the wrong length")
    signed, signature = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
    version, kid, *fields = _PAYLOAD.unpack(signed)
    if version != VERSION:
        raise ValueError(f"unsupported credential version {version}")
    return CredentialPayload(version, kid.hex(), *fields), signed, signature


def _candidate_keys(trusted_keys, kid):
    if isinstance(trusted_keys, Mapping):
        key = trusted_keys.get(kid)
        return [key] if key is not None else []
    # A list may hold two keys whose 4-byte kids collide; try each.
    return [key for key in trusted_keys if key.kid == kid]


def _signature_holds(key, signed, signature):
    return _verified(key.public_key, signed, signature)


@functools.lru_cache(maxsize=4096)
def _verified(public_key, signed, signature):
    # A QR scanned twice (boarding, then arrival, often in one upload) is checked once.
    return verify_signature(public_key, signed, signature)


def verify_signature(public_key, data, signature):
    """Whether `signature` is an Ed25519 signature of `data` by the raw 32-byte `public_key`."""
    try:
        _public_key(public_key).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


@functools.lru_cache(maxsize=64)
def _public_key(raw):
    # Loading the key is a tenth of a verification; a process verifies with a handful of keys.
    return Ed25519PublicKey.from_public_bytes(raw)


def verify_credential(text, trusted_keys, revoked_serials=(), now=None):
    """Decide offline whether a scanned credential admits its holder.

    Checks run in this order, the first failure deciding: malformed text →
    "invalid"; kid not trusted → "unknown_key"; bad signature → "invalid";
    credential valid from after its key was retired → "unknown_key"; serial
    revoked → "revoked"; now before valid_from → "not_yet_valid"; now after
    valid_until → "expired".

    :param text: the scanned QR text; anything else, even a non-str, is "invalid".
    :param trusted_keys: TrustedKeys, as an iterable or a mapping from kid.
    :param revoked_serials: serials revoked by re-issue or cancellation.
    :param now: unix seconds UTC; defaults to the current time.
    :returns: a Verification; payload is set once the signature has held, so a
        scanner can say whose expired or revoked credential it is. Never raises
        for bad text.
    """
    try:
        decoded = decode_credential(text)
    except ValueError:
        decoded = None
    return verify_decoded(decoded, trusted_keys, revoked_serials, now)


def verify_decoded(decoded, trusted_keys, revoked_serials=(), now=None):
    """`verify_credential` for text already decoded by `decode_credential` (None: it did not decode).

    A scanner that decodes once to look the seat up verifies the same bytes without decoding again.
    """
    if decoded is None:
        return Verification(False, "invalid", None)
    payload, signed, signature = decoded
    candidates = _candidate_keys(trusted_keys, payload.kid)
    if not candidates:
        return Verification(False, "unknown_key", None)
    key = next((key for key in candidates if _signature_holds(key, signed, signature)), None)
    if key is None:
        return Verification(False, "invalid", None)
    now = int(time.time()) if now is None else now
    if key.valid_until is not None and now >= key.valid_until:
        return Verification(False, "unknown_key", None)
    if payload.serial in revoked_serials:
        return Verification(False, "revoked", payload)
    if now < payload.valid_from:
        return Verification(False, "not_yet_valid", payload)
    if now > payload.valid_until:
        return Verification(False, "expired", payload)
    return Verification(True, None, payload)


def render_qr_png(text, box_size=8, border=4):
    """Draw credential text as a QR code (error correction M) and return PNG bytes.

    :param text: QR-alphanumeric text, as issue_credential returns.
    :param box_size: pixels per module.
    :param border: quiet zone in modules (the QR spec asks for at least 4).
    :raises ValueError: if text has characters outside the QR alphanumeric set.
    """
    qr = qrcode.QRCode(
        error_correction=ERROR_CORRECT_M,
        box_size=box_size,
        border=border,
        image_factory=PilImage,
        mask_pattern=_QR_MASK_PATTERN,
    )
    # One explicit alphanumeric segment: a stray lowercase or other character then
    # fails loudly instead of quietly falling back to byte mode and a bigger code.
    qr.add_data(qrcode.util.QRData(text, mode=qrcode.util.MODE_ALPHA_NUM))
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().save(buffer)
    return buffer.getvalue()
