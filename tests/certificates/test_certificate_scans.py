"""A's health certificate at B's checkpoint: the online scan, registering its holder, the holder claiming the row."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import HealthEvent, IsolationOrder, ScanEvent, Worker
from app.models.base import utcnow
from app.services.credentials import partners
from app.services.office.retention import purge_expired
from tests.builders import login, make_id_number, make_mobile, profile, scan_body
from tests.certificates.conftest import A_URL, issue, make_local_worker

SCANS = "/api/checkin/v1/scans"
REGISTER = "/api/checkin/v1/certificates/register"


def _trusting(a, b):
    with b.ctx():
        partners.add(A_URL, a.fingerprint())


def _register_body(qr, id_number, name="张三丰", **overrides):
    body = scan_body(qr, kind="arrive", device_id="gate-1")
    body.pop("kind")
    return {**body, "id_number": id_number, "name": name, "mobile": make_mobile(8), **overrides}


def test_a_partner_certificate_is_unregistered_until_the_checkpoint_registers_its_holder(deployments, published):
    a, b = deployments
    _trusting(a, b)
    id_number = make_id_number(sequence=301)
    qr, serial = issue(a, make_local_worker(a, 1, id_number=id_number))
    officer, checkpoint_id = b.checkpoint_officer()

    first = b.client.post(SCANS, json=scan_body(qr, kind="checkpoint", device_id="gate-1"), headers=officer)
    assert first.status_code == 200
    assert (first.json["verdict"], first.json["reason"]) == ("deny", "certificate_unregistered")
    assert first.json["certificate"]["serial"] == serial and first.json["health"] is None

    body = _register_body(qr, id_number, mobile=make_mobile(7))
    registered = b.client.post(REGISTER, json=body, headers=officer)
    assert registered.status_code == 200, registered.json
    assert (registered.json["verdict"], registered.json["reason"]) == ("allow", "ok")
    assert registered.json["worker"]["created"] is True
    assert registered.json["worker"]["id_number"].endswith(id_number[-4:]) and id_number not in registered.text
    replay = b.client.post(REGISTER, json=body, headers=officer)
    assert replay.json["replayed"] is True and replay.json["event_id"] == registered.json["event_id"]
    with b.ctx():
        worker = db.session.get(Worker, registered.json["worker"]["id"])
        assert worker.openid is None and worker.registered_checkpoint_id == checkpoint_id
        event = db.session.scalar(select(HealthEvent).where(HealthEvent.worker_id == worker.id))
        assert event.kind == "arrival"
        assert event.note == f"依据：银川市健康证明 No.{serial}（绿码，行前体温 36.6℃）"

    again = b.client.post(SCANS, json=scan_body(qr, kind="checkpoint", device_id="gate-1"), headers=officer)
    assert (again.json["verdict"], again.json["reason"]) == ("allow", "ok")
    assert again.json["health"]["status"] == "green"
    fever = b.client.post(SCANS, json=scan_body(qr, kind="checkpoint", temperature=38.2, device_id="gate-1"),
                          headers=officer)
    assert (fever.json["verdict"], fever.json["reason"]) == ("isolate", "fever")
    with b.ctx():
        order = db.session.scalar(select(IsolationOrder.status).where(IsolationOrder.worker_id == worker.id))
        assert order == "pending"
        stored = db.session.scalars(select(ScanEvent).where(ScanEvent.certificate_serial == serial)).all()
        assert {(row.certificate_issuer, row.worker_id) for row in stored[1:]} == {("640100", worker.id)}
        assert stored[0].worker_id is None


def test_registration_checks_the_id_number_and_the_name(deployments, published):
    a, b = deployments
    _trusting(a, b)
    id_number = make_id_number(sequence=302)
    qr, _ = issue(a, make_local_worker(a, 2, id_number=id_number))
    officer, _ = b.checkpoint_officer()
    wrong_id = b.client.post(REGISTER, json=_register_body(qr, make_id_number(sequence=303)), headers=officer)
    assert wrong_id.status_code == 422 and wrong_id.json["error"]["code"] == "certificate_refused"
    assert wrong_id.json["error"]["details"]["reason"] == "id_mismatch"
    wrong_name = b.client.post(REGISTER, json=_register_body(qr, id_number, name="李四"), headers=officer)
    assert wrong_name.status_code == 409 and wrong_name.json["error"]["code"] == "identity_mismatch"
    bad_id = b.client.post(REGISTER, json=_register_body(qr, "123"), headers=officer)
    assert bad_id.status_code == 422 and bad_id.json["error"]["code"] == "validation_error"
    captain = login(b.client, "captain")
    assert b.client.post(REGISTER, json=_register_body(qr, id_number), headers=captain).json["error"]["code"] \
        == "not_a_scanner"
    with b.ctx():
        assert db.session.scalar(select(Worker.id).where(Worker.openid.is_(None))) is None


def test_refused_and_recheck_certificates_are_denied_at_the_scan(deployments, published):
    a, b = deployments
    officer, _ = b.checkpoint_officer()
    qr, _ = issue(a, make_local_worker(a, 3))
    untrusted = b.client.post(SCANS, json=scan_body(qr, kind="checkpoint", device_id="gate-1"), headers=officer)
    assert (untrusted.json["verdict"], untrusted.json["reason"]) == ("deny", "unknown_issuer")
    _trusting(a, b)
    yellow, _ = issue(a, make_local_worker(a, 4), status="yellow")
    rechecked = b.client.post(SCANS, json=scan_body(yellow, kind="checkpoint", device_id="gate-1"), headers=officer)
    assert (rechecked.json["verdict"], rechecked.json["reason"]) == ("deny", "not_green")
    captain = login(b.client, "captain")
    refused = b.client.post(SCANS, json=scan_body(qr, kind="arrive"), headers=captain)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "not_a_scanner"


def test_this_deployments_own_certificate_names_its_worker(deployments):
    a, _ = deployments
    worker_id = make_local_worker(a, 5)
    qr, serial = issue(a, worker_id)
    officer, _ = a.checkpoint_officer()
    response = a.client.post(SCANS, json=scan_body(qr, kind="checkpoint", device_id="gate-1"), headers=officer)
    assert (response.json["verdict"], response.json["reason"]) == ("allow", "ok")
    assert response.json["trust"]["synced_at"] is None and response.json["trust"]["stale"] is False
    with a.ctx():
        event = db.session.scalar(select(HealthEvent).where(HealthEvent.worker_id == worker_id))
        assert event.kind == "checkpoint" and f"No.{serial}" in event.note


def test_a_certificate_in_a_stations_offline_upload_is_judged_as_online(deployments):
    """The console station queues scans while offline and uploads them in a batch: a certificate there is a
    certificate, judged as of when it was scanned, in its place among the upload's answers."""
    a, _ = deployments
    worker_id = make_local_worker(a, 9)
    qr, serial = issue(a, worker_id)
    officer, _ = a.checkpoint_officer()
    # Scanned before the certificate was issued (a phone's clock, or a forgery's): judged as of that moment.
    early = scan_body(qr, kind="checkpoint", device_id="gate-1",
                      scanned_at=(utcnow() - timedelta(hours=1)).isoformat() + "+00:00")
    assert a.client.post(f"{SCANS}/batch", json={"scans": [early]}, headers=officer).json["results"][0]["reason"] \
        == "not_yet_valid"
    batch = [scan_body(qr, kind="checkpoint", device_id="gate-1"),
             scan_body("FG1:NOTAPASS", kind="checkpoint", device_id="gate-1"),
             scan_body(qr, kind="checkpoint", device_id="gate-1", temperature=38.2)]
    results = a.client.post(f"{SCANS}/batch", json={"scans": batch}, headers=officer).json["results"]
    assert [(result["verdict"], result["reason"]) for result in results] == [
        ("allow", "ok"), ("deny", "invalid"), ("isolate", "fever")]  # the fever then revokes the certificate
    assert results[0]["certificate"]["serial"] == serial
    with a.ctx():
        modes = db.session.scalars(select(ScanEvent.mode).where(ScanEvent.certificate_serial == serial)).all()
        assert modes == ["offline", "offline", "offline"]  # the early one is stored too, refused
        kinds = db.session.scalars(select(HealthEvent.kind).where(HealthEvent.worker_id == worker_id)).all()
        assert sorted(kinds) == ["checkpoint", "checkpoint"]
        assert db.session.scalar(select(IsolationOrder.status).where(IsolationOrder.worker_id == worker_id)) == "pending"
    # The same upload sent again (the network dropped before the answer): the first answers, nothing twice.
    replay = a.client.post(f"{SCANS}/batch", json={"scans": batch[:1]}, headers=officer).json["results"]
    assert replay[0]["replayed"] is True


