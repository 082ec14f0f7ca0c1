"""Workers (务工人员) and the bearer tokens that stand for a login."""
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app import crypto
from app.extensions import db
from app.models.base import BINARY_TEXT, utcnow

BIRTH_DATE_CONTEXT = "worker.birth_date"


class Worker(db.Model):
    """A worker known by their WeChat openid; personal fields exist only after consent.

    A worker who came back on their own (零散返岗) may be registered by their employer's
    HR before ever opening the mini-program: such a row has no openid and `registered_by`
    names the enterprise. One who arrived with another city's health certificate may be registered
    at the checkpoint the same way (`registered_checkpoint_id`).

    ID number and mobile are stored encrypted (`*_cipher`), findable by a keyed HMAC
    (`*_index`) and displayable through a stored mask; the plain value is never stored.
    The birth date is encrypted too: it is digits 7–14 of the ID number, the very digits the
    mask hides, so in plain text beside the mask it would give the whole number back.
    """

    __tablename__ = "workers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # WeChat openids are case-sensitive: compare them byte for byte on MySQL too.
    openid: Mapped[str | None] = mapped_column(String(64).with_variant(BINARY_TEXT, "mysql"), unique=True)
    registered_by: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    # Registered at a checkpoint from another city's health certificate and the ID card (互认), no openid yet.
    registered_checkpoint_id: Mapped[int | None] = mapped_column(ForeignKey("checkpoints.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[datetime | None]
    # WeChat's session_key, encrypted: needed to decrypt data the mini-program sends later.
    session_key_cipher: Mapped[bytes | None] = mapped_column(LargeBinary(128))

    consent_version: Mapped[str | None] = mapped_column(String(32))
    consent_at: Mapped[datetime | None]

    name: Mapped[str | None] = mapped_column(String(50))
    id_number_cipher: Mapped[bytes | None] = mapped_column(LargeBinary(128))
    id_number_index: Mapped[str | None] = mapped_column(String(64), unique=True)
    id_number_mask: Mapped[str | None] = mapped_column(String(18))
    gender: Mapped[str | None] = mapped_column(String(8))
    birth_date_cipher: Mapped[bytes | None] = mapped_column(LargeBinary(128))
    mobile_cipher: Mapped[bytes | None] = mapped_column(LargeBinary(128))
    mobile_index: Mapped[str | None] = mapped_column(String(64), index=True)
    mobile_mask: Mapped[str | None] = mapped_column(String(11))
    # When WeChat vouched for the mobile (getPhoneNumber); None for a typed one.
    mobile_verified_at: Mapped[datetime | None]

    hometown_county: Mapped[str | None] = mapped_column(String(64))
    hometown_township: Mapped[str | None] = mapped_column(String(64))
    current_address: Mapped[str | None] = mapped_column(String(255))
    skills: Mapped[list | None] = mapped_column(JSON)
    job_intention: Mapped[str | None] = mapped_column(String(255))
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    employer_name: Mapped[str | None] = mapped_column(String(128))

    @property
    def birth_date(self):
        """The birth date, decrypted (None when unknown)."""
        if self.birth_date_cipher is None:
            return None
        return date.fromisoformat(crypto.cipher().decrypt(self.birth_date_cipher, BIRTH_DATE_CONTEXT))

    @birth_date.setter
    def birth_date(self, value):
        self.birth_date_cipher = None if value is None else crypto.cipher().encrypt(value.isoformat(),
                                                                                    BIRTH_DATE_CONTEXT)

    @property
    def mobile_verified(self):
        """Whether the stored mobile is the one WeChat vouched for (not typed)."""
        return self.mobile_verified_at is not None

    @property
    def id_last4(self):
        """Last four characters of the ID number, for comparing with the card."""
        return self.id_number_mask[-4:] if self.id_number_mask else None


class AuthToken(db.Model):
    """A bearer token; only its SHA-256 is stored, so a database leak gives no logins."""

    __tablename__ = "auth_tokens"
    __table_args__ = (Index("ix_auth_tokens_subject", "subject_kind", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    subject_kind: Mapped[str] = mapped_column(String(16))  # worker | staff
    subject_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
