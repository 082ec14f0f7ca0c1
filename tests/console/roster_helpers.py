"""Helpers for roster, follow-up and isolation tests: enterprises, HR accounts, inbound trips."""
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Checkpoint, Enterprise
from app.services.platform.timeutil import local_today
from tests.builders import make_id_number, make_mobile, make_staff, publish_trip, qr_of, scan_body

ROSTER = "/api/console/v1/enterprises/{}/roster"
SCANS = "/api/checkin/v1/scans"
YONGNING = "（示例）永宁新材料科技有限公司"  # 640121, park yc-hitech
XIXIA = "（示例）银川塞上纺织有限公司"  # 640105, park yc-etdz


def enterprise(name=YONGNING):
    """An enterprise of the reference data."""
    return db.session.scalar(select(Enterprise).where(Enterprise.name == name))


def checkpoint_id():
    """The id of some checkpoint (ids differ between backends)."""
    return db.session.scalar(select(Checkpoint.id).order_by(Checkpoint.id).limit(1))


def hr(client, name=YONGNING, username="hr"):
    """An HR account of the enterprise; returns (headers, enterprise id)."""
    found = enterprise(name)
    return make_staff(client, username, role="enterprise_hr", enterprise_id=found.id), found.id


def returnee(n=0, days_ago=2, **overrides):
    """A 零散返岗 registration body."""
    body = {"name": "李四光", "id_number": make_id_number(area="510104", sequence=500 + n), "phone": make_mobile(500 + n),
            "origin": "四川省成都市", "arrival_date": (local_today() - timedelta(days=days_ago)).isoformat(),
            "transport": "train", "transport_number": "K1234"}
    body.update(overrides)
    return body


def register(client, headers, enterprise_id, **body):
    """Register a returnee, asserting success; returns the row."""
    response = client.post(ROSTER.format(enterprise_id), json=returnee(**body), headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def inbound_trip(client, employer_id, passengers=4, start=0, **overrides):
    """A published inbound trip to Yinchuan whose passengers all work for `employer_id`, with a plate."""
    trip = publish_trip(client, passengers=passengers, start=start, direction="inbound", employer_id=employer_id,
                        origin="四川省成都市", destination_city="银川市", destination_address="永宁县望远镇",
                        **overrides)
    response = client.patch(f"/api/console/v1/trips/{trip['trip']['id']}", json={"plate": "川A·12345"},
                            headers=trip["staff"])
    assert response.status_code == 200, response.json
    return trip


def passengers(trip):
    """Riders who are neither captain nor vice-captain."""
    crew = {trip["captain"]["worker_id"], trip["vice"]["worker_id"]}
    return [rider for rider in trip["riders"] if rider["worker_id"] not in crew]


def scan(client, trip, rider, kind="board", **overrides):
    """Scan a rider by the trip's captain; returns the answer."""
    body = scan_body(qr_of(client, rider, trip["trip"]["id"]), kind=kind, **overrides)
    response = client.post(SCANS, json=body, headers=trip["captain"]["headers"])
    assert response.status_code == 200, response.json
    return response.json
