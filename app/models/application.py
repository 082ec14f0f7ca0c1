"""Travel applications (出行报名): a worker asks to be carried out of or back to Yinchuan."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.errors import Conflict
from app.extensions import db
from app.models.base import utcnow

DIRECTIONS = ("outbound", "inbound")  # 外出务工 / 返岗来银
STATUSES = ("submitted", "approved", "rejected", "assigned", "travelled", "cancelled")
ACTIVE_STATUSES = ("submitted", "approved", "assigned")
# Which status may follow which; anything else is a conflict.
TRANSITIONS = {
    "submitted": {"approved", "rejected", "cancelled"},
    # approved → travelled only undoes a no-show: closing a trip sends those with no boarding back to
    # approved, and an offline upload may then show one boarded before the close (no_shows.travelled_after_all).
    "approved": {"assigned", "travelled", "rejected", "cancelled"},
    "assigned": {"travelled", "approved", "cancelled"},
    "rejected": set(),
    "travelled": set(),
    "cancelled": set(),
}


class Application(db.Model):
    """One request to travel, handled by the Yinchuan county in `county_code`."""

    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_worker", "worker_id", "status"),
        Index("ix_applications_county", "county_code", "status", "earliest_departure"),
        Index("ix_applications_created", "county_code", "created_at", "status", "direction"),  # the dashboard
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"))
    direction: Mapped[str] = mapped_column(String(16))
    county_code: Mapped[str] = mapped_column(ForeignKey("counties.code"))
    origin: Mapped[str] = mapped_column(String(64))
    origin_address: Mapped[str | None] = mapped_column(String(255))
    destination_city: Mapped[str] = mapped_column(String(64))
    destination_address: Mapped[str] = mapped_column(String(255))
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    employer_name: Mapped[str | None] = mapped_column(String(128))
    # The employer's contact phone, encrypted like every phone number.
    employer_contact_cipher: Mapped[bytes | None] = mapped_column(LargeBinary(128))
    employer_contact_mask: Mapped[str | None] = mapped_column(String(16))
    earliest_departure: Mapped[date]
    latest_departure: Mapped[date]
    volunteer_captain: Mapped[bool] = mapped_column(default=False)  # willing to be 车长
    status: Mapped[str] = mapped_column(String(16))  # set through move_to, starting at "submitted"
    # worker_id while the application is active, else NULL: the unique index lets a worker
    # hold one active application at a time, enforced by the database even under races.
    active_worker_id: Mapped[int | None] = mapped_column(unique=True)
    status_reason: Mapped[str | None] = mapped_column(String(255))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def can_become(self, status):
        """Whether the state machine allows moving from the current status to `status`."""
        return status in TRANSITIONS[self.status]

    def move_to(self, status, reason=None):
        """Change status by the state machine, keeping the active-application guard in step.

        Raises Conflict when the transition is not allowed; a new application starts as submitted.
        """
        if self.status is not None and not self.can_become(status):
            raise Conflict("application_status_conflict", "该报名当前状态不允许此操作")
        self.status = status
        self.status_reason = reason
        self.active_worker_id = self.worker_id if status in ACTIVE_STATUSES else None
