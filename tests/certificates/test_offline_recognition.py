"""The offline half of mutual recognition (互认): B's captain's phone, with no network, recognises A's certificate
from the offline bundle B's server signed, and stops recognising it once B has synced A's revocation."""
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from app.extensions import db
from app.services.credentials import certificates, partners
from app.services.scanning import bundles
from tests.builders import make_id_number, publish_trip
from tests.certificates.conftest import A_URL, issue, make_local_worker


def _bundle(b, start):
    """A captain's offline bundle from B's server (and B's trip keys, saved from /keys, to pin it)."""
    with b.ctx():
        trip = publish_trip(b.client, passengers=2, start=start)
    trip_id, captain = trip["trip"]["id"], trip["captain"]["headers"]
    response = b.client.get(f"/api/checkin/v1/trips/{trip_id}/offline-bundle", headers=captain)
    assert response.status_code == 200, response.json
    return response.json, b.client.get("/api/checkin/v1/keys").json


def test_bs_phone_recognises_as_certificate_offline_until_a_revokes_it(deployments, published, tmp_path):
    a, b = deployments
    with b.ctx():
        partners.add(A_URL, a.fingerprint())
    id_number = make_id_number(sequence=231)
    worker_id = make_local_worker(a, 31, id_number=id_number)
    qr, serial = issue(a, worker_id)

    bundle, keys = _bundle(b, 0)
    assert "640100" in {entry["deployment_id"] for entry in bundle["certificates"]["issuers"]}
    now = datetime.now(UTC)
    decision = bundles.decide_certificate_offline(bundle, qr, at=now, id_number=id_number, name="张三丰")
    assert (decision.verdict, decision.reason) == ("accept", None)
    assert decision.claims.serial == serial

    # The same phone, scanning past the trust data's limit with no network: amber, never green.
    late = bundles.decide_certificate_offline(bundle, qr, at=now + timedelta(hours=25))
    assert (late.verdict, late.reason) == ("recheck", "trust_stale")

    # The reference verifier, as another process, from the saved files.
    bundle_file, keys_file = tmp_path / "bundle.json", tmp_path / "keys.json"
    bundle_file.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    keys_file.write_text(json.dumps(keys), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "checkin.offline", str(bundle_file), qr, "--keys", str(keys_file),
                          "--id-number", id_number, "--name", "张三丰"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    printed = json.loads(run.stdout)
    assert printed["verdict"] == "accept" and printed["certificate"]["issuer"]["id"] == "640100"
    assert id_number not in run.stdout

    # A revokes (an isolation order); B syncs; the next bundle B's server signs refuses the certificate.
    with a.ctx():
        certificates.revoke_all_for(worker_id, "isolation")
        db.session.commit()
    with b.ctx():
        assert [result["ok"] for result in partners.sync()] == [True]
    fresh, _ = _bundle(b, 10)
    refused = bundles.decide_certificate_offline(fresh, qr, at=datetime.now(UTC))
    assert (refused.verdict, refused.reason) == ("reject", "revoked")

    # Removing A from B's partners: the next bundle no longer carries A at all.
    with b.ctx():
        partners.remove("640100")
    without, _ = _bundle(b, 20)
    gone = bundles.decide_certificate_offline(without, qr, at=datetime.now(UTC))
    assert (gone.verdict, gone.reason) == ("reject", "unknown_issuer")
