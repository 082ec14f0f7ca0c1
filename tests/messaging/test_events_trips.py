"""trip_assigned, crew_published and trip_changed: publishing, moving, taking off, editing and cancelling trips."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import Application, AuditLog, Revocation, Seat, Trip
from app.services.messaging import fields, templates
from app.services.notices import events
from app.services.platform.timeutil import local_today
from tests.builders import approved_applications, make_mobile, make_staff, publish_trip
from tests.console.test_plans import propose
from tests.messaging.event_helpers import assert_fitted, messages

TRIPS = "/api/console/v1/trips"


def _departure(trip):
    return f"{local_today().year}年{local_today().month}月{local_today().day}日 {trip['departure_time'][:5]}"


def test_publishing_tells_every_passenger_their_seat_and_the_crew_their_task(client):
    made = publish_trip(client, passengers=4)
    trip = made["trip"]
    captain_mobile = make_mobile(made["riders"].index(made["captain"]))
    seats = {p["worker_id"]: p["seat_no"] for p in trip["passengers"]}
    for rider in made["riders"]:
        [message] = messages(rider["worker_id"], "trip_assigned")
        assert {key: value["value"] for key, value in templates.payload(message.data).items()} == {
            "date1": _departure(trip), "thing2": "永宁县汽车站", "thing3": f"车牌待定 {seats[rider['worker_id']]}号座",
            "phone_number4": captain_mobile, "thing5": "乘车码已生成，请提前到达上车点；全程佩…"}
        assert message.page == f"pages/trips/detail?id={trip['id']}" and "全程佩戴口罩" in message.body
        # The captain's mobile is kept sealed in the stored WeChat data and masked in the inbox text.
        assert message.data["phone_number4"].startswith(templates.SEALED) and captain_mobile not in str(message.data)
        assert captain_mobile not in message.body and f"车长电话：{fields.masked_phone(captain_mobile)}" in message.body
        assert_fitted(message)
    for role, rider in (("车长", made["captain"]), ("副车长", made["vice"])):
        [message] = messages(rider["worker_id"], "crew_published")
        assert message.data == {"thing1": f"您被指定为{role}", "date2": _departure(trip), "thing3": "车牌待定 乘客4人",
                                "thing4": "乘客名单和离线包已可在小程序查看"}
    passenger = next(r for r in made["riders"] if r not in (made["captain"], made["vice"]))
    assert messages(passenger["worker_id"], "crew_published") == []


def test_the_captain_phone_falls_back_to_the_responsible_person_then_a_dash(app):
    trip = Trip(captain_worker_id=None, responsible_phone_cipher=None)
    assert events.captain_phone_of(trip) == "-"
    from app import crypto
    from app.services.people.identity import mask_phone

    crypto.seal(trip, "responsible_phone", "13912345678", "trip.responsible_phone", mask_phone)
    assert events.captain_phone_of(trip) == "13912345678"


def _two_published_trips(client):
    staff = make_staff(client)
    approved_applications(client, staff, 7)
    plan = propose(client, staff)
    published = client.post(f"/api/console/v1/plans/{plan['id']}/publish", headers=staff)
    assert published.status_code == 200, published.json
    big, small = sorted(published.json["trips"], key=lambda t: -len(t["passengers"]))
    return staff, plan, big, small


def test_moving_an_issued_seat_tells_the_passenger_of_the_new_seat_and_qr(client):
    staff, plan, big, small = _two_published_trips(client)
    mover = next(p for p in big["passengers"] if p["worker_id"] not in (big["captain_worker_id"],
                                                                         big["vice_captain_worker_id"]))
    response = client.post(f"/api/console/v1/plans/{plan['id']}/moves",
                           json={"application_id": mover["application_id"], "trip_id": small["id"]}, headers=staff)
    assert response.status_code == 200, response.json
    new_seat = db.session.scalar(select(Seat).where(Seat.live_application_id == mover["application_id"]))
    [message] = messages(mover["worker_id"], "trip_changed")
    assert message.data["thing1"] == f"已调至 车牌待定 {new_seat.seat_no}号座"
    assert message.data["thing3"] == "新的乘车码已生成，旧码作废"
    assert message.page == "pages/trips/index"
    assert_fitted(message)


def test_a_draft_move_tells_nobody(client):
    staff = make_staff(client)
    approved_applications(client, staff, 7)
    plan = propose(client, staff)
    big, small = sorted(plan["trips"], key=lambda t: -len(t["passengers"]))
    mover = big["passengers"][-1]
    client.post(f"/api/console/v1/plans/{plan['id']}/moves",
                json={"application_id": mover["application_id"], "trip_id": small["id"]}, headers=staff)
    assert messages(mover["worker_id"]) and messages(mover["worker_id"], "trip_changed") == []


def test_taking_a_passenger_off_tells_them_the_qr_is_void(client):
    made = publish_trip(client, passengers=4)
    trip = made["trip"]
    rider = trip["passengers"][-1]
    response = client.post(f"{TRIPS}/{trip['id']}/seats/{rider['seat_id']}/cancel", headers=made["staff"])
    assert response.status_code == 200, response.json
    [message] = messages(rider["worker_id"], "trip_changed")
    assert (message.data["thing1"], message.data["thing3"]) == ("您已被移出该车次", "原乘车码已作废，待重新编班")
    assert message.data["date2"] == _departure(trip)


def test_editing_time_place_or_plate_of_a_published_trip_tells_its_passengers(client):
    made = publish_trip(client, passengers=3)
    trip_id = made["trip"]["id"]
    quiet = client.patch(f"{TRIPS}/{trip_id}", json={"notice": "请带好口罩", "driver_name": "王师傅"},
                         headers=made["staff"])
    assert quiet.status_code == 200 and all(messages(r["worker_id"], "trip_changed") == [] for r in made["riders"])
    same = client.patch(f"{TRIPS}/{trip_id}", json={"departure_time": made["trip"]["departure_time"][:5]},
                        headers=made["staff"])
    assert same.status_code == 200 and all(messages(r["worker_id"], "trip_changed") == [] for r in made["riders"])
    changed = client.patch(f"{TRIPS}/{trip_id}", json={"plate": "宁A12345", "departure_time": "09:30"},
                           headers=made["staff"])
    assert changed.status_code == 200, changed.json
    for rider in made["riders"]:
        [message] = messages(rider["worker_id"], "trip_changed")
        assert message.data["thing1"] == "出发时间调整，车牌改为宁A12345"
        assert message.data["date2"].endswith(" 09:30") and message.data["thing3"] == "乘车码不变，请以最新安排为准"
        assert_fitted(message)
    place = "银川市永宁县望远镇人民政府东门广场对面的公交首末站停车场内第三排（请提前半小时到达）"
    client.patch(f"{TRIPS}/{trip_id}", json={"departure_place": place}, headers=made["staff"])
    message = messages(made["riders"][0]["worker_id"], "trip_changed")[-1]
    assert len(message.data["thing1"]) == 20 and place in message.body
    assert_fitted(message)


def test_cancelling_a_published_trip_revokes_every_seat_and_tells_each_passenger(client):
    made = publish_trip(client, passengers=4)
    trip_id, staff = made["trip"]["id"], made["staff"]
    assert client.post(f"{TRIPS}/{trip_id}/cancel", json={}, headers=staff).status_code == 422
    blank = client.post(f"{TRIPS}/{trip_id}/cancel", json={"reason": "  "}, headers=staff)
    assert blank.status_code == 422 and blank.json["error"]["code"] == "reason_required"
    other = make_staff(client, "xixia", county_code="640105")
    assert client.post(f"{TRIPS}/{trip_id}/cancel", json={"reason": "x"}, headers=other).status_code == 404
    response = client.post(f"{TRIPS}/{trip_id}/cancel", json={"reason": "目的地道路封闭"}, headers=staff)
    assert response.status_code == 200, response.json
    assert response.json["status"] == "cancelled"
    seat_ids = [p["seat_id"] for p in made["trip"]["passengers"]]
    assert set(db.session.scalars(select(Revocation.serial))) == set(seat_ids)
    assert db.session.scalar(select(func.count()).select_from(Seat).where(Seat.live_application_id.is_not(None))) == 0
    statuses = {db.session.get(Application, r["application_id"]).status for r in made["riders"]}
    assert statuses == {"approved"}
    for rider in made["riders"]:
        [message] = messages(rider["worker_id"], "trip_changed")
        assert (message.data["thing1"], message.data["thing3"]) == ("车次已取消：目的地道路封闭", "原乘车码已作废，待重新编班")
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.action == "trip.cancel")) == "trip.cancel"
    again = client.post(f"{TRIPS}/{trip_id}/cancel", json={"reason": "再取消"}, headers=staff)
    assert again.status_code == 409 and again.json["error"]["code"] == "trip_not_cancellable"
    replanned = propose(client, staff, date_to=local_today().isoformat())  # its passengers can be planned again
    assert sum(len(t["passengers"]) for t in replanned["trips"]) == 4


def test_a_trip_under_way_or_a_draft_cannot_be_cancelled(client):
    made = publish_trip(client, passengers=2)
    trip = db.session.get(Trip, made["trip"]["id"])
    trip.status = "departed"
    db.session.commit()
    left = client.post(f"{TRIPS}/{trip.id}/cancel", json={"reason": "x"}, headers=made["staff"])
    assert left.status_code == 409 and left.json["error"]["code"] == "trip_not_cancellable"
    assert db.session.scalar(select(func.count()).select_from(Revocation)) == 0
    staff = make_staff(client, "ops9")
    approved_applications(client, staff, 2, start=10)
    draft = propose(client, staff)["trips"][0]
    refused = client.post(f"{TRIPS}/{draft['id']}/cancel", json={"reason": "x"}, headers=staff)
    assert refused.status_code == 409 and "方案" in refused.json["error"]["message"]


def test_reopening_a_closed_trip_tells_the_restored_no_shows_of_their_new_qr(client):
    from tests.checkin.test_closing import closed_with_no_shows

    made = publish_trip(client, passengers=4)
    absent, _ = closed_with_no_shows(client, made)
    reopened = client.post(f"{TRIPS}/{made['trip']['id']}/reopen", headers=made["staff"])
    assert reopened.status_code == 200, reopened.json
    for rider in absent:
        [message] = messages(rider["worker_id"], "trip_changed")
        assert message.data["thing1"].startswith("座位已恢复：车牌待定 ")
        assert message.data["thing3"] == "新的乘车码已生成，旧码作废"
    boarded = [r for r in made["riders"] if r not in absent]
    assert all(messages(r["worker_id"], "trip_changed") == [] for r in boarded)
