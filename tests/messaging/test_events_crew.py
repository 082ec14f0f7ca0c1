"""A published trip's crew changes (review finding 7): whoever becomes captain or vice-captain is told their task
(crew_published); one who keeps their role hears nothing again; a draft's crew is told only at publishing."""
from app.extensions import db
from app.models import Plan
from tests.builders import publish_trip
from tests.messaging.event_helpers import messages

TRIPS = "/api/console/v1/trips"
MOVES = "/api/console/v1/plans/{}/moves"


def _plain(made):
    """A passenger of the trip who is neither captain nor vice."""
    return next(r for r in made["riders"] if r not in (made["captain"], made["vice"]))


def test_appointing_a_captain_in_a_published_plan_tells_the_new_captain(client):
    made = publish_trip(client, passengers=4)
    trip, newcomer = made["trip"], _plain(made)
    version = db.session.get(Plan, trip["plan_id"]).version
    answer = client.post(MOVES.format(trip["plan_id"]), headers=made["staff"],
                         json={"application_id": newcomer["application_id"], "role": "captain", "version": version})
    assert answer.status_code == 200, answer.json
    [told] = messages(newcomer["worker_id"], "crew_published")
    assert told.data["thing1"] == "您被指定为车长" and told.data["thing3"] == "车牌待定 乘客4人"
    assert len(messages(made["captain"]["worker_id"], "crew_published")) == 1  # only publishing told them
    assert len(messages(made["vice"]["worker_id"], "crew_published")) == 1


def test_editing_the_crew_of_a_published_trip_tells_the_new_vice(client):
    made = publish_trip(client, passengers=4)
    trip, newcomer = made["trip"], _plain(made)
    answer = client.patch(f"{TRIPS}/{trip['id']}", json={"vice_captain_worker_id": newcomer["worker_id"]},
                          headers=made["staff"])
    assert answer.status_code == 200, answer.json
    [told] = messages(newcomer["worker_id"], "crew_published")
    assert told.data["thing1"] == "您被指定为副车长"
    assert len(messages(made["captain"]["worker_id"], "crew_published")) == 1


def test_taking_the_captain_off_tells_whoever_replaces_them(client):
    made = publish_trip(client, passengers=4)
    trip, captain, vice = made["trip"], made["captain"], made["vice"]
    seat = next(p for p in trip["passengers"] if p["worker_id"] == captain["worker_id"])
    answer = client.post(f"{TRIPS}/{trip['id']}/seats/{seat['seat_id']}/cancel", headers=made["staff"])
    assert answer.status_code == 200, answer.json
    promoted = messages(vice["worker_id"], "crew_published")
    assert [m.data["thing1"] for m in promoted] == ["您被指定为副车长", "您被指定为车长"]
    assert promoted[-1].data["thing3"] == "车牌待定 乘客3人"
    new_vice = [r for r in made["riders"] if r not in (captain, vice)
                and [m.data["thing1"] for m in messages(r["worker_id"], "crew_published")] == ["您被指定为副车长"]]
    assert len(new_vice) == 1
