"""The worker's profile: consent first, validation, masking, encryption at rest, one ID per worker."""
from sqlalchemy import select

from app import crypto
from app.extensions import db
from app.models import Worker
from tests.builders import PRIVACY_VERSION, login, make_id_number, profile


def test_complete_profile_is_returned_masked(client):
    headers = login(client)
    body = profile(id_number=make_id_number("640121", "19851103", 457), mobile="13912345678")
    response = client.put("/api/mp/v1/me", json=body, headers=headers)
    assert response.status_code == 200
    me = response.json
    assert me["id_number"] == "640121********" + body["id_number"][-4:]
    assert me["mobile"] == "139****5678"
    assert me["birth_date"] == "1985-11-03"
    assert me["gender"] == "male"
    assert me["profile_complete"] is True and me["missing"] == []
    assert me["consent_version"] == PRIVACY_VERSION and me["consent_at"].endswith("+08:00")
    assert client.get("/api/mp/v1/me", headers=headers).json == me


def test_the_worker_sees_their_birth_date_in_me_but_not_in_the_login_answer(client):
    headers = login(client)
    body = profile(id_number=make_id_number("640121", "19851103", 457))
    assert client.put("/api/mp/v1/me", json=body, headers=headers).status_code == 200
    again = client.post("/api/mp/v1/session", json={"code": "dev:zhangsan"})
    assert again.status_code == 201
    assert again.json["worker"]["id_number"] == "640121********" + body["id_number"][-4:]
    assert "birth_date" not in again.json["worker"] and "1985-11-03" not in again.get_data(as_text=True)
    assert client.get("/api/mp/v1/me", headers=headers).json["birth_date"] == "1985-11-03"
    row = db.session.execute(select(Worker.__table__)).one()._asdict()
    assert "birth_date" not in row and b"1985-11-03" not in row["birth_date_cipher"]
    assert crypto.cipher().decrypt(row["birth_date_cipher"], "worker.birth_date") == "1985-11-03"


def test_identity_is_encrypted_at_rest(client):
    headers = login(client)
    body = profile()
    client.put("/api/mp/v1/me", json=body, headers=headers)
    worker = db.session.scalar(select(Worker))
    row = db.session.execute(select(Worker.__table__)).one()._asdict()
    flat = repr(row)
    assert body["id_number"] not in flat and body["mobile"] not in flat
    assert crypto.cipher().decrypt(worker.id_number_cipher, "worker.id_number") == body["id_number"]
    assert crypto.cipher().decrypt(worker.mobile_cipher, "worker.mobile") == body["mobile"]


def test_nothing_personal_is_stored_before_consent(client):
    headers = login(client)
    body = profile()
    del body["consent_version"]
    response = client.put("/api/mp/v1/me", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "consent_required"
    worker = db.session.scalar(select(Worker))
    assert worker.name is None and worker.id_number_cipher is None and worker.mobile_cipher is None


def test_outdated_consent_version_is_refused(client):
    headers = login(client)
    response = client.put("/api/mp/v1/me", json=profile(consent_version="2019-old"), headers=headers)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "consent_version_mismatch"


def test_partial_update_keeps_other_fields(client):
    headers = login(client)
    client.put("/api/mp/v1/me", json=profile(), headers=headers)
    response = client.put("/api/mp/v1/me", json={"current_address": "金凤区某小区"}, headers=headers)
    assert response.status_code == 200
    assert response.json["current_address"] == "金凤区某小区"
    assert response.json["name"] == "张三丰" and response.json["profile_complete"]


def test_bad_identity_gives_field_messages_and_changes_nothing(client):
    headers = login(client)
    client.put("/api/mp/v1/me", json=profile(), headers=headers)
    before = client.get("/api/mp/v1/me", headers=headers).json
    bad_id = make_id_number()[:17] + ("0" if make_id_number()[17] != "0" else "1")
    response = client.put("/api/mp/v1/me", json={"id_number": bad_id, "mobile": "12345", "name": "李四"},
                          headers=headers)
    assert response.status_code == 422
    fields = response.json["error"]["fields"]
    assert "校验位" in fields["id_number"] and "手机号" in fields["mobile"]
    assert client.get("/api/mp/v1/me", headers=headers).json == before


def test_unknown_fields_and_wrong_types_are_422(client):
    headers = login(client)
    response = client.put("/api/mp/v1/me", json={"name": 5, "is_admin": True, "skills": "焊工"}, headers=headers)
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_error"
    assert error["fields"]["is_admin"] == "不允许的字段"
    assert error["fields"]["name"] == "应为字符串"
    assert error["fields"]["skills"] == "应为数组"


def test_one_id_number_belongs_to_one_worker(client):
    first = login(client, "first")
    second = login(client, "second")
    assert client.put("/api/mp/v1/me", json=profile(0), headers=first).status_code == 200
    response = client.put("/api/mp/v1/me", json=profile(1, id_number=profile(0)["id_number"]), headers=second)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "id_number_taken"
    # Saving one's own number again is fine, lower-case x included.
    assert client.put("/api/mp/v1/me", json={"id_number": profile(0)["id_number"]}, headers=first).status_code == 200


def test_unknown_employer_is_refused(client):
    headers = login(client)
    response = client.put("/api/mp/v1/me", json=profile(employer_id=999999), headers=headers)
    assert response.status_code == 422
    assert "employer_id" in response.json["error"]["fields"]


def test_privacy_notice_and_reference_data_are_public(client):
    notice = client.get("/api/mp/v1/privacy-notice").json
    assert notice["version"] == PRIVACY_VERSION and "身份证号" in notice["text"]
    reference = client.get("/api/mp/v1/reference").json
    assert {c["name"] for c in reference["counties"]} >= {"兴庆区", "灵武市"}
    assert len(reference["enterprises"]) >= 3
    assert {s["code"] for s in reference["symptoms"]} >= {"fever", "cough"}
