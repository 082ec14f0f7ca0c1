"""Assembling plans and trips for the console's response schemas (identity masked here)."""
from sqlalchemy import select

from app.extensions import db
from app.models import Application, Convoy, Seat, Trip, Worker


def passengers_by_trip(trip_ids):
    """{trip_id: [passenger dict]} for the live seats of the trips, masked identity."""
    if not trip_ids:
        return {}
    rows = db.session.execute(
        select(Seat, Worker, Application)
        .join(Worker, Worker.id == Seat.worker_id)
        .join(Application, Application.id == Seat.application_id)
        .where(Seat.trip_id.in_(trip_ids), Seat.live_application_id.is_not(None))
        .order_by(Seat.trip_id, Seat.seat_no)
    ).all()
    result = {trip_id: [] for trip_id in trip_ids}
    for seat, worker, application in rows:
        result[seat.trip_id].append({
            "seat_id": seat.id, "seat_no": seat.seat_no, "status": seat.status,
            "application_id": application.id, "worker_id": worker.id, "name": worker.name,
            "id_number": worker.id_number_mask, "mobile": worker.mobile_mask,
            "employer": application.employer_name or (f"企业#{application.employer_id}"
                                                      if application.employer_id else None),
        })
    return result


def trips_view(trips):
    """Trips as dicts with their passengers."""
    passengers = passengers_by_trip([trip.id for trip in trips])
    return [_trip_view(trip, passengers.get(trip.id, [])) for trip in trips]


def _columns(row):
    """A row's plain columns; encrypted ones never leave the server."""
    return {column.key: getattr(row, column.key) for column in row.__table__.columns
            if not column.key.endswith("_cipher")}


def _trip_view(trip, passengers):
    view = _columns(trip)
    view["passengers"] = passengers
    return view


def plan_view(plan, unplaced=(), dropped=()):
    """A plan with its convoys and live trips (cancelled ones left out)."""
    trips = db.session.scalars(
        select(Trip).where(Trip.plan_id == plan.id, Trip.status != "cancelled").order_by(Trip.id)
    ).all()
    convoys = db.session.scalars(select(Convoy).where(Convoy.plan_id == plan.id).order_by(Convoy.id)).all()
    view = _columns(plan)
    view.update(
        convoys=convoys,
        trips=trips_view(trips),
        unplaced=[{"application_id": application_id, "reason": reason} for application_id, reason in unplaced],
        dropped=list(dropped),
        vehicles=len(trips),
    )
    return view


def application_view(application, worker):
    """A reviewed application with its worker's masked identity."""
    view = _columns(application)
    view["worker"] = {"id": worker.id, "name": worker.name, "id_number": worker.id_number_mask,
                      "mobile": worker.mobile_mask, "gender": worker.gender}
    return view
