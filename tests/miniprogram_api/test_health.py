"""Health declarations and the worker's health record."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import HealthEvent
from tests.builders import declare_health, login, make_worker


def test_normal_declaration_is_green_and_in_history(client):
    headers = make_worker(client, declare=False)
    response = declare_health(client, headers, temperature=36.6, places=["宁夏银川市"])
    assert response.status_code == 201
    assert response.json["health"]["status"] == "green"
    assert response.json["event"]["temperature"] == 36.6
    record = client.get("/api/mp/v1/health", headers=headers).json
    assert record["status"] == "green" and record["reason"] == "normal"
    assert [event["kind"] for event in record["history"]] == ["declaration"]
    assert record["history"][0]["places"] == ["宁夏银川市"]


def test_fever_is_red_with_reason(client):
    headers = make_worker(client, declare=False)
    response = declare_health(client, headers, temperature=37.8)
    health = response.json["health"]
    assert (health["status"], health["reason"]) == ("red", "fever")
    assert "37.8" in health["message"]


def test_symptoms_contact_and_high_risk_places(client):
    headers = make_worker(client, declare=False)
    assert declare_health(client, headers, symptoms=["cough"]).json["health"]["reason"] == "symptoms"
    other = make_worker(client, name="li", n=1, declare=False)
    assert declare_health(client, other, places=["湖北省武汉市"]).json["health"]["status"] == "yellow"
    third = make_worker(client, name="wang", n=2, declare=False)
    assert declare_health(client, third, contact_with_case=True).json["health"]["status"] == "red"


def test_every_declaration_is_kept_never_overwritten(client):
    headers = make_worker(client, declare=False)
    declare_health(client, headers, temperature=38.2)
    declare_health(client, headers, temperature=36.4)
    record = client.get("/api/mp/v1/health", headers=headers).json
    assert len(record["history"]) == 2
    assert record["status"] == "red"  # a later normal reading does not erase the fever
    assert db.session.scalar(select(func.count()).select_from(HealthEvent)) == 2


def test_out_of_range_and_unknown_values_are_422(client):
    headers = make_worker(client, declare=False)
    for body, field in [
        ({"temperature": 33.9, "contact_with_case": False}, "temperature"),
        ({"temperature": 43.1, "contact_with_case": False}, "temperature"),
        ({"temperature": "hot", "contact_with_case": False}, "temperature"),
        ({"temperature": 36.5}, "contact_with_case"),
        ({"temperature": 36.5, "contact_with_case": False, "symptoms": ["headache"]}, "symptoms.0"),
        ({"temperature": 36.5, "contact_with_case": False, "mood": "good"}, "mood"),
    ]:
        response = client.post("/api/mp/v1/health-declarations", json=body, headers=headers)
        assert response.status_code == 422, body
        assert field in response.json["error"]["fields"], response.json
    assert client.get("/api/mp/v1/health", headers=headers).json["history"] == []


def test_declaring_needs_consent(client):
    headers = login(client)
    response = declare_health(client, headers)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "consent_required"


def test_status_without_declaration_is_unknown(client):
    headers = login(client)
    record = client.get("/api/mp/v1/health", headers=headers).json
    assert record["status"] == "unknown" and record["reason"] == "no_declaration"
