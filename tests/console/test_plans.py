"""Planning through the console: propose, edit, publish; nobody booked twice; scope."""
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Application, AuditLog, Plan, Revocation, Seat
from app.services.platform.timeutil import local_today
from tests.builders import approved_applications, make_staff, make_worker, submit_application

BUS = {"name": "大客车", "seats": 10, "count": 20}


def plan_body(**overrides):
    today = local_today()
    body = {"date_from": today.isoformat(), "date_to": (today + timedelta(days=10)).isoformat(),
            "vehicle_types": [BUS], "load_factor": 0.5, "notice": "全程佩戴口罩，不随意走动。"}
    body.update(overrides)
    return body


def propose(client, staff_headers, **overrides):
    response = client.post("/api/console/v1/plans", json=plan_body(**overrides), headers=staff_headers)
    assert response.status_code == 201, response.json
    return response.json


def test_plan_respects_capacity_and_picks_crew(client):
    staff_headers = make_staff(client)
    made = approved_applications(client, staff_headers, 7)
    plan = propose(client, staff_headers)
    assert plan["status"] == "draft"
    assert plan["vehicles"] == 2  # 7 passengers, 10 seats at 50% → 5 per vehicle
    seated = [p["application_id"] for trip in plan["trips"] for p in trip["passengers"]]
    assert sorted(seated) == sorted(application_id for _, application_id in made)
    for trip in plan["trips"]:
        assert trip["capacity"] == 5 and len(trip["passengers"]) <= 5
        workers = {p["worker_id"] for p in trip["passengers"]}
        assert trip["captain_worker_id"] in workers and trip["vice_captain_worker_id"] in workers
        assert trip["captain_worker_id"] != trip["vice_captain_worker_id"]
        assert trip["notice"] == "全程佩戴口罩，不随意走动。"
    assert len(plan["convoys"]) == 1 and plan["convoys"][0]["leader_worker_id"] is not None


def test_volunteer_becomes_captain(client):
    staff_headers = make_staff(client)
    approved_applications(client, staff_headers, 2)
    volunteer = approved_applications(client, staff_headers, 1, start=2, volunteer_captain=True)
    plan = propose(client, staff_headers)
    volunteer_worker = db.session.get(Application, volunteer[0][1]).worker_id
    assert plan["trips"][0]["captain_worker_id"] == volunteer_worker


def test_publish_assigns_seats_and_planning_again_books_nobody_twice(client):
    staff_headers = make_staff(client)
    made = approved_applications(client, staff_headers, 3)
    plan = propose(client, staff_headers)
    again = propose(client, staff_headers)  # the first draft holds them already
    assert again["vehicles"] == 0
    published = client.post(f"/api/console/v1/plans/{plan['id']}/publish", headers=staff_headers)
    assert published.status_code == 200 and published.json["status"] == "published"
    assert published.json["published_by"] is not None
    statuses = set(db.session.scalars(select(Application.status)))
    assert statuses == {"assigned"}
    worker_view = client.get(f"/api/mp/v1/applications/{made[0][1]}", headers=made[0][0]).json
    assert worker_view["status"] == "assigned"
    assert propose(client, staff_headers)["vehicles"] == 0
    twice = client.post(f"/api/console/v1/plans/{plan['id']}/publish", headers=staff_headers)
    assert twice.status_code == 409
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"plan.create", "plan.publish", "application.approve"} <= actions


def test_application_cancelled_before_publish_loses_its_seat(client):
    staff_headers = make_staff(client)
    made = approved_applications(client, staff_headers, 2)
    plan = propose(client, staff_headers)
    headers, application_id = made[0]
    assert client.post(f"/api/mp/v1/applications/{application_id}/cancel", headers=headers).status_code == 200
    published = client.post(f"/api/console/v1/plans/{plan['id']}/publish", headers=staff_headers).json
    seated = [p["application_id"] for trip in published["trips"] for p in trip["passengers"]]
    assert seated == [made[1][1]]


