"""Two operators editing one draft: a change made from a stale view is refused (plan_changed), nothing changes.

Also the moves that appoint a captain (车长) or vice-captain (副车长), shared by the API and the console page.
"""
import threading

import pytest
from sqlalchemy import func, select

from app.errors import Conflict
from app.extensions import db
from app.models import AuditLog, Plan, Seat, Trip
from app.services.transport import plans
from tests.builders import approved_applications, make_staff
from tests.console.test_plans import propose

MOVES = "/api/console/v1/plans/{}/moves"


def _two_operators_and_a_draft(client, passengers=7):
    """Two county operators of 永宁县 and a draft of two vehicles (7 passengers, 5 a vehicle)."""
    first = make_staff(client, "yongning-a")
    second = make_staff(client, "yongning-b")
    approved_applications(client, first, passengers)
    plan = propose(client, first)
    big, small = sorted(plan["trips"], key=lambda t: -len(t["passengers"]))
    return first, second, plan, big, small


def _snapshot(plan_id):
    """Where everyone sits and who leads each vehicle, as stored."""
    db.session.expire_all()
    seats = db.session.execute(select(Seat.application_id, Seat.trip_id).join(Trip, Trip.id == Seat.trip_id)
                               .where(Trip.plan_id == plan_id, Seat.live_application_id.is_not(None))).all()
    crews = db.session.execute(select(Trip.id, Trip.captain_worker_id, Trip.vice_captain_worker_id)
                               .where(Trip.plan_id == plan_id)).all()
    return sorted(seats), sorted(crews), db.session.get(Plan, plan_id).version


def test_a_move_from_a_stale_view_is_refused_and_changes_nothing(client):
    first, second, plan, big, small = _two_operators_and_a_draft(client)
    assert plan["version"] == 1
    movers = [p["application_id"] for p in big["passengers"]]
    ok = client.post(MOVES.format(plan["id"]), headers=first,
                     json={"application_id": movers[-1], "trip_id": small["id"], "version": 1})
    assert ok.status_code == 200, ok.json
    assert ok.json["version"] == 2
    before = _snapshot(plan["id"])
    stale = client.post(MOVES.format(plan["id"]), headers=second,
                        json={"application_id": movers[-2], "trip_id": small["id"], "version": 1})
    assert stale.status_code == 409
    assert stale.json["error"]["code"] == "plan_changed"
    assert stale.json["error"]["message"] == "该方案已被他人修改，请刷新后再操作"
    assert _snapshot(plan["id"]) == before
    fresh = client.post(MOVES.format(plan["id"]), headers=second,
                        json={"application_id": movers[-2], "trip_id": small["id"], "version": 2})
    assert fresh.status_code == 200 and fresh.json["version"] == 3


def test_clients_that_send_no_version_keep_working(client):
    first, second, plan, big, small = _two_operators_and_a_draft(client)
    moved = client.post(MOVES.format(plan["id"]), headers=second,
                        json={"application_id": big["passengers"][-1]["application_id"], "trip_id": small["id"]})
    assert moved.status_code == 200 and moved.json["version"] == 2
    published = client.post(f"/api/console/v1/plans/{plan['id']}/publish", headers=first)
    assert published.status_code == 200 and published.json["version"] == 3


def test_publish_and_discard_from_a_stale_view_are_refused(client):
    first, second, plan, big, small = _two_operators_and_a_draft(client)
    client.post(MOVES.format(plan["id"]), headers=first,
                json={"application_id": big["passengers"][-1]["application_id"], "trip_id": small["id"]})
    for call in (client.post, client.delete):
        url = f"/api/console/v1/plans/{plan['id']}" + ("/publish" if call == client.post else "")
        stale = call(url + "?version=1", headers=second)
        assert stale.status_code == 409 and stale.json["error"]["code"] == "plan_changed"
        assert db.session.get(Plan, plan["id"]).status == "draft"
    published = client.post(f"/api/console/v1/plans/{plan['id']}/publish?version=2", headers=second)
    assert published.status_code == 200 and published.json["status"] == "published"
    late_discard = client.delete(f"/api/console/v1/plans/{plan['id']}?version=2", headers=first)
    assert late_discard.json["error"]["code"] == "plan_changed"
    assert client.post(f"/api/console/v1/plans/{plan['id']}/publish?version=0", headers=first).status_code == 422


