"""seat_facts.load: the seats a scan names, with each passenger's health record oldest first."""
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import HealthEvent, Seat
from app.models.base import utcnow
from app.services.scanning import seat_facts
from tests.builders import publish_trip


def _event(worker_id, kind, at, temperature):
    event = HealthEvent(worker_id=worker_id, kind=kind, occurred_at=at, temperature=temperature, symptoms=[],
                        actor_kind="staff")
    db.session.add(event)
    db.session.flush()
    return event.id


def test_the_record_comes_oldest_first_and_ties_in_the_order_stored(client):
    trip = publish_trip(client, passengers=2)
    first, second = (rider["worker_id"] for rider in trip["riders"])
    seats = dict(db.session.execute(select(Seat.worker_id, Seat.id)).all())
    later = utcnow() + timedelta(hours=2)
    # Stored out of time order, two of them at the same moment.
    _event(first, "checkpoint", later, 36.9)
    _event(first, "follow_up", later - timedelta(hours=1), 36.7)
    _event(first, "arrival", later, 36.8)
    _event(second, "checkpoint", later, 37.0)
    db.session.commit()

    seen = seat_facts.load([seats[second], seats[first]])

    assert set(seen) == {seats[first], seats[second]}
    record = [(item.kind, str(item.temperature)) for item in seen[seats[first]].observations]
    assert record[-3:] == [("follow_up", "36.7"), ("checkpoint", "36.9"), ("arrival", "36.8")]
    assert [item.kind for item in seen[seats[second]].observations][-1] == "checkpoint"
    assert all(item.kind != "follow_up" for item in seen[seats[second]].observations)
    times = [item.occurred_at for item in seen[seats[first]].observations]
    assert times == sorted(times)


def test_unknown_serials_are_left_out(client):
    trip = publish_trip(client, passengers=2)
    seat_id = db.session.scalars(select(Seat.id).where(Seat.worker_id == trip["riders"][0]["worker_id"])).one()

    assert list(seat_facts.load([seat_id, 10**8])) == [seat_id]
    assert seat_facts.load([]) == {}
