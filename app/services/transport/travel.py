"""What a worker sees of their trips, and their trip QR code."""
import hashlib

from sqlalchemy import func, select

from app import crypto
from app.errors import NotFound
from app.extensions import db
from app.models import Convoy, Seat, Trip, Worker
from app.services.credentials import credentials, signing
from app.services.platform import audit, cache

VISIBLE_STATUSES = ("published", "departed", "arrived", "closed")


def trips_for_worker(worker):
    """The worker's published trips with their seats, soonest first: [(trip, seat)]."""
    rows = db.session.execute(
        select(Trip, Seat).join(Seat, Seat.trip_id == Trip.id)
        .where(Seat.worker_id == worker.id, Seat.status == "assigned", Trip.status.in_(VISIBLE_STATUSES))
        .order_by(Trip.departure_date, Trip.departure_time, Trip.id)
    ).all()
    return [(trip, seat) for trip, seat in rows]


def seat_for_worker(worker, trip_id):
    """The worker's live seat on a published trip, with the trip; anyone else gets NotFound."""
    row = db.session.execute(
        select(Trip, Seat).join(Seat, Seat.trip_id == Trip.id)
        .where(Trip.id == trip_id, Seat.worker_id == worker.id, Seat.status == "assigned",
               Trip.status.in_(VISIBLE_STATUSES))
    ).first()
    if row is None:
        raise NotFound("trip_not_found", "没有找到您的这个车次")
    return row


def trip_details(worker, trip_id):
    """Everything the passenger needs: trip, seat, convoy, captain and vice-captain with full phones.

    The captain's phone is shown in full to the trip's own passengers, until the trip is closed;
    each such read is audited. The vice-captain's is shown masked.
    """
    trip, seat = seat_for_worker(worker, trip_id)
    convoy = db.session.get(Convoy, trip.convoy_id)
    crew = {}
    for role, worker_id in (("captain", trip.captain_worker_id), ("vice_captain", trip.vice_captain_worker_id)):
        person = db.session.get(Worker, worker_id) if worker_id else None
        if person is None:
            crew[role] = None
            continue
        phone = person.mobile_mask
        if role == "captain" and trip.status != "closed" and person.mobile_cipher:
            phone = crypto.cipher().decrypt(person.mobile_cipher, "worker.mobile")
            audit.record("worker", worker.id, "read.full_phone", "worker", person.id, trip_id=trip.id, role=role)
        crew[role] = {"name": person.name, "phone": phone, "is_me": person.id == worker.id}
    db.session.commit()
    convoy_size = db.session.scalar(
        select(func.count()).select_from(Trip).where(Trip.convoy_id == convoy.id, Trip.status.in_(VISIBLE_STATUSES))
    )
    return {"trip": trip, "seat": seat, "convoy": convoy, "convoy_size": convoy_size, **crew}


def credential(worker, trip_id):
    """The QR text of the worker's seat on a trip: {text, serial, valid_from, valid_until}."""
    trip, seat = seat_for_worker(worker, trip_id)
    text, valid_from, valid_until = signing.issue_for_seat(seat, trip)
    return {"text": text, "serial": seat.serial, "valid_from": valid_from, "valid_until": valid_until}


def credential_png(worker, trip_id):
    """The QR image of the worker's credential; cached, since drawing costs far more than signing."""
    text = credential(worker, trip_id)["text"]
    key = "qr:" + hashlib.sha256(text.encode("ascii")).hexdigest()
    png = cache.get_bytes(key)
    if png is None:
        png = credentials.render_qr_png(text)
        cache.set_bytes(key, png, ttl=7 * 24 * 3600)
    return png
