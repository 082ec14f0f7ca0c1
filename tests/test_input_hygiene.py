"""Odd input a cheap phone or a hostile client may send: always a clear 4xx, nothing stored."""
import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import HealthEvent, Worker
from tests.builders import declare_health, login, make_id_number, make_worker, profile


@pytest.mark.parametrize("field, value", [("skills", ["\ud800"]), ("current_address", "x\u0000y"),
                                          ("job_intention", "\udfff"), ("name", "张三\n")])
def test_unstorable_text_is_422_and_nothing_saved(client, field, value):
    headers = make_worker(client, declare=False)
    before = client.get("/api/mp/v1/me", headers=headers).json
    # json.dumps escapes lone surrogates as \udXXX, exactly as a client's JSON would carry them.
    response = client.put("/api/mp/v1/me", data=json.dumps({field: value}), content_type="application/json",
                          headers=headers)
    assert response.status_code == 422
    assert any(name.split(".")[0] == field for name in response.json["error"]["fields"])
    assert client.get("/api/mp/v1/me", headers=headers).json == before
    assert client.post("/api/mp/v1/session", json={"code": "dev:zhangsan"}).status_code == 201


def test_unstorable_place_in_declaration_is_422(client):
    headers = make_worker(client, declare=False)
    body = json.dumps({"temperature": 36.5, "contact_with_case": False, "places": ["\ud83d"]})
    response = client.post("/api/mp/v1/health-declarations", data=body, content_type="application/json",
                           headers=headers)
    assert response.status_code == 422 and "places.0" in response.json["error"]["fields"]
    assert db.session.scalar(select(HealthEvent)) is None
    assert client.get("/api/mp/v1/health", headers=headers).status_code == 200


@pytest.mark.parametrize("body", ["[" * 100000 + "]" * 100000, '{"temperature": ' + "9" * 5000 + "}"])
def test_pathological_json_is_400(client, body):
    headers = login(client)
    response = client.post("/api/mp/v1/health-declarations", data=body, content_type="application/json",
                           headers=headers)
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_request"


def test_oversized_body_is_413(client):
    headers = login(client)
    body = json.dumps({"current_address": "x" * (1100 * 1024)})
    response = client.put("/api/mp/v1/me", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 413 and response.json["error"]["code"] == "payload_too_large"


def test_full_width_digits_are_folded_so_one_id_stays_one_worker(client):
    first, second = login(client, "first"), login(client, "second")
    id_number = make_id_number(sequence=555)
    assert client.put("/api/mp/v1/me", json=profile(0, id_number=id_number), headers=first).status_code == 200
    full_width = id_number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    response = client.put("/api/mp/v1/me", json=profile(1, id_number=full_width), headers=second)
    assert response.status_code == 409 and response.json["error"]["code"] == "id_number_taken"
    arabic_indic = id_number.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    response = client.put("/api/mp/v1/me", json=profile(1, id_number=arabic_indic), headers=second)
    assert response.status_code == 422
    phone = client.put("/api/mp/v1/me", json={"mobile": "１３９１２３４５６７８"}, headers=first)
    assert phone.status_code == 200 and phone.json["mobile"] == "139****5678"


def test_case_matters_in_names_but_not_in_the_id_check_character(client):
    headers = login(client)
    id_number = "11010519491231002X"
    response = client.put("/api/mp/v1/me", json=profile(id_number=id_number.lower()), headers=headers)
    assert response.status_code == 200 and response.json["id_number"].endswith("002X")


def test_a_new_privacy_notice_needs_new_consent(make_app):
    app = make_app()
    client = app.test_client()
    with app.app_context():
        from app.services.office.reference_data import load_reference_data

        load_reference_data()
        headers = make_worker(client)
        app.config["PRIVACY_NOTICE_VERSION"] = "2020-03-v2"
        me = client.get("/api/mp/v1/me", headers=headers).json
        assert "consent" in me["missing"]
        assert declare_health(client, headers).json["error"]["code"] == "consent_required"
        notice = client.get("/api/mp/v1/privacy-notice").json
        assert notice["version"] == "2020-03-v2" and str(app.config["RETENTION_DAYS"]) in notice["text"]
        assert client.put("/api/mp/v1/me", json={"consent_version": "2020-03-v2"}, headers=headers).status_code == 200
        assert declare_health(client, headers).status_code == 201


def test_profile_changes_are_rate_limited_per_token(make_app):
    app = make_app(PROFILE_RATE_LIMIT="2 per minute")
    client = app.test_client()
    with app.app_context():
        headers, other = login(client, "a"), login(client, "b")
        codes = [client.put("/api/mp/v1/me", json={"consent_version": "2020-02-v1"}, headers=headers).status_code
                 for _ in range(3)]
        assert codes == [200, 200, 429]
        assert client.put("/api/mp/v1/me", json={"consent_version": "2020-02-v1"}, headers=other).status_code == 200


def test_under_age_id_is_refused(client):
    from app.services.platform.timeutil import local_today

    headers = login(client)
    born = local_today().replace(year=local_today().year - 10)
    response = client.put("/api/mp/v1/me", json=profile(id_number=make_id_number(birth=born.strftime("%Y%m%d"))),
                          headers=headers)
    assert response.status_code == 422 and "16" in response.json["error"]["fields"]["id_number"]
    assert db.session.scalar(select(Worker.id_number_cipher)) is None
