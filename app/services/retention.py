"""Retention: personal data is kept for RETENTION_DAYS, then erased (`flask purge-expired`)."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select

from app.extensions import db
from app.models import Application, AuthToken, HealthEvent, Worker
from app.models.application import ACTIVE_STATUSES
from app.models.base import utcnow

_PERSONAL_FIELDS = (
    "name", "id_number_cipher", "id_number_index", "id_number_mask", "gender", "birth_date",
    "mobile_cipher", "mobile_index", "mobile_mask", "hometown_county", "hometown_township",
    "current_address", "skills", "job_intention", "employer_id", "employer_name",
    "session_key_cipher", "consent_version", "consent_at",
)


def purge_expired(dry_run=False):
    """Delete old health events, closed applications and expired tokens; erase idle workers.

    A worker is idle when neither a login nor a profile change happened within the
    retention period and no application of theirs remains. Returns counts per kind.
    """
    cutoff = utcnow() - timedelta(days=current_app.config["RETENTION_DAYS"])
    conditions = {
        HealthEvent: HealthEvent.occurred_at < cutoff,
        Application: (Application.updated_at < cutoff) & Application.status.not_in(ACTIVE_STATUSES),
        AuthToken: or_(AuthToken.expires_at < utcnow(), AuthToken.revoked_at < cutoff),
    }
    has_application = select(Application.id).where(Application.worker_id == Worker.id).exists()
    last_seen = func.coalesce(Worker.last_login_at, Worker.updated_at)
    idle_workers = select(Worker).where(
        Worker.updated_at < cutoff, last_seen < cutoff, Worker.consent_version.is_not(None), ~has_application
    )
    counts = {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model).where(condition))
        for model, condition in conditions.items()
    }
    if dry_run:
        counts["workers"] = db.session.scalar(select(func.count()).select_from(idle_workers.subquery()))
        return counts
    for model, condition in conditions.items():
        db.session.execute(delete(model).where(condition))
    # Evaluated after the deletes, so a worker whose last application just went is erased too.
    erased = 0
    for worker in db.session.scalars(idle_workers):
        for name in _PERSONAL_FIELDS:
            setattr(worker, name, None)
        erased += 1
    counts["workers"] = erased
    db.session.commit()
    return counts
