"""Health certificates for health staff: issue on a pre-trip check, scope, revoke into /revocations, re-issue,
automatic revocation on an isolation order and on a fever (scan, follow-up), the PDF."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, HealthCertificate, HealthEvent
from app.services.credentials import signing
from tests.builders import make_staff, make_worker, publish_trip, qr_of, scan_body, submit_application
from tests.certificate_helpers import pdf_media_box, pdf_pages, pdf_qr_text, pdf_text

CERTIFICATES = "/api/console/v1/certificates"
REVOCATIONS = "/api/checkin/v1/revocations"


def issue_path(worker_id):
    return f"/api/console/v1/workers/{worker_id}/certificates"


@pytest.fixture
def outbound(client):
    """An outbound worker of 永宁县 (640121) and a certificate key; returns the worker's id."""
    signing.ensure_key("certificate")
    headers = make_worker(client)
    submit_application(client, headers)
    return client.get("/api/mp/v1/me", headers=headers).json["id"]


@pytest.fixture
def officer(client):
    return make_staff(client, "weijian", role="health_officer", county_code="640121")


def _certificate(serial):
    row = db.session.get(HealthCertificate, serial)
    db.session.refresh(row)
    return row


def test_a_health_officer_records_the_check_and_issues(client, outbound, officer):
    response = client.post(issue_path(outbound), json={"temperature": 36.6}, headers=officer)
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["status"], body["issued_by"], body["county"]["code"]) == ("valid", "staff", "640121")
    assert body["basis"]["check_temperature"] == "36.6" and body["text"].startswith("FGC1:")
    assert body["basis_text"][0].startswith("行前体温检测：36.6℃")
    check = db.session.scalar(select(HealthEvent).where(HealthEvent.kind == "pre_trip_check"))
    assert check.worker_id == outbound and str(check.temperature) == "36.6"
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "certificate.issue"))
    assert (entry.actor_kind, entry.object_type, entry.object_id) == ("staff", "health_certificate", body["serial"])
    shown = client.get(f"{CERTIFICATES}/{body['serial']}", headers=officer)
    assert shown.status_code == 200 and shown.json["serial"] == body["serial"]


def test_scope_other_county_sees_nothing_other_roles_are_refused(client, outbound, officer):
    serial = client.post(issue_path(outbound), json={"temperature": 36.6}, headers=officer).json["serial"]
    xixia = make_staff(client, "xixia", role="health_officer", county_code="640105")
    refused = client.post(issue_path(outbound), json={"temperature": 36.6}, headers=xixia)
    assert refused.status_code == 404 and refused.json["error"]["code"] == "worker_not_found"
    hidden = client.get(f"{CERTIFICATES}/{serial}", headers=xixia)
    assert hidden.status_code == 404 and hidden.json["error"]["code"] == "certificate_not_found"
    assert client.get(f"{CERTIFICATES}/{serial}.pdf", headers=xixia).status_code == 404
    assert client.post(f"{CERTIFICATES}/{serial}/revoke", json={"reason": "other"}, headers=xixia).status_code == 404
    assert client.get(CERTIFICATES, headers=xixia).json["total"] == 0
    city = make_staff(client, "city", role="health_officer")
    assert [item["serial"] for item in client.get(CERTIFICATES, headers=city).json["items"]] == [serial]
    admin = make_staff(client, "root", role="admin")
    assert client.get(f"{CERTIFICATES}/{serial}", headers=admin).status_code == 200
    operator = make_staff(client)  # a county operator of the same county
    for response in (client.get(CERTIFICATES, headers=operator),
                     client.post(issue_path(outbound), json={"temperature": 36.6}, headers=operator)):
        assert response.status_code == 403 and response.json["error"]["code"] == "forbidden_role"
    unknown = client.post(issue_path(999999), json={"temperature": 36.6}, headers=city)
    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "worker_not_found"


def test_not_eligible_keeps_the_check_and_says_why(client, outbound, officer):
    first = client.post(issue_path(outbound), json={"temperature": 36.6}, headers=officer).json["serial"]
    fever = client.post(issue_path(outbound), json={"temperature": 37.8, "symptoms": ["cough"]}, headers=officer)
    assert fever.status_code == 409 and fever.json["error"]["code"] == "certificate_not_eligible"
    assert [item["code"] for item in fever.json["error"]["details"]["missing"]] == ["pre_trip_check_fever",
                                                                                    "status_not_green"]
    checks = db.session.scalars(select(HealthEvent).where(HealthEvent.kind == "pre_trip_check")).all()
    assert sorted(str(event.temperature) for event in checks) == ["36.6", "37.8"]  # the fever is on record
    assert _certificate(first).revoke_reason == "positive_finding"  # and revoked what was in force
    bad = client.post(issue_path(outbound), json={"temperature": 36.6, "symptoms": ["sneezing"]}, headers=officer)
    assert bad.status_code == 422 and bad.json["error"]["code"] == "validation_error"
    extra = client.post(issue_path(outbound), json={"temperature": 36.6, "status": "green"}, headers=officer)
    assert extra.status_code == 422