def test_the_service_refuses_the_second_of_two_edits_made_from_one_view(app, client):
    """The service itself guards the version, so every face gets the same protection."""
    _, _, plan, big, small = _two_operators_and_a_draft(client)
    staff_b = _staff("yongning-b")
    mover = big["passengers"][-1]["application_id"]
    plans.edit(_staff("yongning-a"), plan["id"], {"application_id": mover, "trip_id": small["id"], "version": 1})
    before = _snapshot(plan["id"])
    with pytest.raises(Conflict) as refused:
        plans.edit(staff_b, plan["id"], {"application_id": big["passengers"][0]["application_id"],
                                         "role": "captain", "version": 1})
    db.session.rollback()
    assert refused.value.code == "plan_changed" and refused.value.status == 409
    assert _snapshot(plan["id"]) == before


def _staff(username):
    from app.models import StaffUser

    return db.session.scalar(select(StaffUser).where(StaffUser.username == username))


def test_appoint_captain_and_vice_captain(client):
    first, _, plan, big, _ = _two_operators_and_a_draft(client)
    captain, vice = big["captain_worker_id"], big["vice_captain_worker_id"]
    by_worker = {p["worker_id"]: p["application_id"] for p in big["passengers"]}
    other = next(w for w in by_worker if w not in (captain, vice))

    def appoint(worker_id, role):
        response = client.post(MOVES.format(plan["id"]), headers=first,
                               json={"application_id": by_worker[worker_id], "role": role})
        trip = next((t for t in (response.json.get("trips") or []) if t["id"] == big["id"]), None)
        return response, trip

    response, trip = appoint(other, "captain")  # a new captain; the vice stays
    assert response.status_code == 200, response.json
    assert (trip["captain_worker_id"], trip["vice_captain_worker_id"]) == (other, vice)
    _, trip = appoint(vice, "captain")  # the vice becomes captain: the captain becomes vice
    assert (trip["captain_worker_id"], trip["vice_captain_worker_id"]) == (vice, other)
    _, trip = appoint(captain, "vice_captain")  # a new vice; the captain stays
    assert (trip["captain_worker_id"], trip["vice_captain_worker_id"]) == (vice, captain)
    _, trip = appoint(vice, "vice_captain")  # the captain becomes vice: the vice becomes captain
    assert (trip["captain_worker_id"], trip["vice_captain_worker_id"]) == (captain, vice)
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "trip.crew")) == 4
    assert db.session.get(Plan, plan["id"]).version == 5


def test_a_lone_captain_cannot_step_down_and_moves_name_one_change(client):
    staff_headers = make_staff(client)
    approved_applications(client, staff_headers, 1)
    plan = propose(client, staff_headers)
    alone = plan["trips"][0]["passengers"][0]["application_id"]
    refused = client.post(MOVES.format(plan["id"]), headers=staff_headers,
                          json={"application_id": alone, "role": "vice_captain"})
    assert refused.status_code == 422 and "role" in refused.json["error"]["fields"]
    for body in ({"application_id": alone}, {"application_id": alone, "role": "captain", "trip_id": 1},
                 {"application_id": alone, "role": "driver"}):
        assert client.post(MOVES.format(plan["id"]), headers=staff_headers, json=body).status_code == 422
    stranger = client.post(MOVES.format(plan["id"]), headers=staff_headers,
                           json={"application_id": 999999, "role": "captain"})
    assert stranger.status_code == 404 and stranger.json["error"]["code"] == "seat_not_found"
    assert db.session.get(Plan, plan["id"]).version == 1


