"""Health certificates (健康证明) this deployment issued, and the partner deployments whose it recognises (互认)."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow

CERTIFICATE_STATUSES = ("valid", "revoked")


class HealthCertificate(db.Model):
    """A signed health certificate for an outbound worker; the id is its serial.

    The QR text is kept so the mini-program and the PDF show the very certificate that was signed.
    Revoking sets `revoked_at` and adds the serial to the revocation list (kind "certificate").
    """

    __tablename__ = "health_certificates"
    __table_args__ = (Index("ix_health_certificates_worker", "worker_id", "issued_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"))
    county_code: Mapped[str] = mapped_column(ForeignKey("counties.code"))
    kid: Mapped[str] = mapped_column(String(8))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    valid_until: Mapped[datetime]
    issued_by_kind: Mapped[str] = mapped_column(String(8))  # staff | rule
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    basis: Mapped[dict] = mapped_column(JSON)
    text: Mapped[str] = mapped_column(Text)
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(String(32))


class TrustPartner(db.Model):
    """Another deployment whose trust list this one imported, pinned by its root key's fingerprint.

    `document` is the last list that verified against the pin; deleting the row stops
    recognising the partner at once. `counties` are the county codes its keys claimed when it was
    added, confirmed by the operator who added it: a later list may not widen them, and a key is
    trusted only for these.
    """

    __tablename__ = "trust_partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    counties: Mapped[list] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(512))
    document: Mapped[dict] = mapped_column(JSON)
    list_issued_at: Mapped[datetime]
    synced_at: Mapped[datetime]
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(255))
