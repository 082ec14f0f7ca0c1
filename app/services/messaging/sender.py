"""The sender (消息发送): drains queued messages to WeChat as subscribe messages (订阅消息).

A pass claims due messages (delivery "queued" and next_attempt_at reached, or "sending" whose
sender's lease ran out), marks them "sending" with this sender's id and a lease, and commits; then
it sends them one by one, each marked right after its own send in its own commit.

Exactly once, nearly: two senders never hold one message (the claim is a row lock with SKIP LOCKED
on MariaDB, a conditional UPDATE on SQLite), and a sender only marks or sends what it still holds.
A sender killed after WeChat accepted a message and before its mark committed leaves that one
message "sending"; when the lease runs out another sender takes it and sends it again. That single
message is the only possible duplicate per killed sender (WeChat's send has no idempotency key).
Messages claimed but not yet sent are sent once, later. While a sender holds a batch a heartbeat
thread renews its lease every third of NOTIFY_LEASE_SECONDS, so even one slow send (token lock wait,
stable_token, the send, a 40001 refetch and the resend, each up to WECHAT_TIMEOUT) cannot outlast it;
before each send the sender checks it still holds the message (a heartbeat that could not reach the
database lets the lease lapse, and then another sender owns it).

Outcomes: ok → "sent"; 43101 (the user's grant is gone), 47003 (bad data) and other refusals of this
message → "failed" with a word, not retried; -1, 45009, 45011, HTTP errors, network errors and
timeouts → "queued" again after NOTIFY_RETRY_SECONDS·2^(attempts-1) (capped, jittered), "failed"
"gave_up" after NOTIFY_MAX_ATTEMPTS. 40001/42001 (token invalid or expired) are retried once by the
client after fetching the token again. A staff alert whose staff member unlinked that mini-program login,
or was deactivated, since it was queued fails as "unlinked" (it stays in their console list).
"""
import logging
import os
import random
import secrets
import socket
import threading
import time
from datetime import timedelta

import requests
from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from wechatpy.exceptions import WeChatClientException

from app.extensions import db
from app.models import Message, StaffUser, SubscriptionGrant, Worker
from app.models.base import utcnow
from app.services.messaging import templates
from app.services.platform import wechat

log = logging.getLogger(__name__)

# errcode → failure word: WeChat refused this message for good; sending it again cannot succeed.
REFUSED = {
    43101: "no_grant",  # the user refused, or the one-time grant was already used
    47003: "bad_data",  # a value breaks its field's rule
    47001: "bad_data",
    40003: "invalid_openid",
    40037: "invalid_template",
    41030: "invalid_page",  # the page is not in the published mini-program
    43107: "no_grant",  # subscription type mismatch: a long-term template without long-term consent
}
# Any other errcode (-1 busy, 45009 daily quota, 45011 per-minute quota, …) is retried after a backoff.
# Quota answers hold for every message: the rest of the batch waits as well.
OUTAGE = (45009, 45011, 45047)
MAX_BACKOFF_SECONDS = 3600
MARK_TRIES = 5
_sender_ids = {}


def sender_id():
    """This process's sender id, host:pid:random (a forked child gets its own)."""
    pid = os.getpid()
    if pid not in _sender_ids:
        _sender_ids[pid] = f"{socket.gethostname()[:40]}:{pid}:{secrets.token_hex(4)}"
    return _sender_ids[pid]


def send_due(limit=None, stop=None):
    """Claim up to `limit` (NOTIFY_BATCH) due messages and send them; {"sent", "retry", "failed", "claimed"}.

    `stop` is asked before each message; once it answers true, the messages not yet sent are given
    back (delivery "queued") for the next sender, and the pass ends.
    """
    counts = {"sent": 0, "retry": 0, "failed": 0, "claimed": 0}
    ids, lease_until = claim(limit or current_app.config["NOTIFY_BATCH"])
    counts["claimed"] = len(ids)
    if not ids:
        return counts
    with _Heartbeat(ids):
        _send_batch(ids, lease_until, counts, stop)
    return counts


