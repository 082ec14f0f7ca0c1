"""The worker's health certificate: shown when in force, issued by the rule when it allows, else what is missing."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import HealthCertificate
from app.services.credentials import health_certificate, signing, trust
from tests.builders import declare_health, make_id_number, make_worker, submit_application
from tests.certificate_helpers import decode_png, pdf_media_box, pdf_pages, pdf_qr_text, pdf_text, pre_trip_check

CURRENT = "/api/mp/v1/certificates/current"


@pytest.fixture
def outbound(client):
    """A worker with an outbound application from 永宁县 and a certificate key; returns (headers, worker id)."""
    signing.ensure_key("certificate")
    signing.ensure_key("root")
    headers = make_worker(client)
    submit_application(client, headers)
    return headers, client.get("/api/mp/v1/me", headers=headers).json["id"]


def _missing(response):
    return [item["code"] for item in response.json["error"]["details"]["missing"]]


def test_without_a_pre_trip_check_the_worker_is_told_what_is_missing(client, outbound):
    headers, _ = outbound
    response = client.get(CURRENT, headers=headers)
    assert response.status_code == 404 and response.json["error"]["code"] == "certificate_not_available"
    assert _missing(response) == ["pre_trip_check_required"] and "行前体温检测" in response.json["error"]["message"]
    assert client.get(f"{CURRENT}.png", headers=headers).status_code == 404
    assert db.session.scalar(select(HealthCertificate)) is None


def test_a_worker_who_is_not_leaving_gets_none(client):
    signing.ensure_key("certificate")
    headers = make_worker(client)
    pre_trip_check(client.get("/api/mp/v1/me", headers=headers).json["id"])
    response = client.get(CURRENT, headers=headers)
    assert response.status_code == 404 and _missing(response) == ["no_outbound_application"]
    assert client.get(CURRENT).status_code == 401


def test_the_rule_issues_once_and_the_certificate_verifies(client, outbound):
    headers, worker_id = outbound
    pre_trip_check(worker_id, kind="boarding")
    first = client.get(CURRENT, headers=headers)
    assert first.status_code == 200, first.json
    body = first.json
    assert (body["status"], body["issued_by"], body["county"]) == ("valid", "rule", {"code": "640121", "name": "永宁县"})
    assert body["issuer"] == {"id": "640100", "name": "银川市"} and body["name"] == "张*丰"
    assert body["id_last4"] == make_id_number(sequence=100)[-4:] and make_id_number(sequence=100) not in str(body)
    assert body["basis"]["status"] == "green" and body["basis"]["check_temperature"] == "36.5"
    assert body["basis"]["check_at"].endswith("+08:00") and body["valid_until"].endswith("+08:00")
    assert body["png_url"] == f"{CURRENT}.png" and body["pdf_url"] == f"{CURRENT}.pdf"
    again = client.get(CURRENT, headers=headers).json
    assert again["serial"] == body["serial"]  # shown again, not issued again
    verdict = health_certificate.verify_certificate(body["text"], trust.issuers(),
                                                    id_number=make_id_number(sequence=100), name="张三丰")
    assert (verdict.verdict, verdict.claims.serial) == ("accept", body["serial"])


def test_png_and_pdf_carry_the_certificate_text(client, outbound):
    headers, worker_id = outbound
    pre_trip_check(worker_id)
    text = client.get(CURRENT, headers=headers).json["text"]
    png = client.get(f"{CURRENT}.png", headers=headers)
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert decode_png(png.data) == text
    assert client.get(f"{CURRENT}.png", headers=headers).data == png.data  # cached
    pdf = client.get(f"{CURRENT}.pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert pdf_pages(pdf.data) == 1 and pdf_media_box(pdf.data) == pytest.approx([0, 0, 595.2756, 841.8898], abs=0.01)
    assert pdf_qr_text(pdf.data) == text
    words = pdf_text(pdf.data)
    for expected in ("健康证明", "银川市 永宁县", "张*丰", make_id_number(sequence=100)[-4:], "扫码核验", "互认城市",
                     "绿码", "36.5℃", "北京时间"):
        assert expected in words, expected


def test_automatic_issue_can_be_switched_off(make_app):
    app = make_app(CERTIFICATE_AUTO_ISSUE=False)
    with app.app_context():
        from app.services.office.reference_data import load_reference_data

        load_reference_data()
        signing.ensure_key("certificate")
        client = app.test_client()
        headers = make_worker(client)
        submit_application(client, headers)
        pre_trip_check(client.get("/api/mp/v1/me", headers=headers).json["id"])
        response = client.get(CURRENT, headers=headers)
        assert response.status_code == 404 and _missing(response) == ["auto_issue_disabled"]


def test_a_red_declaration_revokes_the_certificate_in_the_same_transaction(client, outbound):
    headers, worker_id = outbound
    pre_trip_check(worker_id)
    serial = client.get(CURRENT, headers=headers).json["serial"]
    assert declare_health(client, headers, temperature=38.1).status_code == 201
    row = db.session.get(HealthCertificate, serial)
    db.session.refresh(row)
    assert (row.revoke_reason, row.revoked_at is not None) == ("positive_finding", True)
    response = client.get(CURRENT, headers=headers)
    assert response.status_code == 404 and "status_not_green" in _missing(response)
    listed = client.get("/api/checkin/v1/revocations", query_string={"kind": "certificate"}).json["revocations"]
    assert [(item["kind"], item["serial"], item["reason"]) for item in listed] == [
        ("certificate", serial, "positive_finding")]


def test_a_high_risk_place_declared_revokes_the_green_certificate(client, outbound):
    headers, worker_id = outbound
    pre_trip_check(worker_id)
    serial = client.get(CURRENT, headers=headers).json["serial"]
    assert declare_health(client, headers, places=["湖北省武汉市"]).status_code == 201
    row = db.session.get(HealthCertificate, serial)
    db.session.refresh(row)
    assert (row.revoke_reason, row.revoked_at is not None) == ("observation", True)
    response = client.get(CURRENT, headers=headers)
    assert response.status_code == 404 and "status_not_green" in _missing(response)


def test_two_requests_at_once_issue_one_certificate(mariadb_app):
    import threading

    with mariadb_app.app_context():
        signing.ensure_key("certificate")
        client = mariadb_app.test_client()
        headers = make_worker(client)
        submit_application(client, headers)
        pre_trip_check(client.get("/api/mp/v1/me", headers=headers).json["id"])
    answers, barrier = [], threading.Barrier(3)

    def fetch():
        with mariadb_app.app_context():
            barrier.wait()
            response = mariadb_app.test_client().get(CURRENT, headers=headers)
            answers.append((response.status_code, response.json.get("serial")))

    threads = [threading.Thread(target=fetch) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [200, 200, 200] and len({serial for _, serial in answers}) == 1
    with mariadb_app.app_context():
        rows = db.session.scalars(select(HealthCertificate)).all()
        assert [(row.id, row.revoked_at) for row in rows] == [(answers[0][1], None)]
