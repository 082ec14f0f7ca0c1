"""Retention: personal data older than RETENTION_DAYS is erased; recent data is kept."""
from datetime import timedelta

from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Application, AuthToken, HealthEvent, Worker
from app.models.base import utcnow
from app.services.retention import purge_expired
from tests.builders import application, make_worker


def _age_everything(days):
    past = utcnow() - timedelta(days=days)
    db.session.execute(update(HealthEvent).values(occurred_at=past))
    db.session.execute(update(Application).values(updated_at=past))
    db.session.execute(update(Worker).values(updated_at=past, last_login_at=past))
    db.session.execute(update(AuthToken).values(expires_at=past))
    db.session.commit()


def test_old_closed_records_are_purged_and_idle_workers_erased(client, app):
    headers = make_worker(client)
    created = client.post("/api/mp/v1/applications", json=application(), headers=headers).json
    client.post(f"/api/mp/v1/applications/{created['id']}/cancel", headers=headers)
    _age_everything(app.config["RETENTION_DAYS"] + 1)
    preview = purge_expired(dry_run=True)
    assert preview["health_events"] == 1 and preview["applications"] == 1
    assert db.session.scalar(select(func.count()).select_from(HealthEvent)) == 1  # dry run changed nothing
    counts = purge_expired()
    assert counts == {"health_events": 1, "applications": 1, "auth_tokens": 1, "workers": 1}
    worker = db.session.scalar(select(Worker))
    assert worker.id_number_cipher is None and worker.mobile_cipher is None and worker.name is None
    assert worker.consent_version is None


def test_recent_or_active_records_are_kept(client, app):
    headers = make_worker(client)
    client.post("/api/mp/v1/applications", json=application(), headers=headers)
    _age_everything(app.config["RETENTION_DAYS"] + 1)
    counts = purge_expired()
    assert counts["applications"] == 0 and counts["workers"] == 0  # the application is still active
    assert db.session.scalar(select(Worker.id_number_cipher)) is not None


def test_purge_command(app):
    result = app.test_cli_runner().invoke(args=["purge-expired", "--dry-run"])
    assert result.exit_code == 0 and result.output.startswith("would purge:")



def test_returnees_registered_by_hr_are_erased_too_unless_registered_recently(client, app):
    from app.models import RosterEntry
    from tests.builders import profile
    from tests.console.roster_helpers import hr, register

    headers, enterprise_id = hr(client)
    old = register(client, headers, enterprise_id, n=0)["worker_id"]
    make_worker(client, "idle", n=3)
    recent = register(client, headers, enterprise_id, n=1, id_number=profile(3)["id_number"])["worker_id"]
    _age_everything(app.config["RETENTION_DAYS"] + 1)
    long_ago = utcnow() - timedelta(days=app.config["RETENTION_DAYS"] + 1)
    db.session.execute(update(RosterEntry).where(RosterEntry.worker_id == old).values(created_at=long_ago))
    db.session.commit()
    assert purge_expired()["workers"] == 1
    erased, kept = db.session.get(Worker, old), db.session.get(Worker, recent)
    assert erased.id_number_cipher is None and erased.name is None and kept.id_number_cipher is not None
    assert db.session.scalars(select(RosterEntry.worker_id)).all() == [recent]
    assert purge_expired()["workers"] == 0  # an erased worker is not erased again
