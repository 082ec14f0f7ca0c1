"""A full flow through the three faces, keeping every answer shown to staff or to another person.

Used by tests/test_id_rebuild.py: after it, a database dump and the staff-facing answers are
what an attacker is assumed to hold.
"""
import io
from datetime import UTC, datetime, timedelta

import openpyxl
from sqlalchemy import select

from app.extensions import db
from app.models import Checkpoint, EnterpriseJob
from app.services.credentials import signing
from app.services.platform.timeutil import local_today
from tests.builders import make_id_number, make_mobile, make_staff, make_worker, qr_of, scan_body, submit_application
from tests.console.roster_helpers import ROSTER, enterprise, returnee

API = "/api/console/v1"
CHECKIN = "/api/checkin/v1"
MP = "/api/mp/v1"
# Birth dates and areas chosen so that no two riders share one and none looks like a date of the flow.
RIDERS = [("510104", "19780314", 501), ("640121", "19850927", 502), ("620102", "19920611", 503),
          ("640104", "19990102", 504)]
RETURNEE = ("510105", "19830719", 601)


def _text(response):
    """An answer as text; a spreadsheet is read back cell by cell."""
    if response.mimetype and "spreadsheet" in response.mimetype:
        book = openpyxl.load_workbook(io.BytesIO(response.data))
        return "\n".join(str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                         for cell in row if cell is not None)
    return response.get_data(as_text=True)


class Seen:
    """The staff-facing answers of the flow, each asserted to succeed."""

    def __init__(self):
        self.bodies = []

    def keep(self, response, *statuses):
        """Check the status and keep the answer's text."""
        assert response.status_code in (statuses or (200, 201)), (response.status_code, response.get_data()[:300])
        self.bodies.append(_text(response))
        return response.json if response.is_json else None


