"""Writing messages (消息发件箱): called inside the transaction of the event that causes them.

`to_worker` adds the message to the worker's in-app inbox and, when the worker holds an unused
one-time grant for its template (and WeChat and the template are configured), spends that grant and
queues the message for a sender (`flask notify run`). It never commits: the caller's commit writes
the event and its message together, and a rollback drops both.
"""
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Message, StaffUser, SubscriptionGrant, Worker
from app.models.base import utcnow
from app.services.messaging import templates


def to_worker(worker_id, key, values, dedupe_key=None, title=None):
    """Write template `key`'s message to a worker; queue it for WeChat if a grant allows.

    With a `dedupe_key` already used the call does nothing and returns the earlier message (None when
    another transaction wrote it a moment ago). The caller commits. Returns the Message (flushed only
    when it was queued or deduped).
    """
    if dedupe_key is not None:
        earlier = by_dedupe_key(dedupe_key)
        if earlier is not None:
            return earlier
    rendered = templates.render(key, values, title=title)
    message = Message(recipient_kind="worker", worker_id=worker_id, template=key, dedupe_key=dedupe_key,
                      title=rendered.title, body=rendered.body, data=rendered.data, page=rendered.page,
                      delivery="inbox", attempts=0)
    return _add(message, worker_id, key)


def _add(message, grant_worker_id, key):
    """Add a message, spending a grant to queue it; a deduped one inside a savepoint, so a race loses nothing.

    Two requests writing one dedupe key at once (two scans of one arrival): the second's INSERT fails
    on the unique key. Only its savepoint is rolled back (and the grant it spent with it): the message
    was already written, and the caller's event still commits.
    """
    if message.dedupe_key is None:
        _queue(message, grant_worker_id, key)
        db.session.add(message)
        return message
    savepoint = db.session.begin_nested()  # flushes the caller's pending rows first: their errors stay theirs
    try:
        _queue(message, grant_worker_id, key)
        db.session.add(message)
        db.session.flush()
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        return by_dedupe_key(message.dedupe_key)
    return message


def _queue(message, grant_worker_id, key):
    grant_id = spend_grant(grant_worker_id, key) if grant_worker_id is not None else None
    if grant_id is not None:
        message.worker_id, message.grant_id = grant_worker_id, grant_id
        message.delivery, message.next_attempt_at = "queued", utcnow()


def to_staff(staff_ids, subject, note, at=None, kind=None, dedupe_key=None):
    """Write a staff alert (待办提醒) to each of these staff members' console notification lists.

    A staff member who linked their mini-program login (员工绑定小程序) and holds an unused "staff_alert"
    grant there also gets it queued as a subscribe message: the message keeps recipient_kind "staff"
    (it is theirs in the console, never in that login's worker inbox) and carries the linked login's
    worker_id, whose openid the sender sends to.
    """
    linked = dict(db.session.execute(select(StaffUser.id, StaffUser.worker_id).where(
        StaffUser.id.in_(staff_ids), StaffUser.worker_id.is_not(None))).all()) if staff_ids else {}
    keys = {staff_id: None if dedupe_key is None else f"{dedupe_key}:s{staff_id}" for staff_id in staff_ids}
    told = existing_keys([key for key in keys.values() if key is not None])
    messages = []
    for staff_id in staff_ids:
        if keys[staff_id] in told:
            continue
        rendered = templates.render("staff_alert", {"subject": subject, "at": at or utcnow(), "note": note},
                                    title=kind)
        message = Message(recipient_kind="staff", staff_user_id=staff_id, template="staff_alert",
                          dedupe_key=keys[staff_id], title=rendered.title, body=rendered.body, data=rendered.data,
                          page=rendered.page, delivery="inbox", attempts=0)
        if _add(message, linked.get(staff_id), "staff_alert") is message:
            messages.append(message)
    return messages


def staff_for(roles, county_code=None):
    """Active staff of these roles who cover a county: county-scoped ones of that county, and unscoped ones."""
    statement = select(StaffUser.id).where(StaffUser.active.is_(True), StaffUser.role.in_(roles))
    if county_code is not None:
        statement = statement.where((StaffUser.county_code == county_code) | StaffUser.county_code.is_(None))
    return db.session.scalars(statement.order_by(StaffUser.id)).all()


def by_dedupe_key(key):
    """The message written with this dedupe key, or None."""
    return db.session.scalar(select(Message).where(Message.dedupe_key == key))


def existing_keys(keys):
    """The dedupe keys among these already written, in queries of 500 (one lookup for a batch of events)."""
    keys, found = list(keys), set()
    for start in range(0, len(keys), 500):
        found.update(db.session.scalars(select(Message.dedupe_key).where(Message.dedupe_key.in_(keys[start:start
                                                                                                      + 500]))))
    return found


def spend_grant(worker_id, key):
    """Mark one unused grant of this worker for this template used; its id, or None when none is left.

    The conditional UPDATE is the claim: two events racing for one grant cannot both spend it (on
    MariaDB the second waits for the first's commit and then finds it used). Without WeChat, without a
    configured template id, or for a worker with no openid (registered by HR), nothing is spent. A grant
    given for another template id (the template was changed in WeChat's console since) is never spent:
    WeChat would refuse the message. Usually two statements (the grants with the openid in one read,
    then the claim): the cost an event pays. Every candidate is tried (at most MAX_UNUSED), so grants
    claimed meanwhile by racing events never hide one still free.
    """
    template_id = templates.template_id(key)
    if current_app.extensions.get("wechat") is None or template_id is None:
        return None
    candidates = db.session.scalars(
        select(SubscriptionGrant.id).join(Worker, Worker.id == SubscriptionGrant.worker_id)
        .where(SubscriptionGrant.worker_id == worker_id, SubscriptionGrant.template == key,
               SubscriptionGrant.template_id == template_id, SubscriptionGrant.used_at.is_(None),
               Worker.openid.is_not(None))
        .order_by(SubscriptionGrant.id)
    ).all()
    now = utcnow()
    for grant_id in candidates:
        claimed = db.session.execute(
            update(SubscriptionGrant).where(SubscriptionGrant.id == grant_id, SubscriptionGrant.used_at.is_(None))
            .values(used_at=now).execution_options(synchronize_session=False)
        ).rowcount
        if claimed:
            return grant_id
    return None
