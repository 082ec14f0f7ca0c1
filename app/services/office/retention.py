"""Retention: personal data is kept for RETENTION_DAYS, then erased (`flask purge-expired`)."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, false, func, null, or_, select, update

from app.extensions import db
from app.models import (
    Application,
    AuthToken,
    ContentCheck,
    HealthCertificate,
    HealthEvent,
    IsolationOrder,
    Message,
    RosterEntry,
    ScanEvent,
    Seat,
    SubscriptionGrant,
    VacancyInterest,
    Worker,
)
from app.models.application import ACTIVE_STATUSES
from app.models.base import utcnow
from app.services.people import content_security

# Erased from an idle worker's row; the openid too: one who comes back is a new worker, not this row reattached.
_PERSONAL_FIELDS = (
    "openid", "name", "id_number_cipher", "id_number_index", "id_number_mask", "gender", "birth_date_cipher",
    "mobile_cipher", "mobile_index", "mobile_mask", "mobile_verified_at", "hometown_county", "hometown_township",
    "current_address", "skills", "job_intention", "employer_id", "employer_name",
    "session_key_cipher", "consent_version", "consent_at",
)


def purge_expired(dry_run=False):
    """Erase what is past the retention period and commit; returns counts per kind.

    - closed applications (rejected, travelled, cancelled) untouched for RETENTION_DAYS; one that
      any seat refers to stays (seats keep the trips' history), emptied of its addresses, the
      employer's contact phone and the reason given for its status;
    - expired or long-revoked tokens;
    - idle workers (no login or profile change within the period, no application left, no
      isolation order still open, no recent roster registration, and consent given or
      registered by an employer): their personal fields and WeChat openid, and their whole
      health record, with the isolation orders, roster entries and vacancy interests that hang
      on it. A record is never cut piecemeal, since the current status is derived from all of it.
      Their health certificates go too (salted ID hash, last four, masked name, health basis); the
      revocation rows stay, so partners keep refusing a revoked serial. A worker holding a
      certificate still valid is not idle: it is in use, and its revocation must stay published.
      Their scans stay as the trips' history, emptied of temperature, symptoms, location and the
      stored answer (masked name, ID last four, health status); what stays (kind, times, seat,
      verdict and its reason) belongs to a row that no longer says who it was. Their messages and
      subscription grants go with them;
    - the content checks (内容审核) of those workers and of the purged applications: they quote the texts;
    - messages (to workers and staff) older than the period, the used grants no message refers to any more,
      and unused grants given for a template id since replaced in WECHAT_TEMPLATES (they can never be spent);
    - content checks done with for the period: handled by staff, passed, or whose text was since replaced
      (each quotes a worker's text, which is kept no longer than the data it came from).
    """
    cutoff = utcnow() - timedelta(days=current_app.config["RETENTION_DAYS"])
    counts = _expire_applications(cutoff, dry_run)
    dead_tokens = or_(AuthToken.expires_at < utcnow(), AuthToken.revoked_at < cutoff)
    counts["auth_tokens"] = _count(AuthToken, dead_tokens)
    if not dry_run:
        db.session.execute(delete(AuthToken).where(dead_tokens))
    counts.update(_erase_idle_workers(cutoff, dry_run))
    counts.update(_expire_messages(cutoff, dry_run))
    counts["content_checks"] = _expire_content_checks(cutoff, dry_run)
    if not dry_run:
        db.session.commit()
    return counts


def _closed(cutoff):
    return (Application.updated_at < cutoff) & Application.status.not_in(ACTIVE_STATUSES)


def _expire_applications(cutoff, dry_run):
    closed = _closed(cutoff)
    seated = select(Seat.id).where(Seat.application_id == Application.id).exists()  # seats refer to it
    # An emptied application has "" for its required destination address: not counted again in a later run.
    counts = {"applications": _count(Application, closed & ~seated),
              "applications_emptied": _count(Application, closed & seated & (Application.destination_address != ""))}
    if not dry_run:
        # The checked texts of those applications go with them (they quote the addresses).
        db.session.execute(delete(ContentCheck).where(ContentCheck.application_id.in_(
            select(Application.id).where(closed))))
        db.session.execute(delete(Application).where(closed & ~seated))
        # updated_at kept: an emptied application stays closed and old, so its worker can still be erased.
        db.session.execute(update(Application).where(closed & seated).values(
            origin_address=None, destination_address="", employer_contact_cipher=None, employer_contact_mask=None,
            status_reason=None, updated_at=Application.updated_at))
    return counts


def _erase_idle_workers(cutoff, dry_run):
    # Applications purged in this run do not count, so a worker whose last one goes is erased too.
    has_application = select(Application.id).where(Application.worker_id == Worker.id, ~_closed(cutoff)).exists()
    last_seen = func.coalesce(Worker.last_login_at, Worker.updated_at)
    open_order = select(IsolationOrder.id).where(IsolationOrder.worker_id == Worker.id,
                                                 IsolationOrder.status.in_(("pending", "active"))).exists()
    # A recent registration on an enterprise's roster (零散返岗) is a recent use of the data too.
    on_roster = select(RosterEntry.id).where(RosterEntry.worker_id == Worker.id, RosterEntry.created_at >= cutoff)
    # The published list names a revoked serial only while its certificate row says it is still valid.
    live_certificate = select(HealthCertificate.id).where(HealthCertificate.worker_id == Worker.id,
                                                          HealthCertificate.valid_until >= utcnow())
    idle = ((Worker.updated_at < cutoff) & (last_seen < cutoff) & ~has_application & ~open_order
            & ~on_roster.exists() & ~live_certificate.exists())
    # Someone who logged in and never consented still left an openid and a session key; someone
    # HR registered never logged in at all, their employer gave their data; nor did someone a
    # checkpoint registered from another city's health certificate and their ID card (互认).
    idle &= or_(Worker.consent_version.is_not(None), Worker.session_key_cipher.is_not(None),
                Worker.registered_by.is_not(None) & Worker.id_number_cipher.is_not(None),
                Worker.registered_checkpoint_id.is_not(None) & Worker.id_number_cipher.is_not(None))
    idle_ids = db.session.scalars(select(Worker.id).where(idle)).all()
    if not idle_ids:
        return {"workers": 0, "health_events": 0, "health_certificates": 0, "scan_events": 0}
    counts = {"workers": len(idle_ids), "health_events": _count(HealthEvent, HealthEvent.worker_id.in_(idle_ids)),
              "health_certificates": _count(HealthCertificate, HealthCertificate.worker_id.in_(idle_ids)),
              "scan_events": _count(ScanEvent, ScanEvent.worker_id.in_(idle_ids))}
    if not dry_run:
        # Orders point at health events, and messages at the grants they spent, so they go first.
        for model in (Message, SubscriptionGrant, IsolationOrder, RosterEntry, VacancyInterest, HealthEvent,
                      HealthCertificate, ContentCheck):
            db.session.execute(delete(model).where(model.worker_id.in_(idle_ids)))
        db.session.execute(update(ScanEvent).where(ScanEvent.worker_id.in_(idle_ids))
                           .values(temperature=None, symptoms=null(), location=None, answer={}))
        db.session.execute(update(Worker).where(Worker.id.in_(idle_ids)).values(dict.fromkeys(_PERSONAL_FIELDS)))
    return counts


def _expire_messages(cutoff, dry_run):
    """Messages older than the period, then the used grants no message refers to (a spent consent says nothing)."""
    old = Message.created_at < cutoff
    spent_by = select(Message.grant_id).where(Message.grant_id.is_not(None), ~old)
    spent = SubscriptionGrant.used_at.is_not(None) & (SubscriptionGrant.used_at < cutoff) & \
        SubscriptionGrant.id.not_in(spent_by)
    # Only for a template whose id is configured: an id left out of the config may come back.
    stale = SubscriptionGrant.used_at.is_(None) & or_(false(), *[
        (SubscriptionGrant.template == key) & (SubscriptionGrant.template_id != template_id)
        for key, template_id in (current_app.config.get("WECHAT_TEMPLATES") or {}).items() if template_id])
    counts = {"messages": _count(Message, old),
              "subscription_grants": _count(SubscriptionGrant, spent) + _count(SubscriptionGrant, stale)}
    if not dry_run:
        db.session.execute(delete(Message).where(old))
        db.session.execute(delete(SubscriptionGrant).where(spent | stale))
    return counts


def _expire_content_checks(cutoff, dry_run):
    """Flags older than the period that are done with: handled, passed, or whose text was replaced since.

    An unhandled review or risky flag whose text is still stored stays: staff have yet to look at it.
    """
    done = (ContentCheck.created_at < cutoff) & or_(ContentCheck.handled_at.is_not(None),
                                                     ContentCheck.status == "pass")
    ids = set(db.session.scalars(select(ContentCheck.id).where(done)))
    open_old = db.session.scalars(select(ContentCheck).where(ContentCheck.created_at < cutoff,
                                                             ContentCheck.handled_at.is_(None),
                                                             ContentCheck.status != "pass")).all()
    ids.update(flag.id for flag in open_old if content_security.current_text(flag) != flag.content)
    if ids and not dry_run:
        for start in range(0, len(ids), 500):
            db.session.execute(delete(ContentCheck).where(ContentCheck.id.in_(sorted(ids)[start:start + 500])))
    return len(ids)


def _count(model, condition):
    return db.session.scalar(select(func.count()).select_from(model).where(condition))