def run_flow(client):
    """Register, apply, approve, plan, publish, scan, roster, follow up, isolate and export.

    Returns (full ID numbers of every person in the flow, their birth dates, the staff-facing answers).
    """
    seen = Seen()
    signing.ensure_key()
    today = local_today()
    company = enterprise()
    railway = db.session.scalar(select(Checkpoint.id).where(Checkpoint.code == "yinchuan-railway"))
    operator = make_staff(client, "yongning-ops")
    office = make_staff(client, "office", role="admin")
    officer = make_staff(client, "weijian", role="health_officer")
    hr = make_staff(client, "company-hr", role="enterprise_hr", enterprise_id=company.id)
    gate = make_staff(client, "railway-gate", role="checkpoint_staff", checkpoint_id=railway)

    ids = [make_id_number(area, birth, sequence) for area, birth, sequence in RIDERS]
    riders = []
    for n, id_number in enumerate(ids):
        headers = make_worker(client, name=f"rider{n}", n=n, id_number=id_number)
        application_id = submit_application(
            client, headers, direction="inbound", employer_id=company.id, origin="四川省成都市",
            destination_city="银川市", destination_address="永宁县望远镇", earliest_departure=today.isoformat(),
            latest_departure=today.isoformat())
        riders.append({"headers": headers, "application_id": application_id})
    seen.keep(client.get(f"{API}/applications", query_string={"status": "submitted"}, headers=operator))
    for rider in riders:
        seen.keep(client.post(f"{API}/applications/{rider['application_id']}/approve", headers=operator))
    plan = seen.keep(client.post(f"{API}/plans", headers=operator, json={
        "date_from": today.isoformat(), "date_to": today.isoformat(), "notice": "全程佩戴口罩",
        "vehicle_types": [{"name": "大客车", "seats": 8, "count": 2}]}))
    seen.keep(client.get(f"{API}/plans/{plan['id']}", headers=operator))
    trip = seen.keep(client.post(f"{API}/plans/{plan['id']}/publish", headers=operator))["trips"][0]
    arriving = (datetime.now(UTC) + timedelta(hours=6)).replace(tzinfo=None).isoformat(timespec="minutes")
    seen.keep(client.patch(f"{API}/trips/{trip['id']}", headers=operator, json={
        "plate": "川A·12345", "arrival_checkpoint_id": railway, "expected_arrival_at": arriving}))
    seen.keep(client.get(f"{API}/trips", headers=operator))
    seen.keep(client.get(f"{API}/trips/{trip['id']}", headers=operator))

    by_application = {seat["application_id"]: seat["worker_id"] for seat in trip["passengers"]}
    for rider in riders:
        rider["worker_id"] = by_application[rider["application_id"]]
        rider["qr"] = qr_of(client, rider, trip["id"])
    captain = next(r for r in riders if r["worker_id"] == trip["captain_worker_id"])
    # Another worker's view: the captain sees the trip with the vice-captain's contact.
    seen.keep(client.get(f"{MP}/trips/{trip['id']}", headers=captain["headers"]))
    seen.keep(client.get(f"{CHECKIN}/trips/{trip['id']}/offline-bundle", headers=captain["headers"]))
    seen.keep(client.get(f"{CHECKIN}/checkpoints/{railway}/expected", headers=gate))
    sick = next(r for r in riders if r is not captain)
    for rider in riders:
        temperature = 38.2 if rider is sick else 36.5
        seen.keep(client.post(f"{CHECKIN}/scans", json=scan_body(rider["qr"], temperature=temperature),
                              headers=captain["headers"]))
    well = [r for r in riders if r is not sick]
    seen.keep(client.post(f"{CHECKIN}/scans", json=scan_body(well[0]["qr"], kind="checkpoint",
                                                             device_id="railway-gate-3"), headers=gate))
    arrivals = [scan_body(r["qr"], kind="arrive") for r in well]
    seen.keep(client.post(f"{CHECKIN}/scans/batch", json={"scans": arrivals[1:]}, headers=captain["headers"]))
    seen.keep(client.post(f"{CHECKIN}/scans", json=arrivals[0], headers=captain["headers"]))
    seen.keep(client.get(f"{CHECKIN}/trips/{trip['id']}/manifest", headers=captain["headers"]))
    seen.keep(client.get(f"{CHECKIN}/trips/{trip['id']}/manifest", headers=operator))
    seen.keep(client.get(f"{CHECKIN}/trips/{trip['id']}/reconciliation", headers=operator))

    area, birth, sequence = RETURNEE
    alone = seen.keep(client.post(ROSTER.format(company.id), headers=hr, json=returnee(
        id_number=make_id_number(area, birth, sequence), phone=make_mobile(601))))
    ids.append(make_id_number(area, birth, sequence))
    follow_ups = f"{ROSTER.format(company.id)}/{{}}/follow-ups"
    for rider in well:
        seen.keep(client.post(follow_ups.format(rider["worker_id"]), json={"temperature": 36.6}, headers=hr))
    abnormal = seen.keep(client.post(follow_ups.format(alone["worker_id"]), json={"temperature": 38.0}, headers=hr))
    seen.keep(client.get(follow_ups.format(alone["worker_id"]), headers=hr))
    orders = "/api/console/v1/isolation-orders"
    order_id = abnormal["isolation_order_id"]
    seen.keep(client.get(orders, headers=officer))
    seen.keep(client.get(f"{orders}/{order_id}", headers=officer))
    seen.keep(client.post(f"{orders}/{order_id}/activate", headers=officer,
                          json={"kind": "centralized", "place": "永宁县集中隔离点"}))
    # The fever at boarding may have opened an order already: then this one is refused, and that is seen too.
    seen.keep(client.post(orders, headers=officer, json={
        "worker_id": sick["worker_id"], "kind": "home", "place": "永宁县望远镇"}), 201, 409)
    seen.keep(client.get(f"{orders}.xlsx", headers=officer))
    # The audited exception: full ID numbers for the isolation site. Made, but not kept as seen.
    full = client.get(f"{orders}.xlsx", query_string={"full_ids": "true"}, headers=officer)
    assert full.status_code == 200 and ids[-1] in _text(full)

    job = db.session.scalar(select(EnterpriseJob).where(EnterpriseJob.enterprise_id == company.id))
    if job is not None:
        interest = client.post(f"{MP}/vacancies/{job.id}/interest", json={"contact_allowed": False},
                               headers=well[0]["headers"])
        assert interest.status_code == 201, interest.json
        seen.keep(client.get(f"{API}/enterprises/{company.id}/interests", headers=hr))
    for path, headers in [(ROSTER.format(company.id), hr), (ROSTER.format(company.id) + ".xlsx", hr),
                          (f"{API}/exports/attachment3.xlsx", office), (f"{API}/feeds/isolation", officer),
                          (f"{API}/feeds/checkpoints", office), (f"{API}/stats", office),
                          (f"{API}/enterprises/export.xlsx", office), (f"{API}/enterprises/{company.id}", hr),
                          (f"{API}/applications", office), (f"{API}/liaison-units/export", office)]:
        seen.keep(client.get(path, headers=headers))
    births = [datetime.strptime(number[6:14], "%Y%m%d").date() for number in ids]
    return ids, births, seen.bodies