def test_a_worker_not_leaving_cannot_get_one(client, officer):
    signing.ensure_key("certificate")
    headers = make_worker(client, name="stay", n=5)
    worker_id = client.get("/api/mp/v1/me", headers=headers).json["id"]
    assert client.post(issue_path(worker_id), json={"temperature": 36.6}, headers=officer).status_code == 404
    city = make_staff(client, "city", role="health_officer")
    response = client.post(issue_path(worker_id), json={"temperature": 36.6}, headers=city)
    assert response.status_code == 409 and response.json["error"]["code"] == "certificate_not_eligible"
    assert [item["code"] for item in response.json["error"]["details"]["missing"]] == ["no_outbound_application"]


def test_reissue_replaces_and_revoke_publishes_with_kind(client, outbound, officer):
    first = client.post(issue_path(outbound), json={"temperature": 36.6}, headers=officer).json["serial"]
    second = client.post(issue_path(outbound), json={"temperature": 36.4}, headers=officer).json["serial"]
    assert second != first and _certificate(first).revoke_reason == "reissued"
    valid = client.get(CERTIFICATES, query_string={"status": "valid"}, headers=officer).json
    revoked = client.get(CERTIFICATES, query_string={"status": "revoked"}, headers=officer).json
    assert [item["serial"] for item in valid["items"]] == [second] and valid["total"] == 1
    assert [(item["serial"], item["status"]) for item in revoked["items"]] == [(first, "revoked")]
    assert client.get(CERTIFICATES, query_string={"status": "lost"}, headers=officer).status_code == 422
    mine = client.get(CERTIFICATES, query_string={"worker_id": outbound}, headers=officer).json
    assert mine["total"] == 2 and {item["worker_id"] for item in mine["items"]} == {outbound}
    assert client.get(CERTIFICATES, query_string={"worker_id": outbound + 1}, headers=officer).json["total"] == 0
    done = client.post(f"{CERTIFICATES}/{second}/revoke", json={"reason": "issued_in_error", "note": "登记错人"},
                       headers=officer)
    assert done.status_code == 200 and (done.json["status"], done.json["revoke_reason"]) == ("revoked",
                                                                                             "issued_in_error")
    twice = client.post(f"{CERTIFICATES}/{second}/revoke", json={"reason": "other"}, headers=officer)
    assert twice.status_code == 409 and twice.json["error"]["code"] == "certificate_already_revoked"
    unknown_reason = client.post(f"{CERTIFICATES}/{first}/revoke", json={"reason": "because"}, headers=officer)
    assert unknown_reason.status_code == 422
    rows = client.get(REVOCATIONS, query_string={"kind": "certificate"}).json["revocations"]
    assert [(row["kind"], row["serial"], row["reason"]) for row in rows] == [
        ("certificate", first, "reissued"), ("certificate", second, "issued_in_error")]
    assert client.get(REVOCATIONS, query_string={"kind": "trip"}).json["revocations"] == []
    # Without kind, trip serials only: a scanner written before certificates takes every serial for a seat's.
    assert client.get(REVOCATIONS).json["revocations"] == []
    assert client.get(REVOCATIONS, query_string={"kind": "ticket"}).status_code == 422
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "certificate.revoke",
                                                     AuditLog.actor_kind == "staff"))
    assert audit.object_id == second and audit.details["note"] == "登记错人"


def test_an_isolation_order_revokes_every_certificate_in_force(client, outbound, officer):
    serial = client.post(issue_path(outbound), json={"temperature": 36.6}, headers=officer).json["serial"]
    opened = client.post("/api/console/v1/isolation-orders", headers=officer,
                         json={"worker_id": outbound, "kind": "home", "place": "家中"})
    assert opened.status_code == 201, opened.json
    assert _certificate(serial).revoke_reason == "isolation"
    assert client.get(f"{CERTIFICATES}/{serial}", headers=officer).json["status"] == "revoked"
    rows = client.get(REVOCATIONS, query_string={"kind": "certificate"}).json["revocations"]
    assert [(row["serial"], row["reason"]) for row in rows] == [(serial, "isolation")]
    refused = client.post(issue_path(outbound), json={"temperature": 36.6}, headers=officer)
    assert refused.status_code == 409
    assert "isolation_order_open" in [item["code"] for item in refused.json["error"]["details"]["missing"]]
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "certificate.revoke"))
    assert (entry.actor_kind, entry.details["reason"]) == ("system", "isolation")