def test_discarded_draft_releases_passengers(client):
    staff_headers = make_staff(client)
    approved_applications(client, staff_headers, 2)
    plan = propose(client, staff_headers)
    assert client.delete(f"/api/console/v1/plans/{plan['id']}", headers=staff_headers).json["status"] == "discarded"
    assert propose(client, staff_headers)["vehicles"] == 1


def test_move_passenger_and_change_captain(client):
    staff_headers = make_staff(client)
    approved_applications(client, staff_headers, 7)
    plan = propose(client, staff_headers)
    big, small = sorted(plan["trips"], key=lambda t: -len(t["passengers"]))
    mover = next(p for p in big["passengers"] if p["worker_id"] != big["captain_worker_id"])
    moved = client.post(f"/api/console/v1/plans/{plan['id']}/moves",
                        json={"application_id": mover["application_id"], "trip_id": small["id"]}, headers=staff_headers)
    assert moved.status_code == 200, moved.json
    trips = {t["id"]: t for t in moved.json["trips"]}
    assert mover["application_id"] in [p["application_id"] for p in trips[small["id"]]["passengers"]]
    while len(trips[small["id"]]["passengers"]) < 5:
        nxt = trips[big["id"]]["passengers"][-1]["application_id"]
        response = client.post(f"/api/console/v1/plans/{plan['id']}/moves",
                               json={"application_id": nxt, "trip_id": small["id"]}, headers=staff_headers)
        trips = {t["id"]: t for t in response.json["trips"]}
    full = client.post(f"/api/console/v1/plans/{plan['id']}/moves",
                       json={"application_id": trips[big["id"]]["passengers"][0]["application_id"],
                             "trip_id": small["id"]}, headers=staff_headers)
    assert full.status_code == 409 and full.json["error"]["code"] == "trip_full"
    assert all(t["captain_worker_id"] is not None for t in trips.values())
    new_captain = trips[small["id"]]["passengers"][-1]["worker_id"]
    patched = client.patch(f"/api/console/v1/trips/{small['id']}", headers=staff_headers,
                           json={"captain_worker_id": new_captain, "plate": "宁A·12345", "driver_name": "王师傅",
                                 "driver_phone": "13800001111", "medic_name": "李医生",
                                 "responsible_name": "赵主任", "responsible_phone": "0951-6017170"})
    assert patched.status_code == 200, patched.json
    assert patched.json["captain_worker_id"] == new_captain
    assert patched.json["driver_phone"] == "138****1111" and patched.json["responsible_phone"] == "0951-****170"
    stranger = client.patch(f"/api/console/v1/trips/{small['id']}", headers=staff_headers,
                            json={"captain_worker_id": trips[big["id"]]["passengers"][0]["worker_id"]})
    assert stranger.status_code == 422 and "captain_worker_id" in stranger.json["error"]["fields"]


def test_moving_a_published_seat_revokes_its_serial(client):
    staff_headers = make_staff(client)
    approved_applications(client, staff_headers, 7)
    plan = propose(client, staff_headers)
    client.post(f"/api/console/v1/plans/{plan['id']}/publish", headers=staff_headers)
    big, small = sorted(plan["trips"], key=lambda t: -len(t["passengers"]))
    mover = big["passengers"][-1]
    old_serial = mover["seat_id"]
    response = client.post(f"/api/console/v1/plans/{plan['id']}/moves",
                           json={"application_id": mover["application_id"], "trip_id": small["id"]},
                           headers=staff_headers)
    assert response.status_code == 200, response.json
    assert db.session.scalar(select(Revocation.serial)) == old_serial
    live = db.session.scalar(select(Seat).where(Seat.live_application_id == mover["application_id"]))
    assert live.id != old_serial and live.trip_id == small["id"] and live.status == "assigned"


