"""Staff who also use the mini-program (员工绑定小程序): linking a console account to a mini-program login.

The console shows its user a one-time 6-digit code valid LINK_CODE_SECONDS; the mini-program, logged
in as that person, sends it back, and the account's `worker_id` becomes that login, so staff alerts
can also reach them as subscribe messages. The code is kept only hashed (HMAC with SECRET_KEY) in the
shared cache, one live code per account, spent by its first use. Guessing is bounded twice: each
attempt is counted before the code is looked at (so parallel guesses cannot all pass one read), per
mini-program login (MAX_WRONG_CODES, cleared by a success) and for everyone (LINK_BUDGET attempts per
LINK_CODE_SECONDS, then linking pauses); when the counters cannot be kept (Redis down) no code is tried.
Either side may unlink (their alerts still queued for that login go back to the console list
only). Audited.
"""
import hashlib
import hmac
import secrets

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, Invalid, NotFound, Unavailable
from app.extensions import db
from app.models import Message, StaffUser, Worker
from app.services.platform import audit, cache

LINK_CODE_SECONDS = 600
MAX_WRONG_CODES = 5  # per mini-program login and LINK_CODE_SECONDS: 5 tries in a million codes
# Attempts by all logins per LINK_CODE_SECONDS: many logins together still try few of a million codes.
LINK_BUDGET = 300


def _digest(code):
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"staff-link:{code}".encode(), hashlib.sha256).hexdigest()


def issue_code(staff):
    """A fresh one-time 6-digit code for this staff member (an earlier live one stops working): {code, expires_in}."""
    earlier = cache.get_bytes(f"staff-link-of:{staff.id}")
    if earlier:
        cache.delete(f"staff-link:{earlier.decode()}")
    code = f"{secrets.randbelow(10**6):06d}"
    while cache.get_bytes(f"staff-link:{_digest(code)}") is not None:  # another account's live code
        code = f"{secrets.randbelow(10**6):06d}"
    digest = _digest(code)
    cache.set_bytes(f"staff-link:{digest}", str(staff.id).encode(), LINK_CODE_SECONDS)
    cache.set_bytes(f"staff-link-of:{staff.id}", digest.encode(), LINK_CODE_SECONDS)
    return {"code": code, "expires_in": LINK_CODE_SECONDS}


def link(worker, code):
    """Link the console account whose code this is to the worker's mini-program login, and commit.

    Raises Invalid link_code_invalid (wrong or expired code), Invalid link_code_attempts (too many
    attempts by this login, or by all logins), Unavailable unavailable (attempts cannot be counted),
    Conflict staff_link_taken (this login is already another account's). Relinking the same account to
    a new login replaces the old link. Returns status_for_worker().
    """
    wrong_key = _count_attempt(worker)
    digest = _digest(code)
    raw = cache.get_bytes(f"staff-link:{digest}")
    staff = db.session.get(StaffUser, int(raw)) if raw else None
    if staff is None or not staff.active:
        raise Invalid("link_code_invalid", "绑定码不正确或已过期，请在控制台重新生成", fields={"code": "绑定码无效"})
    holder = db.session.scalar(select(StaffUser).where(StaffUser.worker_id == worker.id))
    if holder is not None and holder.id != staff.id:
        raise Conflict("staff_link_taken", "该微信已绑定另一个控制台账号，请先在该账号或小程序中解除绑定")
    if staff.worker_id != worker.id:
        audit.record("worker", worker.id, "staff.link_miniprogram", "staff_user", staff.id, worker_id=worker.id,
                     replaced=staff.worker_id is not None)
        staff.worker_id = worker.id
    try:
        db.session.commit()
    except IntegrityError:  # this login was linked to another account a moment ago (staff_users.worker_id unique)
        db.session.rollback()
        raise Conflict("staff_link_taken", "该微信已绑定另一个控制台账号，请先在该账号或小程序中解除绑定") from None
    cache.delete(f"staff-link:{digest}", f"staff-link-of:{staff.id}", wrong_key)
    return status_for_worker(worker)


def _count_attempt(worker):
    """Count one attempt of this login and of everyone before any code is looked at; its counter's key.

    Counting first makes the counter the gate: of many guesses sent at once, only MAX_WRONG_CODES get a
    number at or under the limit.
    """
    wrong_key = f"staff-link-wrong:{worker.id}"
    everyone = cache.incr("staff-link-attempts", LINK_CODE_SECONDS)
    tries = cache.incr(wrong_key, LINK_CODE_SECONDS) if everyone is not None else None
    if everyone is None or tries is None:
        raise Unavailable("unavailable", "暂时无法绑定，请稍后再试")
    if tries > MAX_WRONG_CODES:
        raise Invalid("link_code_attempts", "绑定码错误次数过多，请10分钟后在控制台重新生成绑定码再试")
    if everyone > LINK_BUDGET:
        raise Invalid("link_code_attempts", "绑定尝试过于频繁，小程序绑定已暂停，请10分钟后再试")
    return wrong_key


def unlink_staff(staff):
    """Unlink the staff member's mini-program login (from the console), and commit; NotFound when none."""
    if staff.worker_id is None:
        raise NotFound("staff_link_missing", "当前账号未绑定小程序")
    audit.record("staff", staff.id, "staff.unlink_miniprogram", "staff_user", staff.id, worker_id=staff.worker_id,
                 via="console")
    _unqueue_alerts(staff)
    staff.worker_id = None
    db.session.commit()


def unlink_worker(worker):
    """Unlink the console account this mini-program login is linked to (from the mini-program), and commit."""
    staff = db.session.scalar(select(StaffUser).where(StaffUser.worker_id == worker.id))
    if staff is None:
        raise NotFound("staff_link_missing", "当前微信未绑定控制台账号")
    audit.record("worker", worker.id, "staff.unlink_miniprogram", "staff_user", staff.id, worker_id=worker.id,
                 via="miniprogram")
    _unqueue_alerts(staff)
    staff.worker_id = None
    db.session.commit()


def _unqueue_alerts(staff):
    """The staff member's alerts queued for the login being unlinked stay in their console list only."""
    db.session.execute(
        update(Message).where(Message.recipient_kind == "staff", Message.staff_user_id == staff.id,
                              Message.delivery == "queued")
        .values(delivery="inbox", next_attempt_at=None).execution_options(synchronize_session=False))


def linked_staff(worker):
    """The active console account linked to this mini-program login, or None."""
    return db.session.scalar(select(StaffUser).where(StaffUser.worker_id == worker.id, StaffUser.active.is_(True)))


def status_for_worker(worker):
    """What the mini-program shows: whether this login is linked, and to whom (name and role; the serializer masks)."""
    staff = linked_staff(worker)
    if staff is None:
        return {"linked": False, "staff_name": None, "role": None}
    return {"linked": True, "staff_name": staff.display_name, "role": staff.role}


def status_for_staff(staff):
    """What the console shows: whether this account is linked, and the login's name (the serializer masks it)."""
    if staff.worker_id is None:
        return {"linked": False, "worker_name": None}
    name = db.session.scalar(select(Worker.name).where(Worker.id == staff.worker_id))
    return {"linked": True, "worker_name": name}