def _send_batch(ids, lease_until, counts, stop):
    """Send the claimed messages one by one until done, stopped, or WeChat is out."""
    held, pending = _load(ids), list(ids)
    while pending:
        if stop is not None and stop():
            release(pending)
            break
        lease_until, pending = _keep_lease(lease_until, pending)
        if not pending:
            break
        message = held.get(pending.pop(0))
        if message is None:
            continue  # erased since the claim (retention)
        outcome, outage_until = _send_one(message)
        counts[outcome] += 1
        if outage_until is not None:
            # WeChat is unreachable or out of quota: the rest wait with it instead of each paying a timeout.
            release(pending, later=outage_until)
            break


def claim(limit):
    """Claim up to `limit` due messages for this sender and commit; (their ids, oldest first; lease end)."""
    me, now = sender_id(), utcnow()
    until = now + timedelta(seconds=current_app.config["NOTIFY_LEASE_SECONDS"])
    db.session.rollback()  # start clean: the claim is its own transaction
    if db.engine.dialect.name == "sqlite":
        ids = _claim_by_update(limit, me, now, until)
    else:
        ids = _claim_skip_locked(limit, me, now, until)
    db.session.commit()
    return ids, until


def _due_queued(now):
    return and_(Message.delivery == "queued", Message.next_attempt_at <= now)


def _lease_lapsed(now):
    return and_(Message.delivery == "sending", Message.claimed_until < now)


def _claim_skip_locked(limit, me, now, until):
    """MariaDB: lock due rows no other sender has locked, then mark them ours (READ COMMITTED: no gap locks)."""
    db.session.connection(execution_options={"isolation_level": "READ COMMITTED"})
    # Two statements, each walking ix_messages_due in order, so only the rows taken are read and locked.
    ids = db.session.scalars(
        select(Message.id).where(_due_queued(now)).order_by(Message.next_attempt_at, Message.id)
        .limit(limit).with_for_update(skip_locked=True)
    ).all()
    if len(ids) < limit:
        ids += db.session.scalars(
            select(Message.id).where(_lease_lapsed(now)).order_by(Message.id)
            .limit(limit - len(ids)).with_for_update(skip_locked=True)
        ).all()
    if ids:
        db.session.execute(
            update(Message).where(Message.id.in_(ids))
            .values(delivery="sending", claimed_by=me, claimed_until=until)
            .execution_options(synchronize_session=False)
        )
    return ids


def _claim_by_update(limit, me, now, until):
    """SQLite (no SKIP LOCKED): a conditional UPDATE takes only rows still due; its writer lock serializes senders."""
    candidates = db.session.scalars(
        select(Message.id).where(or_(_due_queued(now), _lease_lapsed(now)))
        .order_by(Message.next_attempt_at, Message.id).limit(limit)
    ).all()
    if not candidates:
        return []
    db.session.execute(
        update(Message).where(Message.id.in_(candidates), or_(_due_queued(now), _lease_lapsed(now)))
        .values(delivery="sending", claimed_by=me, claimed_until=until)
        .execution_options(synchronize_session=False)
    )
    won = set(db.session.scalars(
        select(Message.id).where(Message.id.in_(candidates), Message.claimed_by == me,
                                 Message.claimed_until == until, Message.delivery == "sending")
    ))
    return [message_id for message_id in candidates if message_id in won]


def release(ids, later=None):
    """Give claimed, unsent messages back to the queue (due again at `later`, or when they were due)."""
    if not ids:
        return
    values = {"delivery": "queued", "claimed_by": None, "claimed_until": None}
    if later is not None:
        values["next_attempt_at"] = later
    db.session.execute(
        update(Message).where(*_held(ids)).values(**values).execution_options(synchronize_session=False)
    )
    db.session.commit()