def test_scope_of_plans_and_trips(client):
    yongning = make_staff(client, "yongning", county_code="640121")
    helan = make_staff(client, "helan", county_code="640122")
    approved_applications(client, yongning, 2)
    plan = propose(client, yongning)
    assert propose(client, helan)["vehicles"] == 0  # another county's applications are not theirs to plan
    trip_id = plan["trips"][0]["id"]
    for method, path, body in [("get", f"/api/console/v1/plans/{plan['id']}", None),
                               ("post", f"/api/console/v1/plans/{plan['id']}/publish", None),
                               ("delete", f"/api/console/v1/plans/{plan['id']}", None),
                               ("get", f"/api/console/v1/trips/{trip_id}", None),
                               ("patch", f"/api/console/v1/trips/{trip_id}", {"plate": "宁B·00000"})]:
        response = getattr(client, method)(path, json=body, headers=helan)
        assert response.status_code == 404, (method, path)
    assert client.get("/api/console/v1/trips", headers=helan).json["items"] == []
    admin = make_staff(client, "boss", role="admin")
    assert client.post("/api/console/v1/plans", json=plan_body(), headers=admin).status_code == 422


def test_different_destinations_and_dates_never_share(client):
    staff_headers = make_staff(client)
    today = local_today()
    approved_applications(client, staff_headers, 2)
    approved_applications(client, staff_headers, 1, start=2, destination_city="江苏省苏州市")
    approved_applications(client, staff_headers, 1, start=3,
                          earliest_departure=(today + timedelta(days=8)).isoformat(),
                          latest_departure=(today + timedelta(days=9)).isoformat())
    plan = propose(client, staff_headers)
    assert plan["vehicles"] == 3
    destinations = sorted(trip["destination"] for trip in plan["trips"])
    assert destinations == ["江苏省苏州市", "浙江省宁波市", "浙江省宁波市"]


def test_bad_plan_requests_are_422(client):
    staff_headers = make_staff(client)
    today = local_today()
    for override, field in [({"vehicle_types": []}, "vehicle_types"),
                            ({"load_factor": 1.5}, "load_factor"),
                            ({"date_to": (today - timedelta(days=1)).isoformat()}, "date_to"),
                            ({"vehicle_types": [{"name": "x", "seats": 0, "count": 1}]}, "vehicle_types.0.seats")]:
        response = client.post("/api/console/v1/plans", json=plan_body(**override), headers=staff_headers)
        assert response.status_code == 422, override
        assert field in response.json["error"]["fields"], response.json
    assert db.session.scalar(select(func.count()).select_from(Seat)) == 0


def test_unapproved_applications_are_not_planned(client):
    staff_headers = make_staff(client)
    submit_application(client, make_worker(client))
    assert propose(client, staff_headers)["vehicles"] == 0


def test_planning_for_another_county_or_park_is_403_naming_the_field(client):
    from app.models import Park

    parks = dict(db.session.execute(select(Park.code, Park.id)).all())
    helan = make_staff(client, "helan", county_code="640122")
    park = make_staff(client, "park", role="park_operator", park_id=parks["yc-hitech"])
    approved_applications(client, make_staff(client, "yongning"), 2)
    refusals = [(helan, {"county_code": "640121"}, {"county_code"}),
                (helan, {"park_id": parks["helan-ip"]}, {"park_id"}),
                (helan, {"county_code": "640121", "park_id": parks["yongning-ip"]}, {"county_code", "park_id"}),
                (park, {"park_id": parks["yongning-ip"]}, {"park_id"}),
                (park, {"county_code": "640121"}, {"county_code"})]
    for headers, scope, fields in refusals:
        response = client.post("/api/console/v1/plans", json=plan_body(**scope), headers=headers)
        assert response.status_code == 403, (scope, response.json)
        assert response.json["error"]["code"] == "plan_out_of_scope" and set(response.json["error"]["fields"]) == fields
    assert db.session.scalar(select(func.count()).select_from(Plan)) == 0  # nothing was planned anywhere
    # Naming one's own scope is no error: it is the scope the plan gets anyway.
    assert propose(client, helan, county_code="640122")["vehicles"] == 0
    assert propose(client, park, park_id=parks["yc-hitech"])["vehicles"] == 0
