"""Check-in: every scan of a trip QR code, and the isolation orders scans open."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow

SCAN_KINDS = ("board", "arrive", "checkpoint")
VERDICTS = ("allow", "deny", "isolate")


class ScanEvent(db.Model):
    """One scan, accepted or refused, exactly as received; never updated after it is judged, but for
    an arrival refused as not_boarded, judged again once a boarding scanned before it is uploaded.

    `boarded_seat_id` / `arrived_seat_id` hold the seat id only for the scan that boarded or
    landed the passenger: their unique indexes let exactly one of two racing scanners win.
    """

    __tablename__ = "scan_events"
    __table_args__ = (
        Index("ix_scan_events_trip", "trip_id", "kind"),
        # The dashboard reads a seat's passage from this index alone, and finds isolate verdicts by the next.
        Index("ix_scan_events_seat", "seat_id", "verdict", "kind", "trip_id"),
        Index("ix_scan_events_verdict", "verdict", "scanned_at"),
        # A partner's certificate names its worker here through the scan that registered it.
        Index("ix_scan_events_certificate", "certificate_issuer", "certificate_serial"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_event_id: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(8))  # online | offline
    scanned_at: Mapped[datetime]  # the device's clock
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    device_id: Mapped[str] = mapped_column(String(64))
    actor_kind: Mapped[str] = mapped_column(String(16))  # worker (captain) | staff
    actor_id: Mapped[int]
    checkpoint_id: Mapped[int | None] = mapped_column(ForeignKey("checkpoints.id"))
    location: Mapped[str | None] = mapped_column(String(128))
    serial: Mapped[int | None]
    trip_id: Mapped[int | None]
    seat_id: Mapped[int | None]
    worker_id: Mapped[int | None]
    temperature: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    symptoms: Mapped[list | None] = mapped_column(JSON)
    verdict: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(32))
    conflict: Mapped[bool] = mapped_column(default=False)
    conflict_reason: Mapped[str | None] = mapped_column(String(32))
    boarded_seat_id: Mapped[int | None] = mapped_column(unique=True)
    arrived_seat_id: Mapped[int | None] = mapped_column(unique=True)
    answer: Mapped[dict] = mapped_column(JSON)  # the response, replayed for a retried client_event_id
    # A health certificate scanned instead of a trip QR: the issuing deployment and the certificate's serial.
    certificate_issuer: Mapped[str | None] = mapped_column(String(32))
    certificate_serial: Mapped[int | None]


class IsolationOrder(db.Model):
    """An order to isolate a worker (集中/居家隔离); scans and follow-ups open it pending, health officers decide.

    A health officer activates it with the kind, place and dates, or opens one directly,
    and releases it (解除隔离); each step adds an isolation event to the health record.
    """

    __tablename__ = "isolation_orders"
    __table_args__ = (Index("ix_isolation_orders_worker", "worker_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | active | released
    kind: Mapped[str | None] = mapped_column(String(16))  # centralized | home, set by a health officer
    reason: Mapped[str] = mapped_column(String(32))
    trip_id: Mapped[int | None] = mapped_column(ForeignKey("trips.id"))
    checkpoint_id: Mapped[int | None] = mapped_column(ForeignKey("checkpoints.id"))
    scan_event_id: Mapped[int | None] = mapped_column(ForeignKey("scan_events.id"))
    health_event_id: Mapped[int | None] = mapped_column(ForeignKey("health_events.id"))  # the abnormal follow-up
    place: Mapped[str | None] = mapped_column(String(128))  # 隔离地点
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(String(255))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))  # None: opened by a scan
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
