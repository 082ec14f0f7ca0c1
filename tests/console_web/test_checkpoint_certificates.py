"""卡口扫码 with health certificates (互认): the page carries what its script needs, and the JSON answers it reads.

The script judges nothing: these tests hold the page to the routes, words and fields the script uses,
and the scanner API, called as the page calls it (session cookie + X-CSRF-Token), to the answers the
script shows — a partner's certificate unregistered, registered, stale, revoked, and never queued offline.
"""
import json
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ScanEvent, Worker
from app.services.scanning.scan_rules import RECHECK_REASONS
from tests.builders import make_id_number, make_mobile, scan_body
from tests.certificates.partner_city import PARTNER_COUNTY, PARTNER_ID, PartnerCity
from tests.console_web.checkpoint_helpers import SCANS, station_staff

PAGE = "/console/checkpoint"
REGISTER = "/api/checkin/v1/certificates/register"
HOLDER_ID = make_id_number(area=PARTNER_COUNTY, sequence=451)


def _station(html):
    return json.loads(re.search(r'data-station="([^"]*)"', html).group(1).replace("&#34;", '"')
                      .replace("&quot;", '"').replace("&amp;", "&"))


def _partner(tmp_path, **options):
    city = PartnerCity(tmp_path, **options)
    city.add()
    return city


def _registration(qr, id_number=HOLDER_ID, name="王小明", **overrides):
    body = scan_body(qr, kind="arrive", device_id="station-1")
    body.pop("kind")
    return {**body, "id_number": id_number, "name": name, "mobile": "13912345678", **overrides}


@pytest.fixture
def csrf(client):
    return {"X-CSRF-Token": station_staff(client)}


def test_the_page_carries_the_register_route_the_words_and_the_form(client, csrf):
    html = client.get(PAGE).text
    station = _station(html)
    certificate = station["certificate"]
    assert certificate["register"] == REGISTER and certificate["prefix"] == "FGC1:"
    assert certificate["status_words"]["green"].startswith("绿码")
    assert "{until}" in certificate["observation_words"]["in_progress"]
    assert {"trust_stale", "not_green", "certificate_unregistered"} <= set(station["recheck"])  # amber, not red
    assert "revoked" not in station["recheck"]
    # The certificate script comes first (checkpoint.js wires it), from files: the CSP allows no inline script.
    assert html.index("checkpoint_certificates.js") < html.index("checkpoint.js\"")
    assert "<script>" not in html and "style=" not in html
    for field in ("cert-issuer", "cert-name", "cert-id", "cert-until", "cert-basis", "cert-trust", "register-id",
                  "register-name", "register-mobile", "register-error", "register-cancel", "register-id-error"):
        assert f'id="{field}"' in html, field
    assert re.search(r'<label for="register-id"[^>]*>身份证号</label>', html)
    assert "手机（本人认领档案时核对）" in html and "行程二维码 / 健康证明" in html
    assert client.get("/console/static/checkpoint_certificates.js").status_code == 200


def test_a_partner_certificate_scans_unregistered_then_registers_and_passes(client, csrf, tmp_path):
    city = _partner(tmp_path)
    qr = city.certificate(HOLDER_ID)
    first = client.post(SCANS, json=scan_body(qr, kind="arrive", temperature=36.6), headers=csrf)
    assert first.status_code == 200
    assert (first.json["verdict"], first.json["reason"]) == ("deny", "certificate_unregistered")
    assert first.json["registrable"] is True
    shown = first.json["certificate"]
    assert shown["issuer"] == {"id": "620100", "name": "兰州市"}
    assert shown["county"] == {"code": PARTNER_COUNTY, "name": None}  # the script then shows the code
    assert (shown["name"], shown["id_last4"], shown["id_checked"]) == ("王*明", HOLDER_ID[-4:], False)
    assert shown["valid_until"].endswith("+08:00") and shown["basis"]["check_temperature"] == "36.4"
    assert (shown["basis"]["status"], shown["basis"]["observation"]) == ("green", "completed")
    trust = first.json["trust"]
    assert trust["stale"] is False and 0.9 < trust["age_hours"] < 1.5 and trust["stale_after_hours"] == 24
    assert trust["synced_at"].endswith("+08:00")
    assert HOLDER_ID not in first.text

    body = _registration(qr, mobile=make_mobile(3))
    registered = client.post(REGISTER, json=body, headers=csrf)
    assert registered.status_code == 200, registered.json
    assert (registered.json["verdict"], registered.json["reason"]) == ("allow", "ok")
    worker = registered.json["worker"]
    assert worker["created"] is True and worker["name"] == "王*明"
    assert worker["id_number"].endswith(HOLDER_ID[-4:]) and HOLDER_ID not in registered.text
    assert registered.json["certificate"]["id_checked"] is True
    # The script retries a lost answer with the same client_event_id: the first answer, nothing stored twice.
    again = client.post(REGISTER, json=body, headers=csrf)
    assert again.status_code == 200 and again.json["replayed"] is True
    assert again.json["event_id"] == registered.json["event_id"]
    assert db.session.scalar(select(func.count()).select_from(Worker)) == 1

    rescan = client.post(SCANS, json=scan_body(qr, kind="checkpoint"), headers=csrf)
    assert (rescan.json["verdict"], rescan.json["reason"]) == ("allow", "ok")


