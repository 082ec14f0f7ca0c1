"""Travel applications: preconditions, validation, ownership, cancel."""
from datetime import timedelta

from sqlalchemy import func, select

from app import crypto
from app.extensions import db
from app.models import Application, HealthEvent
from app.models.base import utcnow
from app.services.platform.timeutil import local_today
from tests.builders import application, declare_health, login, make_worker, profile


def test_submit_list_get_and_cancel(client):
    headers = make_worker(client)
    response = client.post("/api/mp/v1/applications", json=application(), headers=headers)
    assert response.status_code == 201
    created = response.json
    assert created["status"] == "submitted"
    assert created["employer_contact"] == "0574-*****456"
    listed = client.get("/api/mp/v1/applications", headers=headers).json["items"]
    assert [item["id"] for item in listed] == [created["id"]]
    assert client.get(f"/api/mp/v1/applications/{created['id']}", headers=headers).json == created
    cancelled = client.post(f"/api/mp/v1/applications/{created['id']}/cancel", headers=headers)
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    again = client.post(f"/api/mp/v1/applications/{created['id']}/cancel", headers=headers)
    assert again.status_code == 409
    assert again.json["error"]["code"] == "application_not_cancellable"


def test_employer_contact_is_encrypted(client):
    headers = make_worker(client)
    client.post("/api/mp/v1/applications", json=application(employer_contact="13812345678"), headers=headers)
    stored = db.session.scalar(select(Application))
    assert b"13812345678" not in stored.employer_contact_cipher
    assert crypto.cipher().decrypt(stored.employer_contact_cipher, "application.employer_contact") == "13812345678"


def test_inbound_with_enterprise(client):
    headers = make_worker(client)
    enterprise = client.get("/api/mp/v1/reference").json["enterprises"][0]
    body = application(direction="inbound", origin="甘肃省定西市", county_code=enterprise["county_code"],
                       destination_city="银川市", employer_id=enterprise["id"], employer_name=None)
    del body["employer_name"]
    response = client.post("/api/mp/v1/applications", json=body, headers=headers)
    assert response.status_code == 201, response.json
    assert response.json["direction"] == "inbound" and response.json["employer_id"] == enterprise["id"]


def test_incomplete_profile_cannot_apply(client):
    headers = login(client)
    response = client.post("/api/mp/v1/applications", json=application(), headers=headers)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "profile_incomplete"
    assert "id_number" in response.json["error"]["fields"]


def test_declaration_must_be_recent(client):
    headers = make_worker(client, declare=False)
    response = client.post("/api/mp/v1/applications", json=application(), headers=headers)
    assert response.json["error"]["code"] == "declaration_required"
    declare_health(client, headers)
    db.session.execute(HealthEvent.__table__.update().values(occurred_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    response = client.post("/api/mp/v1/applications", json=application(), headers=headers)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "declaration_required"


def test_red_status_blocks_applying(client):
    headers = make_worker(client, declare=False)
    declare_health(client, headers, temperature=38.0)
    response = client.post("/api/mp/v1/applications", json=application(), headers=headers)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "health_red"
    assert "38.0" in response.json["error"]["message"]
    assert db.session.scalar(select(func.count()).select_from(Application)) == 0


def test_one_active_application_at_a_time(client):
    headers = make_worker(client)
    first = client.post("/api/mp/v1/applications", json=application(), headers=headers).json
    response = client.post("/api/mp/v1/applications", json=application(), headers=headers)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "application_active"
    client.post(f"/api/mp/v1/applications/{first['id']}/cancel", headers=headers)
    assert client.post("/api/mp/v1/applications", json=application(), headers=headers).status_code == 201


def test_dates_and_references_are_checked(client):
    headers = make_worker(client)
    today = local_today()
    cases = [
        ({"earliest_departure": (today - timedelta(days=1)).isoformat()}, "earliest_departure"),
        ({"latest_departure": today.isoformat(), "earliest_departure": (today + timedelta(days=3)).isoformat()},
         "latest_departure"),
        ({"latest_departure": (today + timedelta(days=40)).isoformat()}, "latest_departure"),
        ({"earliest_departure": "2026-02-30"}, "earliest_departure"),
        ({"county_code": "110105"}, "county_code"),
        ({"employer_id": 424242}, "employer_id"),
        ({"employer_contact": "12345"}, "employer_contact"),
        ({"direction": "sideways"}, "direction"),
        ({"destination_city": ""}, "destination_city"),
        ({"seat": 1}, "seat"),
    ]
    for override, field in cases:
        response = client.post("/api/mp/v1/applications", json=application(**override), headers=headers)
        assert response.status_code == 422, override
        assert field in response.json["error"]["fields"], (override, response.json)
    body = application()
    del body["employer_name"]
    response = client.post("/api/mp/v1/applications", json=body, headers=headers)
    assert "employer_name" in response.json["error"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(Application)) == 0


def test_another_workers_application_is_404(client):
    owner = make_worker(client, name="owner", n=0)
    stranger = make_worker(client, name="stranger", n=1, **{"id_number": profile(1)["id_number"]})
    created = client.post("/api/mp/v1/applications", json=application(), headers=owner).json
    for method, path in [("get", f"/api/mp/v1/applications/{created['id']}"),
                         ("post", f"/api/mp/v1/applications/{created['id']}/cancel")]:
        response = getattr(client, method)(path, headers=stranger)
        assert response.status_code == 404
        assert response.json["error"]["code"] == "application_not_found"
    assert client.get("/api/mp/v1/applications", headers=stranger).json["items"] == []
    assert client.get(f"/api/mp/v1/applications/{created['id']}", headers=owner).json["status"] == "submitted"


def test_huge_or_missing_ids_are_404(client):
    headers = make_worker(client)
    assert client.get("/api/mp/v1/applications/99999999999999999999999", headers=headers).status_code == 404
    assert client.get("/api/mp/v1/applications/12345", headers=headers).status_code == 404
