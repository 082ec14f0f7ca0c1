"""The in-app inbox (站内消息): a worker's messages in the mini-program, a staff member's alerts in the console.

Every query is bound to its recipient (`_own`): a worker reads and marks only rows written to them as a
worker, a staff member only their own alerts, so one id reveals nothing about anyone else's. A staff
alert that also went out through a linked mini-program login carries that worker's id for the sender,
but stays a staff row: it never shows in the worker's inbox.
"""
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Message, StaffUser
from app.models.base import utcnow

MAX_LIMIT = 50  # a cheap phone's page; the client asks for more with `before`
MAX_MARK = 200  # ids marked read in one request


def _own(recipient):
    """The rows that belong to this worker or staff member (and the index each condition uses)."""
    if isinstance(recipient, StaffUser):
        return (Message.staff_user_id == recipient.id, Message.recipient_kind == "staff")
    return (Message.worker_id == recipient.id, Message.recipient_kind == "worker")


def unread_count(recipient):
    """How many of the recipient's messages are unread (one indexed count)."""
    return db.session.scalar(select(func.count()).select_from(Message)
                             .where(*_own(recipient), Message.read_at.is_(None))) or 0


def feed(recipient, unread_only=False, before=None, limit=20):
    """The recipient's messages newest first, by cursor: (messages, id to pass as `before` next, or None).

    Ids only grow, so `before` pages without gaps or repeats while new messages arrive.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    statement = select(Message).where(*_own(recipient))
    if unread_only:
        statement = statement.where(Message.read_at.is_(None))
    if before is not None:
        statement = statement.where(Message.id < before)
    rows = db.session.scalars(statement.order_by(Message.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more else None)


def page_of(recipient, page=1, per_page=20, unread_only=False):
    """One numbered page of the recipient's messages newest first, and how many there are: (messages, total)."""
    statement = select(Message).where(*_own(recipient))
    if unread_only:
        statement = statement.where(Message.read_at.is_(None))
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = db.session.scalars(statement.order_by(Message.id.desc()).offset((page - 1) * per_page)
                              .limit(per_page)).all()
    return rows, total


def mark_read(recipient, ids=None, everything=False):
    """Mark the recipient's messages read (these ids, or all) and commit; returns how many changed.

    Ids of messages that are not the recipient's are left alone and not reported: marking cannot
    probe for other people's messages.
    """
    statement = update(Message).where(*_own(recipient), Message.read_at.is_(None))
    if not everything:
        wanted = sorted({int(i) for i in (ids or ())})[:MAX_MARK]
        if not wanted:
            return 0
        statement = statement.where(Message.id.in_(wanted))
    changed = db.session.execute(statement.values(read_at=utcnow())
                                 .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return changed


def view(message):
    """A message as its recipient reads it (no delivery internals)."""
    return {"id": message.id, "template": message.template, "title": message.title, "body": message.body,
            "page": message.page, "created_at": message.created_at, "read": message.read_at is not None}
