"""Retention: personal data older than RETENTION_DAYS is erased; recent data is kept."""
from datetime import timedelta

from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Application, AuthToken, HealthEvent, Worker
from app.models.base import utcnow
from app.services.office.retention import purge_expired
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
    assert counts == {"health_events": 1, "applications": 1, "applications_emptied": 0, "auth_tokens": 1,
                      "workers": 1, "health_certificates": 0, "scan_events": 0, "messages": 0,
                      "subscription_grants": 0, "content_checks": 0}
    worker = db.session.scalar(select(Worker))
    assert worker.id_number_cipher is None and worker.mobile_cipher is None and worker.name is None
    assert worker.consent_version is None and worker.openid is None
    again = client.post("/api/mp/v1/session", json={"code": "dev:zhangsan"})  # the same WeChat user comes back
    assert again.status_code == 201 and db.session.scalar(select(func.count()).select_from(Worker)) == 2


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


def _registered_returnee(status):
    """A worker HR registered (零散返岗), with a roster entry, a health event and an isolation order."""
    from datetime import date

    from app.models import Enterprise, IsolationOrder, RosterEntry, StaffUser

    enterprise = db.session.scalar(select(Enterprise))
    clerk = StaffUser(username=f"hr-{status}", password_hash="x", display_name="HR", role="enterprise_hr",
                      enterprise_id=enterprise.id)
    worker = Worker(name="王五", id_number_cipher=b"sealed", id_number_mask="640104********1234",
                    registered_by=enterprise.id)
    db.session.add_all([clerk, worker])
    db.session.flush()
    event = HealthEvent(worker_id=worker.id, kind="follow_up", occurred_at=utcnow(), actor_kind="staff",
                        temperature=38)
    db.session.add_all([event, RosterEntry(enterprise_id=enterprise.id, worker_id=worker.id, origin="甘肃",
                                           arrival_date=date(2020, 2, 20), transport="train",
                                           registered_by=clerk.id, created_at=utcnow() - timedelta(days=3650))])
    db.session.flush()
    db.session.add(IsolationOrder(worker_id=worker.id, status=status, reason="fever", health_event_id=event.id))
    db.session.commit()
    return worker.id


def test_workers_registered_by_an_employer_are_erased_with_their_orders_and_roster(app):
    from app.models import IsolationOrder, RosterEntry

    released = _registered_returnee("released")
    still_isolated = _registered_returnee("active")
    _age_everything(app.config["RETENTION_DAYS"] + 1)
    counts = purge_expired()
    assert counts["workers"] == 1 and counts["health_events"] == 1
    assert db.session.get(Worker, released).name is None
    assert db.session.get(Worker, still_isolated).name == "王五"  # an open order keeps the record
    assert db.session.scalars(select(IsolationOrder.worker_id)).all() == [still_isolated]
    assert db.session.scalars(select(RosterEntry.worker_id)).all() == [still_isolated]


def test_returnees_registered_by_hr_are_erased_too_unless_registered_recently(client, app):
    from app.models import RosterEntry
    from tests.builders import profile
    from tests.console.roster_helpers import hr, register

    headers, enterprise_id = hr(client)
    old = register(client, headers, enterprise_id, n=0)["worker_id"]
    make_worker(client, "idle", n=3)
    recent = register(client, headers, enterprise_id, n=1, id_number=profile(3)["id_number"],
                      name=profile(3)["name"])["worker_id"]
    _age_everything(app.config["RETENTION_DAYS"] + 1)
    long_ago = utcnow() - timedelta(days=app.config["RETENTION_DAYS"] + 1)
    db.session.execute(update(RosterEntry).where(RosterEntry.worker_id == old).values(created_at=long_ago))
    db.session.commit()
    assert purge_expired()["workers"] == 1
    erased, kept = db.session.get(Worker, old), db.session.get(Worker, recent)
    assert erased.id_number_cipher is None and erased.name is None and kept.id_number_cipher is not None
    assert db.session.scalars(select(RosterEntry.worker_id)).all() == [recent]
    assert purge_expired()["workers"] == 0  # an erased worker is not erased again