def test_the_holder_claims_the_checkpoint_row_when_signing_up(deployments, published):
    a, b = deployments
    _trusting(a, b)
    id_number = make_id_number(sequence=304)
    qr, _ = issue(a, make_local_worker(a, 6, id_number=id_number))
    officer, _ = b.checkpoint_officer()
    registered = b.client.post(REGISTER, json=_register_body(qr, id_number), headers=officer)
    assert registered.status_code == 200, registered.json
    registered_id = registered.json["worker"]["id"]

    headers = login(b.client, "zhang")
    stranger = b.client.put("/api/mp/v1/me", json=profile(8, id_number=id_number, name="张三"), headers=headers)
    assert stranger.status_code == 409
    assert stranger.json["error"]["code"] == "id_number_registered_at_checkpoint"
    # Someone holding a photo of the ID card (number and name) but not the phone given at the checkpoint.
    photo = b.client.put("/api/mp/v1/me", json=profile(9, id_number=id_number), headers=headers)
    assert photo.status_code == 409
    assert photo.json["error"]["code"] == "id_number_registered_at_checkpoint"
    claimed = b.client.put("/api/mp/v1/me", json=profile(8, id_number=id_number), headers=headers)
    assert claimed.status_code == 200, claimed.json
    with b.ctx():
        assert db.session.get(Worker, registered_id) is None
        owner = db.session.scalar(select(Worker).where(Worker.openid.is_not(None)))
        assert db.session.scalar(select(HealthEvent.note).where(HealthEvent.worker_id == owner.id)).startswith("依据：")
        assert db.session.scalar(select(ScanEvent.worker_id).where(ScanEvent.certificate_issuer == "640100")) \
            == owner.id
    again = b.client.post(SCANS, json=scan_body(qr, kind="checkpoint", device_id="gate-1"), headers=officer)
    assert (again.json["verdict"], again.json["reason"]) == ("allow", "ok")


