"""Field encryption for personal data at rest (ID numbers, phones, WeChat session keys).

One DATA_KEY (32 random bytes, URL-safe base64) is expanded with HKDF into two keys:
one for AES-256-GCM encryption, one for the keyed HMAC "blind index" that lets us
find a worker by ID number without storing it in plain text.
"""
import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_FORMAT_VERSION = b"\x01"
_NONCE_BYTES = 12


def generate_key():
    """Return a new random DATA_KEY as URL-safe base64 text."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


class FieldCipher:
    """Encrypts, decrypts and blind-indexes short personal fields with one data key."""

    def __init__(self, data_key):
        raw = base64.urlsafe_b64decode(data_key.encode("ascii") + b"==")
        if len(raw) != 32:
            raise ValueError("DATA_KEY must be 32 bytes of URL-safe base64")
        self._aead = AESGCM(self._derive(raw, b"fangang field encryption"))
        self._index_key = self._derive(raw, b"fangang blind index")

    @staticmethod
    def _derive(raw, info):
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(raw)

    def encrypt(self, plaintext, context):
        """Encrypt text; `context` (e.g. "worker.id_number") binds the ciphertext to its column."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("ascii"))
        return _FORMAT_VERSION + nonce + sealed

    def decrypt(self, blob, context):
        """Decrypt a value made by `encrypt` with the same context."""
        if not blob or blob[:1] != _FORMAT_VERSION:
            raise ValueError("unknown ciphertext format")
        nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        return self._aead.decrypt(nonce, sealed, context.encode("ascii")).decode("utf-8")

    def blind_index(self, value, context):
        """Return a stable keyed hash of a normalized value, for equality lookups."""
        message = context.encode("ascii") + b"\x00" + value.encode("utf-8")
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()


def init_app(app):
    """Attach the app's FieldCipher, built from DATA_KEY."""
    app.extensions["field_cipher"] = FieldCipher(app.config["DATA_KEY"])


def cipher():
    """Return the current app's FieldCipher."""
    return current_app.extensions["field_cipher"]


def seal(obj, field, value, context, mask, indexed=False):
    """Store a personal value on a row as `<field>_cipher` and `<field>_mask` (and `<field>_index`).

    None clears them. The plain value is never set on the row.
    """
    field_cipher = cipher()
    setattr(obj, f"{field}_cipher", None if value is None else field_cipher.encrypt(value, context))
    setattr(obj, f"{field}_mask", None if value is None else mask(value))
    if indexed:
        setattr(obj, f"{field}_index", None if value is None else field_cipher.blind_index(value, context))
