"""One rule for time: every timestamp the API answers is Beijing time with "+08:00"; inputs take any offset."""
import json
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Checkpoint, Enterprise
from app.services.platform.timeutil import iso_local
from tests.builders import make_id_number, make_staff, publish_trip, qr_of, scan_body

# An ISO 8601 date-time (a date alone, "2020-02-24", is a Beijing date and carries no offset).
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _timestamps(value, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _timestamps(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _timestamps(item, f"{path}[{index}]")
    elif isinstance(value, str) and _DATETIME.match(value):
        yield path, value


def test_every_timestamp_of_a_full_flow_is_beijing_time(client, app):
    seen = []

    @app.after_request
    def _collect(response):
        if response.is_json:
            seen.append((response.request_path if hasattr(response, "request_path") else "", response.get_json()))
        return response

    trip = publish_trip(client, passengers=3)
    trip_id, captain = trip["trip"]["id"], trip["captain"]["headers"]
    riders = trip["riders"]
    qrs = [qr_of(client, rider, trip_id) for rider in riders]
    checkpoint_id = db.session.scalar(select(Checkpoint.id).where(Checkpoint.code == "yinchuan-railway"))
    # An input in UTC, one with no offset (Beijing), one in another zone: all accepted.
    arriving = (datetime.now(UTC) + timedelta(hours=5)).isoformat()
    assert client.patch(f"/api/console/v1/trips/{trip_id}", headers=trip["staff"],
                        json={"arrival_checkpoint_id": checkpoint_id, "expected_arrival_at": arriving}).status_code == 200
    scans = "/api/checkin/v1/scans"
    assert client.post(scans, json=scan_body(qrs[0]), headers=captain).json["verdict"] == "allow"
    assert client.post(scans, json=scan_body(qrs[1], temperature=38.2,
                                             scanned_at=datetime.now().isoformat(timespec="seconds")),
                       headers=captain).json["verdict"] == "isolate"
    tokyo = (datetime.now(UTC) - timedelta(minutes=5)).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    batch = client.post(f"{scans}/batch", json={"scans": [scan_body(qrs[2], scanned_at=tokyo.isoformat())]},
                        headers=captain)
    assert batch.json["results"][0]["verdict"] == "allow"
    assert client.post(scans, json=scan_body(qrs[0], kind="arrive"), headers=captain).json["verdict"] == "allow"

    admin = make_staff(client, "office", role="admin")
    officer = make_staff(client, "wj", role="health_officer")
    enterprise_id = db.session.scalar(select(Enterprise.id).order_by(Enterprise.id).limit(1))
    hr = make_staff(client, "hr", role="enterprise_hr", enterprise_id=enterprise_id)
    returnee = client.post(f"/api/console/v1/enterprises/{enterprise_id}/roster", headers=hr, json={
        "name": "李四光", "id_number": make_id_number(area="510104", sequence=501), "phone": "13900000500",
        "origin": "四川省成都市", "arrival_date": (datetime.now(UTC) - timedelta(days=2)).date().isoformat(),
        "transport": "train", "transport_number": "K1234"})
    assert returnee.status_code == 201, returnee.json
    worker_id = returnee.json["worker_id"]
    client.post(f"/api/console/v1/enterprises/{enterprise_id}/roster/{worker_id}/follow-ups", headers=hr,
                json={"temperature": 37.9, "symptoms": ["cough"]})
    rider = riders[0]["headers"]
    for path, headers in [
        ("/api/mp/v1/me", rider), ("/api/mp/v1/health", rider), ("/api/mp/v1/applications", rider),
        ("/api/mp/v1/trips", rider), (f"/api/mp/v1/trips/{trip_id}", rider), ("/api/mp/v1/interests", rider),
        ("/api/mp/v1/vacancies", rider),
        ("/api/console/v1/me", admin), ("/api/console/v1/applications", admin), ("/api/console/v1/trips", admin),
        (f"/api/console/v1/trips/{trip_id}", admin), (f"/api/console/v1/plans/{trip['trip']['plan_id']}", admin),
        ("/api/console/v1/isolation-orders", officer), ("/api/console/v1/feeds/isolation", admin),
        ("/api/console/v1/feeds/checkpoints", admin), ("/api/console/v1/stats", admin),
        ("/api/console/v1/liaison-units", admin), (f"/api/console/v1/enterprises/{enterprise_id}", admin),
        (f"/api/console/v1/enterprises/{enterprise_id}/roster", hr),
        (f"/api/console/v1/enterprises/{enterprise_id}/roster/{worker_id}/follow-ups", hr),
        ("/api/checkin/v1/keys", None), ("/api/checkin/v1/revocations", None),
        (f"/api/checkin/v1/trips/{trip_id}/manifest", captain),
        (f"/api/checkin/v1/trips/{trip_id}/reconciliation", captain),
        (f"/api/checkin/v1/trips/{trip_id}/offline-bundle", captain),
        (f"/api/checkin/v1/checkpoints/{checkpoint_id}/expected", admin),
    ]:
        response = client.get(path, headers=headers or {})
        assert response.status_code == 200, (path, response.json)

    stamps = [(path, value) for _, body in seen for path, value in _timestamps(body)]
    assert len(stamps) > 40  # the walk reached the timestamps
    wrong = [(path, value) for path, value in stamps if not value.endswith("+08:00")]
    assert not wrong, wrong[:10]
    # The moments are right, not merely relabelled: the UTC input comes back as the same instant.
    patched = client.get(f"/api/console/v1/trips/{trip_id}", headers=admin).json["expected_arrival_at"]
    assert abs(datetime.fromisoformat(patched) - datetime.fromisoformat(arriving)) < timedelta(seconds=1)


def test_openapi_says_every_date_time_is_beijing_time(app):
    spec = json.loads(json.dumps(app.spec))
    found = 0
    for name, schema in spec["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            if prop.get("format") != "date-time":
                continue
            found += 1
            said = prop.get("description", "")
            assert "北京时间" in said, (name, field)
            if "example" in prop:
                assert prop["example"].endswith("+08:00"), (name, field)
    assert found > 20


def test_iso_local_renders_naive_utc_and_aware_moments_alike():
    naive_utc = datetime(2020, 2, 24, 0, 0)
    assert iso_local(naive_utc) == "2020-02-24T08:00:00+08:00"
    assert iso_local(naive_utc.replace(tzinfo=UTC)) == "2020-02-24T08:00:00+08:00"
    assert iso_local(None) is None