def _held(ids):
    """Rows this sender still holds: it marks or sends nothing another sender took over."""
    ids = ids if isinstance(ids, list | tuple | set) else [ids]
    return (Message.id.in_(ids), Message.claimed_by == sender_id(), Message.delivery == "sending")


def _keep_lease(lease_until, pending):
    """Renew the lease of the messages in hand when it could lapse during the next send; those still held."""
    margin = min(current_app.config["NOTIFY_LEASE_SECONDS"] / 2, 3 * (current_app.config["WECHAT_TIMEOUT"] or 5))
    now = utcnow()
    if (lease_until - now).total_seconds() > margin:
        return lease_until, pending
    until = now + timedelta(seconds=current_app.config["NOTIFY_LEASE_SECONDS"])
    db.session.execute(
        update(Message).where(*_held(pending)).values(claimed_until=until)
        .execution_options(synchronize_session=False)
    )
    held = set(db.session.scalars(select(Message.id).where(*_held(pending))))
    db.session.commit()
    return until, [message_id for message_id in pending if message_id in held]


class _Heartbeat:
    """Renews the lease of the messages this sender still holds, every third of NOTIFY_LEASE_SECONDS, from a thread.

    The main thread may sit in one send far longer than the timeouts suggest (a token lock wait, stable_token,
    the send, after 40001 a refetch and the resend); the lease must not lapse meanwhile, or another sender
    would take the message in hand and send it again.
    """

    def __init__(self, ids):
        self.app, self.ids, self.me = current_app._get_current_object(), list(ids), sender_id()
        self.lease = current_app.config["NOTIFY_LEASE_SECONDS"]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="sender-heartbeat", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join()

    def _run(self):
        with self.app.app_context():
            while not self.stopped.wait(self.lease / 3):
                try:
                    db.session.execute(
                        update(Message).where(Message.id.in_(self.ids), Message.claimed_by == self.me,
                                              Message.delivery == "sending")
                        .values(claimed_until=utcnow() + timedelta(seconds=self.lease))
                        .execution_options(synchronize_session=False))
                    db.session.commit()
                except SQLAlchemyError as error:  # tried again at the next beat; the main thread checks the lease
                    log.warning("sender heartbeat failed: %s", type(error).__name__)
                    db.session.rollback()
            db.session.remove()


class _Held:
    """What a sender needs of a claimed message, read once per batch (no transaction stays open while sending)."""

    __slots__ = ("id", "template", "data", "page", "attempts", "openid", "granted_template_id", "unlinked")

    def __init__(self, message, openid, granted_template_id, unlinked):
        self.id, self.template, self.data = message.id, message.template, message.data
        self.page, self.attempts = message.page, message.attempts
        self.openid, self.granted_template_id, self.unlinked = openid, granted_template_id, unlinked


