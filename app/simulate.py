"""`flask simulate`: drive the whole flow through the HTTP API so a newcomer sees a populated system.

Workers log in (dev codes), fill profiles, declare health and apply; county staff approve,
plan and publish; passengers fetch QR codes; captains scan boarding (a few fevers) and
arrival; one trip's arrivals are uploaded as an offline batch. Everything goes through the
app's routes (the WSGI test client), exactly as the mini-program and console call them.
"""
import random
import secrets
import uuid
from datetime import UTC, datetime

import click
from sqlalchemy import select

from app.extensions import db, limiter
from app.models import County, StaffUser
from app.services.accounts import staff
from app.services.credentials import signing
from app.services.office.reference_data import load_reference_data
from app.services.people.identity import id_check_character
from app.services.platform.timeutil import local_today

DESTINATIONS = ["浙江省宁波市", "江苏省苏州市", "广东省东莞市", "福建省泉州市", "上海市", "北京市"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "建国伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"


class SimulationError(click.ClickException):
    """A step of the simulation got an answer it did not expect."""


def _ok(response, *statuses):
    if response.status_code not in (statuses or (200, 201)):
        raise SimulationError(f"{response.request.method} {response.request.path} → {response.status_code} "
                              f"{response.get_data(as_text=True)[:300]}")
    return response.json


def run(app, workers=300, seed=None, fever_rate=0.03, echo=click.echo):
    """Run the simulation against `app`; returns a summary dict.

    Rate limits are lifted while it runs: hundreds of logins from one address are the point.
    """
    if app.extensions.get("wechat") is not None or app.config["APP_ENV"] == "production":
        raise SimulationError("simulate needs dev logins: run it without WECHAT_APP_ID and outside production")
    limited, limiter.enabled = limiter.enabled, False
    try:
        return _run(app, workers, seed, fever_rate, echo)
    finally:
        limiter.enabled = limited


def _run(app, workers, seed, fever_rate, echo):
    rng = random.Random(seed)
    run_id = uuid.uuid4().hex[:6]
    client = app.test_client()
    with app.app_context():
        load_reference_data()
        signing.ensure_key()
        names = dict(db.session.execute(select(County.code, County.name).order_by(County.code)).all())
        counties = list(names)
        accounts = _staff_accounts(counties, run_id)
    staff_headers = {code: _login_staff(client, *accounts[code]) for code in counties}
    riders = [_make_rider(client, rng, run_id, index, names) for index in range(workers)]
    echo(f"{len(riders)} workers signed up, declared and applied")
    for code in counties:
        ids = [rider["application_id"] for rider in riders if rider["county"] == code]
        for start in range(0, len(ids), 500):
            _ok(client.post("/api/console/v1/applications/decisions", headers=staff_headers[code],
                            json={"ids": ids[start:start + 500], "decision": "approve"}))
    trips = []
    today = local_today().isoformat()
    for code in counties:
        plan = _ok(client.post("/api/console/v1/plans", headers=staff_headers[code], json={
            "date_from": today, "date_to": today, "vehicle_types": [{"name": "大客车", "seats": 45, "count": 50}],
            "notice": "全程佩戴口罩，途中不随意下车，如有不适立即告知车长和随车医务人员。"}))
        published = _ok(client.post(f"/api/console/v1/plans/{plan['id']}/publish", headers=staff_headers[code]))
        trips.extend(published["trips"])
    echo(f"{len(trips)} trips published")
    by_worker = {rider["worker_id"]: rider for rider in riders}
    for trip in trips:
        for seat in trip["passengers"]:
            rider = by_worker[seat["worker_id"]]
            rider["qr"] = _ok(client.get(f"/api/mp/v1/trips/{trip['id']}/qrcode", headers=rider["headers"]))["text"]
    verdicts = {"allow": 0, "deny": 0, "isolate": 0}
    for number, trip in enumerate(trips):
        captain = by_worker[trip["captain_worker_id"]]["headers"]
        passengers = [by_worker[seat["worker_id"]] for seat in trip["passengers"]]
        for rider in passengers:
            temperature = 37.8 if rng.random() < fever_rate else round(rng.uniform(36.0, 37.0), 1)
            answer = _ok(client.post("/api/checkin/v1/scans", headers=captain,
                                     json=_scan(rider["qr"], "board", temperature, location=trip["departure_place"])))
            verdicts[answer["verdict"]] += 1
            rider["boarded"] = answer["verdict"] == "allow"
        arrivals = [_scan(rider["qr"], "arrive", round(rng.uniform(36.0, 37.0), 1), location=trip["destination"])
                    for rider in passengers if rider["boarded"]]
        if number == 0:  # this bus had no signal at the destination: its arrivals come as one upload
            results = _ok(client.post("/api/checkin/v1/scans/batch", headers=captain, json={"scans": arrivals}))
            answers = results["results"]
        else:
            answers = [_ok(client.post("/api/checkin/v1/scans", headers=captain, json=scan)) for scan in arrivals]
        for answer in answers:
            verdicts[answer["verdict"]] += 1
    summary = {"workers": len(riders), "trips": len(trips), "scans": sum(verdicts.values()), **verdicts,
               "staff": {code: accounts[code] for code in counties}}
    echo(f"{summary['scans']} scans: {verdicts['allow']} allowed, {verdicts['isolate']} sent to isolation, "
         f"{verdicts['deny']} refused; trip {trips[0]['id'] if trips else '-'} uploaded its arrivals offline")
    return summary


def _staff_accounts(counties, run_id):
    accounts = {}
    for code in counties:
        username = f"sim-{code}-{run_id}"
        password = secrets.token_urlsafe(12)
        if db.session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is None:
            staff.create_staff(username, password, "county_operator", f"模拟{code}专班", county_code=code, by=staff.CLI)
        accounts[code] = (username, password)
    return accounts


def _login_staff(client, username, password):
    token = _ok(client.post("/api/console/v1/session", json={"username": username, "password": password}))["token"]
    return {"Authorization": f"Bearer {token}"}


def _make_rider(client, rng, run_id, index, names):
    county = list(names)[index % len(names)]
    token = _ok(client.post("/api/mp/v1/session", json={"code": f"dev:sim-{run_id}-{index}"}))["token"]
    headers = {"Authorization": f"Bearer {token}"}
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    for attempt in range(20):
        response = client.put("/api/mp/v1/me", headers=headers, json={
            "consent_version": client.application.config["PRIVACY_NOTICE_VERSION"], "name": name,
            "id_number": _id_number(rng, county), "mobile": f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
            "hometown_county": "银川市", "hometown_township": "某镇", "current_address": "银川市某村",
            "skills": [rng.choice(["焊工", "电工", "普工", "厨师", "瓦工"])]})
        if response.status_code != 409:  # a generated ID number may already exist: draw another
            break
    _ok(response)
    _ok(client.post("/api/mp/v1/health-declarations", headers=headers,
                    json={"temperature": round(rng.uniform(36.0, 37.0), 1), "contact_with_case": False}))
    today = local_today().isoformat()
    application = _ok(client.post("/api/mp/v1/applications", headers=headers, json={
        "direction": "outbound", "county_code": county, "origin": names[county], "destination_city": rng.choice(DESTINATIONS),
        "destination_address": "工业园区", "employer_name": f"示例企业{rng.randrange(12)}",
        "earliest_departure": today, "latest_departure": today, "volunteer_captain": rng.random() < 0.05}))
    me = _ok(client.get("/api/mp/v1/me", headers=headers))
    return {"headers": headers, "county": county, "application_id": application["id"], "worker_id": me["id"]}


def _id_number(rng, county):
    first17 = f"{county}{rng.randrange(1970, 2000)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}" \
              f"{rng.randrange(1000):03d}"
    return first17 + id_check_character(first17)


def _scan(qr, kind, temperature, location=None):
    return {"qr": qr, "kind": kind, "temperature": temperature, "symptoms": [], "client_event_id": str(uuid.uuid4()),
            "scanned_at": datetime.now(UTC).isoformat(), "device_id": "simulated-captain", "location": location}
