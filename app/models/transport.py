"""Transport: plans (编班编组), convoys (班组), trips (一车一方案), seats and revoked credentials."""
from datetime import date, datetime, time

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, Numeric, String, Text, UniqueConstraint, and_, or_
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow

PLAN_STATUSES = ("draft", "published", "discarded")
TRIP_STATUSES = ("draft", "published", "departed", "arrived", "closed", "cancelled")
SEAT_STATUSES = ("proposed", "assigned", "revoked")


class Plan(db.Model):
    """One planning run over a scope and date range: a draft until published."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    county_code: Mapped[str | None] = mapped_column(ForeignKey("counties.code"))
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id"))
    date_from: Mapped[date]
    date_to: Mapped[date]
    load_factor: Mapped[float] = mapped_column(Numeric(3, 2))
    vehicle_types: Mapped[list] = mapped_column(JSON)
    notice: Mapped[str | None] = mapped_column(Text)  # 防疫须知 for every trip of the plan
    created_by: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    published_at: Mapped[datetime | None]
    # Optimistic version: every change to the draft (move, crew, publish, discard) adds one, and a
    # change made from a stale view names the version it saw and is refused (plan_changed).
    version: Mapped[int] = mapped_column(default=1, server_default="1")


class Convoy(db.Model):
    """Vehicles of one destination and day travelling together (班组), with a leader (班组长)."""

    __tablename__ = "convoys"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    direction: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(64))
    destination: Mapped[str] = mapped_column(String(64))
    departure_date: Mapped[date]
    leader_worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))


class Trip(db.Model):
    """One vehicle's journey and its plan (一车一方案): route, crew, captain, notice."""

    __tablename__ = "trips"
    __table_args__ = (Index("ix_trips_scope", "county_code", "departure_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    convoy_id: Mapped[int] = mapped_column(ForeignKey("convoys.id"), index=True)
    county_code: Mapped[str | None] = mapped_column(ForeignKey("counties.code"))
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id"))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    direction: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(64))
    destination: Mapped[str] = mapped_column(String(64))
    departure_date: Mapped[date]
    departure_time: Mapped[time]
    departure_place: Mapped[str | None] = mapped_column(String(255))
    route: Mapped[str | None] = mapped_column(String(255))
    vehicle_type: Mapped[str] = mapped_column(String(32))
    seats: Mapped[int]
    capacity: Mapped[int]
    plate: Mapped[str | None] = mapped_column(String(16))
    driver_name: Mapped[str | None] = mapped_column(String(50))
    driver_phone_cipher: Mapped[bytes | None] = mapped_column(LargeBinary(128))
    driver_phone_mask: Mapped[str | None] = mapped_column(String(16))
    responsible_name: Mapped[str | None] = mapped_column(String(50))  # 跟车负责人
    responsible_phone_cipher: Mapped[bytes | None] = mapped_column(LargeBinary(128))
    responsible_phone_mask: Mapped[str | None] = mapped_column(String(16))
    medic_name: Mapped[str | None] = mapped_column(String(50))  # 医务人员
    medic_phone_cipher: Mapped[bytes | None] = mapped_column(LargeBinary(128))
    medic_phone_mask: Mapped[str | None] = mapped_column(String(16))
    captain_worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))
    vice_captain_worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))
    notice: Mapped[str | None] = mapped_column(Text)
    arrival_checkpoint_id: Mapped[int | None] = mapped_column(ForeignKey("checkpoints.id"))
    expected_arrival_at: Mapped[datetime | None]  # UTC
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Seat(db.Model):
    """A passenger's place on a trip; its id is the credential serial printed in the QR."""

    __tablename__ = "seats"
    __table_args__ = (Index("ix_seats_trip", "trip_id", "status"), Index("ix_seats_worker", "worker_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("trips.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    seat_no: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    # application_id while the seat is proposed or assigned, else NULL: one live seat per application.
    live_application_id: Mapped[int | None] = mapped_column(unique=True)
    issued_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    @property
    def serial(self):
        """The credential serial of this seat."""
        return self.id


REVOCATION_KINDS = ("trip", "certificate")


class Revocation(db.Model):
    """A revoked serial, of a trip credential (seat) or a health certificate; the id is the cursor scanners sync from."""

    __tablename__ = "revocations"
    __table_args__ = (UniqueConstraint("kind", "serial", name="uq_revocations_kind_serial"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="trip", server_default="trip")
    serial: Mapped[int]
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(String(32))


def counted_seats(statement):
    """Restrict a statement over Seat to the seats that count in a trip's manifest, roster and dashboard.

    A seat counts while assigned, or once revoked as a no-show when its trip closed; a seat
    revoked for another reason (re-issued, cancelled) does not.
    """
    no_show = Revocation.__table__.alias("no_show_revocation")
    return (statement.outerjoin(no_show, and_(no_show.c.serial == Seat.id, no_show.c.kind == "trip",
                                              no_show.c.reason == "no_show"))
            .where(or_(Seat.status == "assigned", no_show.c.id.is_not(None))))


KEY_PURPOSES = ("trip", "certificate", "root")


class SigningKey(db.Model):
    """An Ed25519 key; the private half is stored only encrypted.

    `purpose` says what it signs: "trip" credentials (and offline bundles), health "certificate"s
    (健康证明), or the deployment's published trust list ("root", whose fingerprint partners pin).
    """

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(8), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16), default="trip", server_default="trip")
    algorithm: Mapped[str] = mapped_column(String(16), default="Ed25519")
    public_key: Mapped[bytes] = mapped_column(LargeBinary(64))
    private_key_cipher: Mapped[bytes] = mapped_column(LargeBinary(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    valid_from: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]
