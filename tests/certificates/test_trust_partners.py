"""Trust between two deployments (互认): publishing the list, importing it by fingerprint, syncing, removing,
and what B's checkpoint sees when it verifies A's certificates."""
import json
import os
from datetime import timedelta

import pytest
import responses
from sqlalchemy import select

from app.errors import Invalid
from app.extensions import db
from app.models import AuditLog, TrustPartner
from app.models.base import utcnow
from app.services.credentials import certificates, credentials, health_certificate, partners, signing, trust, \
    trust_lists
from app.services.credentials.health_certificate import CertificateClaims
from app.services.accounts import staff
from tests.builders import STAFF_PASSWORD, auth, login, make_id_number
from tests.certificates.conftest import A_URL, TRUST_LIST_PATH, issue, make_local_worker

VERIFY = "/api/checkin/v1/certificates/verify"


def _verify(b, headers, qr, **extra):
    response = b.client.post(VERIFY, json={"qr": qr, **extra}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def _add_a(b, a, published):
    with b.ctx():
        return partners.add(A_URL, a.fingerprint()).deployment_id


def test_the_trust_list_is_published_signed_and_verifies_against_the_root_fingerprint(deployments):
    a, _ = deployments
    response = a.client.get(TRUST_LIST_PATH)
    assert response.status_code == 200
    document = response.json
    assert document["deployment"] == {"id": "640100", "name": "银川市"}
    assert {key["use"] for key in document["keys"]} == {"trip", "certificate"}
    now = int(utcnow().timestamp()) + 8 * 3600  # any time inside its validity will do
    assert trust_lists.verify_trust_list(document, a.fingerprint(), now) == document


def test_the_trust_list_needs_a_root_key(client):
    response = client.get(TRUST_LIST_PATH)
    assert response.status_code == 503
    assert response.json["error"]["code"] == "signing_key_missing"


def test_b_imports_a_only_with_the_right_fingerprint_and_then_accepts_its_certificate(deployments, published):
    a, b = deployments
    with b.ctx():
        with pytest.raises(Invalid) as refused:
            partners.add(A_URL, "00" * 32)
        assert refused.value.code == "fingerprint_mismatch"
        with pytest.raises(Invalid) as malformed:
            partners.add(A_URL, "not-a-fingerprint")
        assert malformed.value.code == "fingerprint_invalid"
        assert db.session.scalar(select(TrustPartner.id)) is None
    _add_a(b, a, published)
    id_number = make_id_number(sequence=201)
    qr, serial = issue(a, make_local_worker(a, 1, id_number=id_number))
    officer, _ = b.checkpoint_officer()

    answer = _verify(b, officer, qr)
    assert (answer["verdict"], answer["reason"]) == ("accept", None)
    certificate = answer["certificate"]
    assert certificate["issuer"] == {"id": "640100", "name": "银川市"}
    assert certificate["serial"] == serial
    assert certificate["name"] == "张*丰" and certificate["id_last4"] == id_number[-4:]
    assert certificate["county"]["code"] == "640104"
    assert certificate["valid_until"].endswith("+08:00")
    assert certificate["basis"]["status"] == "green" and certificate["basis"]["check_temperature"] == "36.6"
    assert certificate["id_checked"] is False
    assert answer["trust"]["deployment_id"] == "640100" and answer["trust"]["stale"] is False
    assert answer["trust"]["synced_at"] is not None and answer["trust"]["stale_after_hours"] == 24
    assert id_number not in json.dumps(answer)

    checked = _verify(b, officer, qr, id_number=id_number, name="张三丰")
    assert checked["verdict"] == "accept" and checked["certificate"]["id_checked"] is True
    other = _verify(b, officer, qr, id_number=make_id_number(sequence=999), name="张三丰")
    assert (other["verdict"], other["reason"]) == ("reject", "id_mismatch")
    # The hash covers the name on the card too: the right number under another name is not the holder.
    renamed = _verify(b, officer, qr, id_number=id_number, name="张三")
    assert (renamed["verdict"], renamed["reason"]) == ("reject", "id_mismatch")
    alone = b.client.post(VERIFY, json={"qr": qr, "id_number": id_number}, headers=officer)
    assert alone.status_code == 422 and "name" in alone.json["error"]["fields"]


def test_a_certificate_revoked_at_a_is_refused_at_b_once_b_has_synced(deployments, published):
    a, b = deployments
    _add_a(b, a, published)
    worker_id = make_local_worker(a, 2)
    qr, _ = issue(a, worker_id)
    officer, _ = b.checkpoint_officer()
    assert _verify(b, officer, qr)["verdict"] == "accept"
    with a.ctx():
        certificates.revoke_all_for(worker_id, "isolation")
        db.session.commit()
    with b.ctx():
        results = partners.sync()
    assert [(result["deployment_id"], result["ok"]) for result in results] == [("640100", True)]
    answer = _verify(b, officer, qr)
    assert (answer["verdict"], answer["reason"]) == ("reject", "revoked")
    assert answer["message"] == health_certificate.MESSAGES["revoked"]


def _claims(issuer, county, serial=7):
    now = int(utcnow().timestamp())
    salt = os.urandom(8)
    return CertificateClaims(issuer=issuer, serial=serial, county=county, issued_at=now - 60, valid_until=now + 3600,
                             name="李*", id_last4="1234", id_salt=salt,
                             id_hash=health_certificate.id_hash(make_id_number(), "李四", salt), status="green",
                             observation="none")


def test_certificates_b_cannot_recognise_are_refused_with_their_reason(deployments, published):
    a, b = deployments
    _add_a(b, a, published)
    officer, _ = b.checkpoint_officer()
    stranger = credentials.generate_private_key()
    with a.ctx():
        a_key = signing.private_key_of(signing.active_key("certificate"))
    never_trusted = health_certificate.issue_certificate(stranger, _claims("310100", "310101"))
    key_not_in_list = health_certificate.issue_certificate(stranger, _claims("640100", "640104"))
    county_not_allowed = health_certificate.issue_certificate(a_key, _claims("640100", "110101"))
    for qr, reason in ((never_trusted, "unknown_issuer"), (key_not_in_list, "unknown_key"),
                       (county_not_allowed, "county_not_allowed"), ("FGC1:NOT-BASE45!!", "invalid"),
                       ("garbage", "invalid")):
        answer = _verify(b, officer, qr)
        assert (answer["verdict"], answer["reason"]) == ("reject", reason), qr
    assert _verify(b, officer, never_trusted)["trust"] is None


def test_removing_a_partner_refuses_its_certificates_at_once(deployments, published):
    a, b = deployments
    _add_a(b, a, published)
    qr, _ = issue(a, make_local_worker(a, 3))
    officer, _ = b.checkpoint_officer()
    assert _verify(b, officer, qr)["verdict"] == "accept"
    with b.ctx():
        partners.remove("640100")
        entries = db.session.execute(select(AuditLog.action, AuditLog.actor_kind)
                                     .where(AuditLog.object_type == "trust_partner").order_by(AuditLog.id)).all()
        assert [tuple(entry) for entry in entries] == [("trust.add", "system"), ("trust.remove", "system")]
    answer = _verify(b, officer, qr)
    assert (answer["verdict"], answer["reason"]) == ("reject", "unknown_issuer")


def test_stale_trust_data_is_recheck_never_silently_green(deployments, published):
    a, b = deployments
    _add_a(b, a, published)
    qr, _ = issue(a, make_local_worker(a, 4))
    officer, _ = b.checkpoint_officer()
    with b.ctx():
        partner = db.session.scalar(select(TrustPartner))
        partner.synced_at = utcnow() - timedelta(hours=30)
        db.session.commit()
        assert partners.status()[0]["stale"] is True
    answer = _verify(b, officer, qr)
    assert (answer["verdict"], answer["reason"]) == ("recheck", "trust_stale")
    assert answer["trust"]["stale"] is True and answer["trust"]["age_hours"] >= 30


def test_a_failed_sync_keeps_the_stored_list_and_says_why(deployments, published):
    a, b = deployments
    _add_a(b, a, published)
    with b.ctx():
        before = db.session.scalar(select(TrustPartner)).document
    published.replace(responses.GET, A_URL, status=502)
    with b.ctx():
        [result] = partners.sync()
        assert (result["ok"], result["error"]) == (False, "trust_list_unreachable")
        partner = db.session.scalar(select(TrustPartner))
        assert partner.document == before and partner.last_error.startswith("trust_list_unreachable")
        assert partners.status()[0]["last_error"] == partner.last_error
    tampered = {**before, "valid_until": "2099-01-01T00:00:00+08:00"}
    published.replace(responses.GET, A_URL, json=tampered)
    with b.ctx():
        [result] = partners.sync("640100")
        assert result["error"] == "trust_list_signature_invalid"
        assert db.session.scalar(select(TrustPartner)).document == before


def test_sync_from_a_file_carried_by_hand_and_its_refusals(deployments, published, tmp_path):
    a, b = deployments
    _add_a(b, a, published)
    worker_id = make_local_worker(a, 5)
    qr, _ = issue(a, worker_id)
    with a.ctx():
        certificates.revoke_all_for(worker_id, "isolation")
        db.session.commit()
        old = trust.own_trust_list()
        body = {name: value for name, value in old.items() if name not in ("signature", "root")}
        other_city = trust_lists.sign_trust_list({**body, "deployment": {"id": "310100", "name": "上海市"}},
                                                 signing.private_key_of(signing.active_key("root")))
    carried = tmp_path / "yinchuan.json"
    carried.write_text(json.dumps(old), encoding="utf-8")
    with b.ctx():
        [result] = partners.sync(file=str(carried))
        assert result["ok"] is True
    officer, _ = b.checkpoint_officer()
    assert _verify(b, officer, qr)["reason"] == "revoked"

    older = {**old, "issued_at": "2020-02-20T08:00:00+08:00"}
    with a.ctx():
        older = trust_lists.sign_trust_list({k: v for k, v in older.items() if k not in ("signature", "root")},
                                            signing.private_key_of(signing.active_key("root")))
    carried.write_text(json.dumps(older), encoding="utf-8")
    with b.ctx():
        [result] = partners.sync(file=str(carried))
        assert result["error"] == "trust_list_older"
    carried.write_text(json.dumps(other_city), encoding="utf-8")
    with b.ctx():
        [result] = partners.sync("640100", file=str(carried))
        assert result["error"] == "trust_list_wrong_deployment"
        assert db.session.scalar(select(TrustPartner)).document == old


def test_b_refuses_its_own_list_and_a_second_import(deployments, published, tmp_path):
    a, b = deployments
    _add_a(b, a, published)
    own = tmp_path / "own.json"
    with b.ctx():
        own.write_text(json.dumps(trust.own_trust_list()), encoding="utf-8")
    with b.ctx():
        for source, fingerprint, code in ((str(own), b.fingerprint(), "own_deployment"),
                                          (A_URL, a.fingerprint(), "partner_exists"),
                                          (str(tmp_path / "missing.json"), a.fingerprint(), "trust_source_invalid"),
                                          ("ftp://a.example/list", a.fingerprint(), "trust_source_invalid")):
            with pytest.raises(Exception) as refused:
                partners.add(source, fingerprint)
            assert refused.value.code == code


def test_flask_trust_commands(deployments, published, tmp_path):
    a, b = deployments
    runner = b.app.test_cli_runner()
    wrong = runner.invoke(args=["trust", "add", A_URL, "--fingerprint", "ab" * 32])
    assert wrong.exit_code != 0 and "fingerprint_mismatch" in wrong.output
    added = runner.invoke(args=["trust", "add", A_URL, "--fingerprint", a.fingerprint()])
    assert added.exit_code == 0, added.output
    assert "640100 银川市" in added.output
    listed = runner.invoke(args=["trust", "list"])
    assert listed.exit_code == 0 and "640100  银川市  synced" in listed.output and "STALE" not in listed.output
    synced = runner.invoke(args=["trust", "sync"])
    assert synced.exit_code == 0 and "640100 银川市: ok" in synced.output
    published.replace(responses.GET, A_URL, status=500)
    failed = runner.invoke(args=["trust", "sync", "--partner", "640100"])
    assert failed.exit_code != 0 and "trust_list_unreachable" in failed.output
    unknown = runner.invoke(args=["trust", "remove", "999999"])
    assert unknown.exit_code != 0 and "partner_not_found" in unknown.output
    removed = runner.invoke(args=["trust", "remove", "640100"])
    assert removed.exit_code == 0 and "removed 640100" in removed.output
    assert "no partners" in runner.invoke(args=["trust", "list"]).output


def test_only_checkpoint_staff_and_the_admin_verify(deployments, published):
    a, b = deployments
    captain = login(b.client, "captain")
    response = b.client.post(VERIFY, json={"qr": "FGC1:X"}, headers=captain)
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden_role"
    officer, _ = b.checkpoint_officer()
    extra = b.client.post(VERIFY, json={"qr": "FGC1:X", "mood": 1}, headers=officer)
    assert extra.status_code == 422 and extra.json["error"]["code"] == "validation_error"
    assert b.client.post(VERIFY, json={"qr": "FGC1:X"}).status_code == 401
    with b.ctx():
        staff.create_staff("office-admin", STAFF_PASSWORD, "admin", by=staff.CLI)
    token = b.client.post("/api/console/v1/session", json={"username": "office-admin", "password": STAFF_PASSWORD})
    admin = b.client.post(VERIFY, json={"qr": "FGC1:X"}, headers=auth(token.json["token"]))
    assert admin.status_code == 200 and admin.json["reason"] == "invalid"


def test_the_published_list_is_kept_for_trust_list_cache_seconds(make_app):
    from app.services.office.reference_data import load_reference_data

    app = make_app(TRUST_LIST_CACHE_SECONDS=3600)
    with app.app_context():
        load_reference_data()
        for purpose in ("certificate", "root"):
            signing.ensure_key(purpose)
    client = app.test_client()
    first = client.get(TRUST_LIST_PATH).json
    with app.app_context():
        signing.rotate_key("certificate")
    assert client.get(TRUST_LIST_PATH).json == first
    with app.app_context():
        app.extensions.pop("own_trust_list_cache")
    assert len(client.get(TRUST_LIST_PATH).json["keys"]) == len(first["keys"]) + 1


def test_id_checks_are_rate_limited_plain_verifications_are_not(deployments, published):
    """An ID check costs 0.1 s of scrypt on purpose: a scanner may make CERTIFICATE_ID_CHECK_RATE_LIMIT of them."""
    a, b = deployments
    _add_a(b, a, published)
    id_number = make_id_number(sequence=241)
    qr, _ = issue(a, make_local_worker(a, 41, id_number=id_number))
    officer, _ = b.checkpoint_officer()
    b.app.config["CERTIFICATE_ID_CHECK_RATE_LIMIT"] = "2 per minute"
    for _ in range(2):
        assert _verify(b, officer, qr, id_number=id_number, name="张三丰")["verdict"] == "accept"
    limited = b.client.post(VERIFY, json={"qr": qr, "id_number": id_number, "name": "张三丰"}, headers=officer)
    assert limited.status_code == 429 and limited.json["error"]["code"] == "rate_limited"
    for _ in range(3):  # a check of the certificate alone is a signature: not limited
        assert _verify(b, officer, qr)["verdict"] == "accept"