def _load(ids):
    """{id: _Held} of the claimed messages, with each worker's openid, the template id the grant was for, and
    whether a staff alert's staff member is still active and linked to the login it was queued for."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(Message, Worker.openid, SubscriptionGrant.template_id, StaffUser.worker_id, StaffUser.active)
        .join(Worker, Worker.id == Message.worker_id, isouter=True)
        .join(SubscriptionGrant, SubscriptionGrant.id == Message.grant_id, isouter=True)
        .join(StaffUser, StaffUser.id == Message.staff_user_id, isouter=True)
        .where(Message.id.in_(ids))
    ).all()
    held = {message.id: _Held(message, openid, granted, message.recipient_kind == "staff"
                              and (linked_worker != message.worker_id or not active))
            for message, openid, granted, linked_worker, active in rows}
    db.session.rollback()
    return held


def _send_one(message):
    """Send one held message and mark it in its own commit.

    Returns (outcome: "sent" | "retry" | "failed", when WeChat as a whole may take messages again or None).
    No other sender can have taken it: _keep_lease checked the lease before, the heartbeat renews it during
    the send, and the mark only writes where this sender still holds the row.
    """
    client, template_id = wechat.client(), templates.template_id(message.template)
    unsendable = "unlinked" if message.unlinked else _unsendable(client, template_id,
                                                                   message.granted_template_id, message.openid)
    if unsendable:
        return _mark_failed(message, unsendable, None, "not sent", tried=False), None
    try:
        client.wxa.send_subscribe_message(
            message.openid, template_id, templates.payload(message.data), page=message.page,
            miniprogram_state=current_app.config["WECHAT_MINIPROGRAM_STATE"],
        )
    except WeChatClientException as error:
        return _after_refusal(message, error, message.openid)
    except requests.RequestException as error:
        # Never str(error): a connection error's text holds the URL, and the URL the access token.
        return _retry(message, None, f"network: {type(error).__name__}", outage=True)
    return _mark(message, "sent", "sent", sent_at=utcnow(), errcode=None, failure=None, last_error=None), None


def _unsendable(client, template_id, granted_template_id, openid):
    if client is None:
        return "no_wechat"
    if template_id is None:
        return "no_template"
    if granted_template_id is not None and granted_template_id != template_id:
        return "template_changed"  # the worker accepted the old template; WeChat would refuse (43101)
    if not openid:
        return "no_openid"
    return None


def _after_refusal(message, error, openid):
    errcode = error.errcode
    if errcode in REFUSED:
        return _mark_failed(message, REFUSED[errcode], errcode, _short(error, openid)), None
    if errcode is None:  # an HTTP error status (5xx), or an unreadable answer
        status = getattr(getattr(error, "response", None), "status_code", None)
        return _retry(message, None, f"http {status}", outage=True)
    return _retry(message, errcode, _short(error, openid), outage=errcode in OUTAGE)


def _short(error, openid):
    """errcode and WeChat's message, without the openid (logs and last_error never hold it)."""
    text = f"{error.errcode} {error.errmsg or ''}".strip()
    if openid:
        text = text.replace(openid, "***")
    return text[:200]


def _retry(message, errcode, last_error, outage=False):
    """Queue again after a backoff, or give up after NOTIFY_MAX_ATTEMPTS; (outcome, outage end or None)."""
    attempts = message.attempts + 1
    if attempts >= current_app.config["NOTIFY_MAX_ATTEMPTS"]:
        return _mark_failed(message, "gave_up", errcode, last_error), None
    later = utcnow() + timedelta(seconds=backoff_seconds(attempts))
    log.info("message %s: attempt %s failed (%s), again at %s", message.id, attempts, last_error, later)
    outcome = _mark(message, "queued", "retry", next_attempt_at=later, errcode=errcode, last_error=last_error)
    return outcome, (later if outage else None)


def backoff_seconds(attempts):
    """Seconds before the next attempt after `attempts` failed ones: doubling, capped, ±20 % jitter."""
    base = current_app.config["NOTIFY_RETRY_SECONDS"] * 2 ** max(attempts - 1, 0)
    return min(base, MAX_BACKOFF_SECONDS) * random.uniform(0.8, 1.2)


def _mark_failed(message, failure, errcode, last_error, tried=True):
    log.warning("message %s failed: %s (errcode %s)", message.id, failure, errcode)
    return _mark(message, "failed", "failed", attempts=message.attempts + tried, failure=failure, errcode=errcode,
                 last_error=last_error)


def _mark(message, delivery, outcome, **values):
    """Record the outcome where this sender still holds the message, and commit at once.

    A lock conflict (MariaDB deadlock, Galera certification, SQLite busy) is tried again: a mark lost
    after WeChat took the message would leave it to be sent a second time.
    """
    values.setdefault("attempts", message.attempts + 1)
    statement = (update(Message).where(*_held(message.id))
                 .values(delivery=delivery, claimed_by=None, claimed_until=None, **values)
                 .execution_options(synchronize_session=False))
    for attempt in range(MARK_TRIES):
        try:
            db.session.execute(statement)
            db.session.commit()
            return outcome
        except OperationalError:
            db.session.rollback()
            if attempt == MARK_TRIES - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    return outcome