def test_a_fever_at_boarding_revokes_the_certificate(client):
    trip = publish_trip(client, passengers=4)
    signing.ensure_key("certificate")
    crew = {trip["captain"]["worker_id"], trip["vice"]["worker_id"]}
    rider, other = [r for r in trip["riders"] if r["worker_id"] not in crew][:2]
    officer = make_staff(client, "weijian", role="health_officer", county_code="640121")
    serials = [client.post(issue_path(r["worker_id"]), json={"temperature": 36.5}, headers=officer).json["serial"]
               for r in (rider, other)]
    answer = client.post("/api/checkin/v1/scans", headers=trip["captain"]["headers"],
                         json=scan_body(qr_of(client, rider, trip["trip"]["id"]), temperature=38.2)).json
    assert answer["verdict"] == "isolate"
    assert _certificate(serials[0]).revoke_reason == "positive_finding"
    normal = client.post("/api/checkin/v1/scans", headers=trip["captain"]["headers"],
                         json=scan_body(qr_of(client, other, trip["trip"]["id"]), temperature=36.4)).json
    assert normal["verdict"] == "allow" and _certificate(serials[1]).revoked_at is None


def test_the_pdf_for_staff_is_one_a4_page_with_a_readable_qr(client, outbound, officer):
    body = client.post(issue_path(outbound), json={"temperature": 36.6}, headers=officer).json
    response = client.get(f"{CERTIFICATES}/{body['serial']}.pdf", headers=officer)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f"certificate-{body['serial']}.pdf" in response.headers["Content-Disposition"]
    assert pdf_pages(response.data) == 1
    assert pdf_media_box(response.data) == pytest.approx([0, 0, 595.2756, 841.8898], abs=0.01)
    assert pdf_qr_text(response.data) == body["text"]
    words = pdf_text(response.data)
    assert "健康证明" in words and str(body["serial"]) in words and "有效" in words
    client.post(f"{CERTIFICATES}/{body['serial']}/revoke", json={"reason": "other"}, headers=officer)
    revoked = client.get(f"{CERTIFICATES}/{body['serial']}.pdf", headers=officer)
    assert "本证明已撤销" in pdf_text(revoked.data)


def test_an_abnormal_follow_up_revokes_the_certificate(client):
    from app.models import Worker
    from app.services.credentials import certificates
    from tests.console.roster_helpers import ROSTER, hr, register

    signing.ensure_key("certificate")
    headers, enterprise_id = hr(client)
    row = register(client, headers, enterprise_id, days_ago=2)
    basis = {"status": "green", "observation": "none", "observation_until": None, "check_temperature": None,
             "check_at": None}
    serial = certificates.sign_and_store(db.session.get(Worker, row["worker_id"]), "640121", basis, "staff").id
    db.session.commit()
    normal = client.post(f"{ROSTER.format(enterprise_id)}/{row['worker_id']}/follow-ups", json={"temperature": 36.5},
                         headers=headers)
    assert normal.status_code == 201 and _certificate(serial).revoked_at is None
    db.session.query(HealthEvent).filter(HealthEvent.kind == "follow_up").delete()  # one follow-up a day
    db.session.commit()
    abnormal = client.post(f"{ROSTER.format(enterprise_id)}/{row['worker_id']}/follow-ups",
                           json={"temperature": 38.0}, headers=headers)
    assert abnormal.status_code == 201 and abnormal.json["isolation_order_id"]
    assert _certificate(serial).revoke_reason == "positive_finding"


def test_registered_back_from_a_high_risk_area_revokes_the_green_certificate(client, outbound, officer):
    """HR registers the worker (found by ID number) as back on their own from Wuhan: yellow, observation ahead."""
    from tests.builders import make_id_number, make_mobile
    from tests.console.roster_helpers import hr, register

    serial = client.post(issue_path(outbound), json={"temperature": 36.6}, headers=officer).json["serial"]
    headers, enterprise_id = hr(client)
    register(client, headers, enterprise_id, name="张三丰", id_number=make_id_number(sequence=100),
             phone=make_mobile(0), origin="湖北省武汉市", days_ago=1)
    assert _certificate(serial).revoke_reason == "observation"