def test_a_red_certificate_registered_at_the_checkpoint_is_sent_to_isolation(deployments, published):
    a, b = deployments
    _trusting(a, b)
    id_number = make_id_number(sequence=305)
    qr, _ = issue(a, make_local_worker(a, 7, id_number=id_number), status="red")
    officer, _ = b.checkpoint_officer()
    registered = b.client.post(REGISTER, json=_register_body(qr, id_number), headers=officer)
    assert registered.status_code == 200, registered.json
    assert (registered.json["verdict"], registered.json["reason"]) == ("isolate", "isolation_required")
    with b.ctx():
        assert db.session.scalar(select(IsolationOrder.worker_id)) == registered.json["worker"]["id"]


def test_a_worker_registered_at_the_checkpoint_is_erased_after_the_retention_period(deployments, published):
    a, b = deployments
    _trusting(a, b)
    id_number = make_id_number(sequence=306)
    qr, _ = issue(a, make_local_worker(a, 8, id_number=id_number))
    officer, _ = b.checkpoint_officer()
    registered = b.client.post(REGISTER, json=_register_body(qr, id_number), headers=officer)
    worker_id = registered.json["worker"]["id"]
    with b.ctx():
        assert purge_expired()["workers"] == 0
        past = utcnow() - timedelta(days=b.app.config["RETENTION_DAYS"] + 1)
        db.session.execute(update(Worker).values(updated_at=past, last_login_at=past))
        db.session.commit()
        assert purge_expired()["workers"] == 1
        assert db.session.get(Worker, worker_id).id_number_cipher is None


def test_two_officers_registering_one_person_at_once_make_one_worker(deployments, published, backend):
    if backend["BACKEND"] == "sqlite":
        pytest.skip("concurrent writers only race on MariaDB")
    a, b = deployments
    _trusting(a, b)
    id_number = make_id_number(sequence=307)
    qr, _ = issue(a, make_local_worker(a, 9, id_number=id_number))
    officers = [b.checkpoint_officer(f"gate-{n}")[0] for n in range(4)]
    barrier = threading.Barrier(len(officers))
    answers = []

    def register(headers):
        with b.ctx():
            barrier.wait()
            answers.append(b.app.test_client().post(REGISTER, json=_register_body(qr, id_number), headers=headers))

    threads = [threading.Thread(target=register, args=(headers,)) for headers in officers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_code for answer in answers) == [200] * 4, [answer.json for answer in answers]
    assert sorted(answer.json["worker"]["created"] for answer in answers) == [False] * 3 + [True]
    assert len({answer.json["worker"]["id"] for answer in answers}) == 1
    with b.ctx():
        assert db.session.scalar(select(func.count()).select_from(Worker).where(Worker.openid.is_(None))) == 1
        assert db.session.scalar(select(func.count()).select_from(HealthEvent)) == 4