def test_registration_errors_name_the_field_the_script_marks(client, csrf, tmp_path):
    city = _partner(tmp_path)
    qr = city.certificate(HOLDER_ID)
    wrong_id = client.post(REGISTER, json=_registration(qr, id_number=make_id_number(PARTNER_COUNTY, sequence=452)),
                           headers=csrf)
    assert wrong_id.status_code == 422 and wrong_id.json["error"]["code"] == "certificate_refused"
    assert wrong_id.json["error"]["details"]["reason"] == "id_mismatch"
    assert wrong_id.json["error"]["message"] == "身份证号或姓名与健康证明不符"
    wrong_name = client.post(REGISTER, json=_registration(qr, name="李小明"), headers=csrf)
    assert wrong_name.status_code == 409 and wrong_name.json["error"]["code"] == "identity_mismatch"
    assert wrong_name.json["error"]["fields"] == {"name": "与健康证明不符"}
    malformed = client.post(REGISTER, json=_registration(qr, id_number="62010219900101451", mobile="12"),
                            headers=csrf)
    assert malformed.status_code == 422 and malformed.json["error"]["code"] == "validation_error"
    assert set(malformed.json["error"]["fields"]) == {"id_number", "mobile"}
    # None of them stored a scan or a worker: the script's next try takes a new client_event_id.
    assert db.session.scalar(select(func.count()).select_from(ScanEvent)) == 0
    assert db.session.scalar(select(func.count()).select_from(Worker)) == 0
    unguarded = client.post(REGISTER, json=_registration(qr))
    assert unguarded.status_code == 403 and unguarded.json["error"]["code"] == "csrf_failed"


def test_a_stale_partner_is_amber_and_says_how_old_its_data_is(client, csrf, tmp_path):
    city = _partner(tmp_path, signed_hours_ago=30)  # a list carried by hand, signed 30 hours ago
    answer = client.post(SCANS, json=scan_body(city.certificate(HOLDER_ID), kind="arrive"), headers=csrf).json
    assert (answer["verdict"], answer["reason"]) == ("deny", "trust_stale")
    assert answer["reason"] in RECHECK_REASONS  # the script paints it amber, 复核
    assert answer["trust"]["stale"] is True and 29.9 < answer["trust"]["age_hours"] < 31
    assert "30小时未更新" in answer["message"] and answer["certificate"]["issuer"]["name"] == "兰州市"
    assert answer["registrable"] is True  # genuine, no record here: the form opens, the officer having looked


def test_a_revoked_certificate_is_red(client, csrf, tmp_path):
    city = _partner(tmp_path, revoked=[7])
    answer = client.post(SCANS, json=scan_body(city.certificate(HOLDER_ID, serial=7), kind="arrive"),
                         headers=csrf).json
    assert (answer["verdict"], answer["reason"]) == ("deny", "revoked")
    assert answer["reason"] not in RECHECK_REASONS and answer["message"] == "健康证明已被签发地撤销"
    assert answer["certificate"]["serial"] == 7
    assert answer["registrable"] is False  # a refused certificate registers nobody


def test_an_uploaded_certificate_is_judged_as_one_though_the_station_never_queues_one(client, csrf, tmp_path):
    """The upload judges certificates (a phone's queue may hold one); the station still asks for the network, since
    a partner's certificate with no record here is registered online, with the ID card in hand."""
    city = _partner(tmp_path)
    upload = client.post("/api/checkin/v1/scans/batch", headers=csrf,
                         json={"scans": [scan_body(city.certificate(HOLDER_ID), kind="arrive")]})
    assert upload.status_code == 200
    result = upload.json["results"][0]
    assert (result["verdict"], result["reason"]) == ("deny", "certificate_unregistered")
    assert result["certificate"]["issuer"]["id"] == PARTNER_ID
