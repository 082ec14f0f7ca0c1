"""Messages to workers and staff (消息): the outbox the sender drains, and the one-time grants it spends.

A message row is both the in-app inbox entry (read / unread) and, when its recipient gave WeChat's
one-time consent for its template, the outbox entry a sender delivers as a subscribe message
(订阅消息). It is written in the same transaction as the event that causes it.
"""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow

# inbox: readable in the app only (no grant, a staff alert, WeChat not configured); queued: to send at
# next_attempt_at; sending: claimed by a sender until claimed_until; sent; failed: the dead-letter list.
DELIVERIES = ("inbox", "queued", "sending", "sent", "failed")
RECIPIENTS = ("worker", "staff")


class Message(db.Model):
    """One message to one worker or one staff member, with its WeChat delivery state."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_due", "delivery", "next_attempt_at"),
        Index("ix_messages_worker", "worker_id", "id"),
        Index("ix_messages_staff", "staff_user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_kind: Mapped[str] = mapped_column(String(8))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    template: Mapped[str] = mapped_column(String(32))
    # Set for events a scheduler may find twice (reminders, clearance): a second enqueue is a no-op.
    dedupe_key: Mapped[str | None] = mapped_column(String(96), unique=True)
    title: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(String(500))
    data: Mapped[dict] = mapped_column(JSON)
    page: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    delivery: Mapped[str] = mapped_column(String(8), default="inbox")
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("subscription_grants.id"))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    errcode: Mapped[int | None]
    # Why a failed message failed: no_grant (43101), bad_data (47003), invalid_openid, gave_up, …
    failure: Mapped[str | None] = mapped_column(String(24))
    last_error: Mapped[str | None] = mapped_column(String(255))


class SubscriptionGrant(db.Model):
    """One "accept" a worker gave in wx.requestSubscribeMessage: good for one message of that template."""

    __tablename__ = "subscription_grants"
    __table_args__ = (Index("ix_subscription_grants_unused", "worker_id", "template", "used_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"))
    template: Mapped[str] = mapped_column(String(32))
    template_id: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]
