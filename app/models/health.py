"""The shared health record: one append-only event per observation (健康档案)."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow

EVENT_KINDS = (
    "declaration",  # 健康申报 by the worker
    "pre_trip_check",  # 行前体温检测
    "boarding",  # 上车扫码
    "arrival",  # 到达扫码
    "checkpoint",  # 卡口检查
    "follow_up",  # 企业随访
    "isolation_start",
    "isolation_end",
    "clearance",  # 方可上岗
)


class HealthEvent(db.Model):
    """One observation of a worker's health; status is derived from these, never stored over."""

    __tablename__ = "health_events"
    __table_args__ = (Index("ix_health_events_worker_time", "worker_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"))
    kind: Mapped[str] = mapped_column(String(24))
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    temperature: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    symptoms: Mapped[list | None] = mapped_column(JSON)
    contact_with_case: Mapped[bool | None]
    places: Mapped[list | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(255))
    actor_kind: Mapped[str] = mapped_column(String(16))  # worker | staff | captain | system
    actor_id: Mapped[int | None]
    location: Mapped[str | None] = mapped_column(String(128))
    scan_event_id: Mapped[int | None] = mapped_column(ForeignKey("scan_events.id"))
