"""arrival_recorded for a partner certificate's holder registered at the checkpoint (互认), told once."""
from sqlalchemy import select

from app.extensions import db
from app.models import Checkpoint, Worker
from app.services.credentials import partners
from tests.builders import login, make_id_number, make_mobile, profile, scan_body
from tests.certificates.conftest import A_URL, backend_b, deployments, issue, make_local_worker, published  # noqa: F401
from tests.messaging.event_helpers import assert_fitted, messages

SCANS = "/api/checkin/v1/scans"


def test_registering_a_certificate_holder_tells_them_once(deployments, published):  # noqa: F811
    a, b = deployments
    with b.ctx():
        partners.add(A_URL, a.fingerprint())
    id_number = make_id_number(sequence=311)
    qr, _ = issue(a, make_local_worker(a, 1, id_number=id_number))
    officer, checkpoint_id = b.checkpoint_officer()
    body = scan_body(qr, kind="arrive", device_id="gate-1")
    body.pop("kind")
    registered = b.client.post("/api/checkin/v1/certificates/register", headers=officer,
                               json={**body, "id_number": id_number, "name": "张三丰", "mobile": make_mobile(7)})
    assert registered.status_code == 200, registered.json
    worker_id = registered.json["worker"]["id"]
    again = b.client.post(SCANS, json=scan_body(qr, kind="checkpoint", device_id="gate-1"), headers=officer)
    assert again.json["verdict"] == "allow"
    b.client.post(SCANS, json=scan_body(qr, kind="checkpoint", device_id="gate-1"), headers=officer)
    with b.ctx():
        name = db.session.scalar(select(Checkpoint.name).where(Checkpoint.id == checkpoint_id))
        told = messages(worker_id, "arrival_recorded")
        assert [(m.data["thing2"], m.data["phrase3"]) for m in told] == [(name, "放行"), (name, "放行")]
        assert told[0].delivery == "inbox"  # registered at the gate: no openid, no WeChat message
        for message in told:
            assert_fitted(message)
    # When they sign up with the same ID number, name and mobile, the record and its messages become theirs.
    headers = login(b.client, "zhang")
    claimed = b.client.put("/api/mp/v1/me", json=profile(7, id_number=id_number), headers=headers)
    assert claimed.status_code == 200, claimed.json
    with b.ctx():
        owner = db.session.scalar(select(Worker.id).where(Worker.openid == "dev-zhang"))
        assert len(messages(owner, "arrival_recorded")) == 2 and messages(worker_id) == []