def test_an_erased_passengers_trip_stays_without_their_health_or_addresses(client, app):
    from app.models import IsolationOrder, ScanEvent, Trip
    from app.services.scanning import manifests
    from tests.builders import publish_trip, qr_of, scan_body

    trip = publish_trip(client, passengers=3)
    trip_id = trip["trip"]["id"]
    crew = {trip["captain"]["worker_id"], trip["vice"]["worker_id"]}
    rider = next(rider for rider in trip["riders"] if rider["worker_id"] not in crew)
    qr = qr_of(client, rider, trip_id)
    scanned = client.post("/api/checkin/v1/scans", json=scan_body(qr, temperature=38.1, symptoms=["cough"],
                                                                   location="永宁县汽车站"),
                          headers=trip["captain"]["headers"])
    assert scanned.json["verdict"] == "isolate"
    # Long ago: the trip is over, the order released, everyone travelled.
    db.session.execute(update(IsolationOrder).values(status="released"))
    for application_id in (rider["application_id"] for rider in trip["riders"]):
        db.session.get(Application, application_id).status = "travelled"
    db.session.commit()
    _age_everything(app.config["RETENTION_DAYS"] + 1)

    counts = purge_expired()

    assert (counts["scan_events"], counts["applications_emptied"], counts["applications"]) == (1, 3, 0)
    kept = db.session.get(Application, rider["application_id"])  # the seat refers to it
    assert (kept.destination_address, kept.employer_contact_cipher, kept.status) == ("", None, "travelled")
    assert purge_expired(dry_run=True)["applications_emptied"] == 0  # emptied once, not counted again
    scan = db.session.scalar(select(ScanEvent).where(ScanEvent.worker_id == rider["worker_id"]))
    assert (scan.temperature, scan.symptoms, scan.location, scan.answer) == (None, None, None, {})
    assert (scan.kind, scan.verdict, scan.reason, scan.seat_id is not None) == ("board", "isolate", "fever", True)
    assert db.session.get(Worker, rider["worker_id"]).name is None
    counted = manifests.manifest(db.session.get(Trip, trip_id))["counts"]
    assert counted["isolated"] == 1  # the trip's history still shows who boarded


def test_an_erased_workers_certificates_go_their_revocations_stay(client, app):
    """Issue 14: a certificate row holds a salted ID hash, the last four, the masked name and health data."""
    from app.models import HealthCertificate, Revocation
    from app.services.credentials import certificates, signing

    signing.ensure_key("certificate")
    make_worker(client, "idle", n=1)
    make_worker(client, "holder", n=2)
    idle, holder = db.session.scalars(select(Worker).order_by(Worker.id)).all()
    basis = {"status": "green", "observation": "none", "observation_until": None, "check_temperature": None,
             "check_at": None}
    long_ago = utcnow() - timedelta(days=app.config["RETENTION_DAYS"] + 30)
    old = [certificates.sign_and_store(idle, "640104", basis, "rule", now=long_ago) for _ in range(2)]
    certificates.revoke(old[0], "isolation")
    live = certificates.sign_and_store(holder, "640104", basis, "rule")
    db.session.commit()
    idle_id, holder_id, live_id, revoked_serial = idle.id, holder.id, live.id, old[0].id
    _age_everything(app.config["RETENTION_DAYS"] + 1)

    counts = purge_expired()

    assert (counts["workers"], counts["health_certificates"]) == (1, 2)
    assert db.session.get(Worker, idle_id).id_number_cipher is None
    assert db.session.scalars(select(HealthCertificate.id)).all() == [live_id]
    # The revocation stays: a partner holding the serial must go on refusing it.
    assert db.session.scalars(select(Revocation.serial).where(Revocation.kind == "certificate")).all() == [revoked_serial]
    # A worker whose certificate is still valid is using the data: kept, certificate and all.
    assert db.session.get(Worker, holder_id).id_number_cipher is not None