def test_crew_set_or_a_passenger_taken_off_on_the_trips_side_makes_a_planning_view_stale(client):
    first, second, plan, big, _ = _two_operators_and_a_draft(client)
    crew = (big["captain_worker_id"], big["vice_captain_worker_id"])
    others = [p for p in big["passengers"] if p["worker_id"] not in crew]
    plated = client.patch(f"/api/console/v1/trips/{big['id']}", headers=first, json={"plate": "宁A·12345"})
    assert plated.status_code == 200 and db.session.get(Plan, plan["id"]).version == 1  # not the plan's content
    crewed = client.patch(f"/api/console/v1/trips/{big['id']}", headers=first,
                          json={"captain_worker_id": others[0]["worker_id"]})
    assert crewed.status_code == 200
    stale = client.post(MOVES.format(plan["id"]), headers=second,
                        json={"application_id": others[1]["application_id"], "role": "captain", "version": 1})
    assert stale.status_code == 409 and stale.json["error"]["code"] == "plan_changed"
    db.session.expire_all()
    assert db.session.get(Trip, big["id"]).captain_worker_id == others[0]["worker_id"]
    taken_off = client.post(f"/api/console/v1/trips/{big['id']}/seats/{others[1]['seat_id']}/cancel", headers=first)
    assert taken_off.status_code == 200
    db.session.expire_all()
    assert db.session.get(Plan, plan["id"]).version == 3


def test_another_county_cannot_edit_the_plan(client):
    _, _, plan, big, _ = _two_operators_and_a_draft(client)
    helan = make_staff(client, "helan", county_code="640122")
    response = client.post(MOVES.format(plan["id"]), headers=helan,
                           json={"application_id": big["passengers"][0]["application_id"], "role": "captain"})
    assert response.status_code == 404


def test_two_edits_of_one_version_at_the_same_moment_one_wins(mariadb_app):
    """Two operators press at once, both having seen version 1: the plan's row lock queues them, the second sees 2."""
    with mariadb_app.app_context():
        client = mariadb_app.test_client()
        first, second, plan, big, small = _two_operators_and_a_draft(client)
        bodies = [{"application_id": big["passengers"][-1]["application_id"], "trip_id": small["id"], "version": 1},
                  {"application_id": big["passengers"][0]["application_id"], "role": "vice_captain", "version": 1}]
    results, barrier = [], threading.Barrier(2)

    def run(headers, body):
        with mariadb_app.app_context():
            barrier.wait()
            response = mariadb_app.test_client().post(MOVES.format(plan["id"]), headers=headers, json=body)
            results.append((response.status_code, (response.json.get("error") or {}).get("code")))

    threads = [threading.Thread(target=run, args=pair) for pair in zip((first, second), bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [(200, None), (409, "plan_changed")]
    with mariadb_app.app_context():
        assert db.session.get(Plan, plan["id"]).version == 2


def test_two_unversioned_moves_into_the_last_place_at_once_do_not_overfill_it(mariadb_app):
    """API clients may send no version: the plan's lock must still make the second move see the first."""
    with mariadb_app.app_context():
        client = mariadb_app.test_client()
        first, second, plan, big, small = _two_operators_and_a_draft(client)
        movers = [p["application_id"] for p in big["passengers"]]
        for application_id in movers[-2:]:  # the small vehicle: 4 of its 5 places taken
            moved = client.post(MOVES.format(plan["id"]), headers=first,
                                json={"application_id": application_id, "trip_id": small["id"]})
            assert moved.status_code == 200, moved.json
    results, barrier = [], threading.Barrier(2)

    def run(headers, application_id):
        with mariadb_app.app_context():
            barrier.wait()
            response = mariadb_app.test_client().post(MOVES.format(plan["id"]), headers=headers,
                                                      json={"application_id": application_id, "trip_id": small["id"]})
            results.append(response.status_code)

    threads = [threading.Thread(target=run, args=pair) for pair in zip((first, second), movers[:2])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 409]
    with mariadb_app.app_context():
        seats, _, _ = _snapshot(plan["id"])
        assert sum(1 for _, trip_id in seats if trip_id == small["id"]) == 5
