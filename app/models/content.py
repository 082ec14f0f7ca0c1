"""Content checks (内容安全): worker free text WeChat's msgSecCheck judged doubtful, or could not judge yet."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow

# pending: saved, WeChat not reached yet (checked again later); review: WeChat asks for a person to look;
# risky: found risky on a later check (a risky answer at once is refused and never saved); pass: a pending
# text that passed later.
STATUSES = ("pending", "review", "risky", "pass")
OUTCOMES = ("ok", "edited", "contacted")  # 内容无问题 · 已修改 · 已联系本人


class ContentCheck(db.Model):
    """One worker text (a profile field, or a field of one application) and what msgSecCheck said of it.

    `content` keeps the text as it was checked, so staff see what was flagged even after the worker
    changed it; the retention purge deletes these rows with the worker's personal data.
    """

    __tablename__ = "content_checks"
    __table_args__ = (
        Index("ix_content_checks_status", "status", "next_check_at"),
        Index("ix_content_checks_worker", "worker_id", "field"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"))
    # Set for a text of an application; None for one of the worker's profile.
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"))
    field: Mapped[str] = mapped_column(String(32))
    content: Mapped[str] = mapped_column(String(700))
    scene: Mapped[int]
    # The county whose operators are told (the application's, else the worker's); None: the office only.
    county_code: Mapped[str | None] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(8))
    label: Mapped[int | None]
    trace_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    next_check_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_at: Mapped[datetime | None]
    handled_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    handled_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(255))

    @property
    def subject(self):
        """Which text this is: `worker.current_address` or `application:12.destination_address`."""
        if self.application_id is None:
            return f"worker.{self.field}"
        return f"application:{self.application_id}.{self.field}"
