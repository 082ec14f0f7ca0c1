"""Builders for tests: valid identities and workers brought to a given step through the API."""
from datetime import timedelta

from app.services.people.identity import id_check_character
from app.services.platform.timeutil import local_today

PRIVACY_VERSION = "2020-02-v1"


def make_id_number(area="640104", birth="19900101", sequence=123):
    """A valid 18-character ID number (correct check character)."""
    first17 = f"{area}{birth}{sequence:03d}"
    return first17 + id_check_character(first17)


def make_mobile(n=0):
    """A valid mobile number, different for each n."""
    return f"139{n:08d}"


def auth(token):
    """Authorization header for a bearer token."""
    return {"Authorization": f"Bearer {token}"}


def login(client, name="zhangsan"):
    """Log in through the dev path; returns the auth headers."""
    response = client.post("/api/mp/v1/session", json={"code": f"dev:{name}"})
    assert response.status_code == 201, response.json
    return auth(response.json["token"])


def profile(n=0, **overrides):
    """A complete profile body, with consent."""
    body = {
        "consent_version": PRIVACY_VERSION,
        "name": "张三丰",
        "id_number": make_id_number(sequence=100 + n),
        "mobile": make_mobile(n),
        "hometown_county": "永宁县",
        "hometown_township": "望远镇",
        "current_address": "永宁县望远镇幸福村3组",
        "skills": ["焊工"],
        "job_intention": "电子厂普工",
    }
    body.update(overrides)
    return body


def make_worker(client, name="zhangsan", n=0, declare=True, **overrides):
    """A logged-in worker with a complete profile and (by default) a fresh green declaration."""
    headers = login(client, name)
    response = client.put("/api/mp/v1/me", json=profile(n, **overrides), headers=headers)
    assert response.status_code == 200, response.json
    if declare:
        declare_health(client, headers)
    return headers


def declare_health(client, headers, temperature=36.5, **overrides):
    """Post a health declaration; returns the response."""
    body = {"temperature": temperature, "contact_with_case": False, **overrides}
    return client.post("/api/mp/v1/health-declarations", json=body, headers=headers)


def application(**overrides):
    """A valid outbound application body departing in a few days."""
    today = local_today()
    body = {
        "direction": "outbound",
        "county_code": "640121",
        "origin": "永宁县",
        "origin_address": "永宁县汽车站",
        "destination_city": "浙江省宁波市",
        "destination_address": "北仑区小港街道某工业园",
        "employer_name": "宁波某电子有限公司",
        "employer_contact": "0574-86123456",
        "earliest_departure": (today + timedelta(days=2)).isoformat(),
        "latest_departure": (today + timedelta(days=4)).isoformat(),
    }
    body.update(overrides)
    return body


STAFF_PASSWORD = "correct-horse-battery"


def make_staff(client, username="yongning", role="county_operator", **scope):
    """Create a staff account (county operator of 永宁县 by default) and log in; returns auth headers."""
    from app.services.accounts import staff

    if role in ("county_operator", "transport_operator") and "county_code" not in scope:
        scope["county_code"] = "640121"
    staff.create_staff(username, STAFF_PASSWORD, role, **scope, by=staff.CLI)
    response = client.post("/api/console/v1/session", json={"username": username, "password": STAFF_PASSWORD})
    assert response.status_code == 201, response.json
    return auth(response.json["token"])


def submit_application(client, headers, **overrides):
    """Submit an application for a ready worker; returns its id."""
    response = client.post("/api/mp/v1/applications", json=application(**overrides), headers=headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


def approved_applications(client, staff_headers, count, start=0, **overrides):
    """`count` workers, each with an approved application; returns [(worker headers, application id)]."""
    made = []
    for n in range(start, start + count):
        headers = make_worker(client, name=f"w{n}", n=n)
        application_id = submit_application(client, headers, **overrides)
        response = client.post(f"/api/console/v1/applications/{application_id}/approve", headers=staff_headers)
        assert response.status_code == 200, response.json
        made.append((headers, application_id))
    return made


def publish_trip(client, passengers=4, start=0, staff_headers=None, **application_overrides):
    """A published trip departing today with `passengers` workers; signs with a fresh key.

    Returns a dict: staff (headers), trip (console view), riders [{headers, application_id,
    worker_id}], captain and vice (the riders who hold those roles).
    """
    from app.services.credentials import signing
    from app.services.platform.timeutil import local_today

    signing.ensure_key()
    staff_headers = staff_headers or make_staff(client, f"ops{start}")
    today = local_today().isoformat()
    application_overrides = {"earliest_departure": today, "latest_departure": today, **application_overrides}
    made = approved_applications(client, staff_headers, passengers, start=start, **application_overrides)
    body = {"date_from": today, "date_to": today, "vehicle_types": [{"name": "大客车", "seats": 2 * passengers,
            "count": 5}], "notice": "全程佩戴口罩"}
    plan = client.post("/api/console/v1/plans", json=body, headers=staff_headers).json
    assert plan["vehicles"] == 1, plan
    published = client.post(f"/api/console/v1/plans/{plan['id']}/publish", headers=staff_headers).json
    trip = published["trips"][0]
    workers = {p["application_id"]: p["worker_id"] for p in trip["passengers"]}
    riders = [{"headers": headers, "application_id": app_id, "worker_id": workers[app_id]} for headers, app_id in made]
    by_worker = {rider["worker_id"]: rider for rider in riders}
    return {"staff": staff_headers, "trip": trip, "riders": riders,
            "captain": by_worker[trip["captain_worker_id"]], "vice": by_worker[trip["vice_captain_worker_id"]]}


def qr_of(client, rider, trip_id):
    """The QR text of a rider's seat."""
    response = client.get(f"/api/mp/v1/trips/{trip_id}/qrcode", headers=rider["headers"])
    assert response.status_code == 200, response.json
    return response.json["text"]


def scan_body(qr, kind="board", temperature=36.5, **overrides):
    """A scan request as a scanner app would send it."""
    import uuid
    from datetime import UTC, datetime

    body = {"qr": qr, "kind": kind, "temperature": temperature, "symptoms": [],
            "client_event_id": str(uuid.uuid4()), "scanned_at": datetime.now(UTC).isoformat(),
            "device_id": "captain-phone-1"}
    body.update(overrides)
    return body


def depart(trip_id, minutes_ago=60):
    """Move a trip's departure (Beijing date and time) to `minutes_ago` minutes before now, as if it had left."""
    from datetime import UTC, datetime

    from app.extensions import db
    from app.models import Trip
    from app.services.platform.timeutil import LOCAL_ZONE

    moment = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).astimezone(LOCAL_ZONE).replace(second=0,
                                                                                                microsecond=0)
    trip = db.session.get(Trip, trip_id)
    trip.departure_date, trip.departure_time = moment.date(), moment.time()
    db.session.commit()


def close_trip(client, trip_id, headers, confirm=True):
    """Close a trip through the API, confirming the no-show count when asked; returns the last response."""
    path = f"/api/checkin/v1/trips/{trip_id}/close"
    response = client.post(path, json={}, headers=headers)
    if confirm and response.status_code == 409 and response.json["error"]["code"] == "no_shows_unconfirmed":
        count = response.json["error"]["details"]["no_shows"]
        response = client.post(path, json={"confirm_no_shows": count}, headers=headers)
    return response
