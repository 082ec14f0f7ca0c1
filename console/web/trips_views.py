"""What the trip pages (车次（一车一方案）) show, assembled from the services' answers: list rows, crew contacts,
manifests, labels, and the edit form's fields read into the API's PATCH body.

Identity is shown as the services mask it: manifests give masked names and the ID's last four,
workers' and crew phones come as their stored masks. No rule is decided here.
"""
from sqlalchemy import select

from app.errors import flatten_fields
from app.extensions import db
from app.models import Checkpoint, Worker
from app.services.people.identity import mask_name
from app.services.scanning import manifests
from app.services.transport import trips as trip_service
from console import schemas
from console.web import forms, words

PER_PAGE = 50
TRIP_STATUS, SEAT_STATUS, HEALTH = words.TRIP, words.SEAT, words.HEALTH
# The edit form: (field of PATCH /trips/<id>, label, input type). Phones are write-only: blank keeps the number.
FORM_FIELDS = (("plate", "车牌号", "text"), ("driver_name", "司机姓名", "text"), ("driver_phone", "司机电话", "tel"),
               ("responsible_name", "跟车负责人", "text"), ("responsible_phone", "负责人电话", "tel"),
               ("medic_name", "随车医护", "text"), ("medic_phone", "医护电话", "tel"),
               ("departure_time", "发车时间", "time"))
_KEEP_WHEN_BLANK = ("driver_phone", "responsible_phone", "medic_phone", "departure_time")


def list_filters(args):
    """The list's filters (date, status) read with the API's own query schema; ({filters}, {field: error})."""
    given = {name: args[name].strip() for name in ("date", "status") if args.get(name, "").strip()}
    errors = schemas.TripListIn().validate(given)
    filters = {name: value for name, value in given.items() if name not in errors}
    return schemas.TripListIn().load(filters), flatten_fields(errors)


def page_of(items, args):
    """One page of a list: (items on the page, page number, number of pages)."""
    pages = max(1, -(-len(items) // PER_PAGE))
    number = forms.page_or_first(args.get("page", "1"), pages)
    return items[(number - 1) * PER_PAGE:number * PER_PAGE], number, pages


def workers_by_id(worker_ids):
    """{worker_id: Worker} for the ids given (None skipped)."""
    wanted = {worker_id for worker_id in worker_ids if worker_id is not None}
    if not wanted:
        return {}
    return {worker.id: worker for worker in db.session.scalars(select(Worker).where(Worker.id.in_(wanted)))}


def crew_contact(worker):
    """A captain's or vice-captain's masked name and masked phone, or None."""
    if worker is None:
        return None
    return {"name": mask_name(worker.name), "mobile": worker.mobile_mask}


def list_rows(trips):
    """Rows of the trip list: the trip, its live passengers, load factor and captain."""
    used = trip_service.seat_counts([trip.id for trip in trips])
    workers = workers_by_id(trip.captain_worker_id for trip in trips)
    return [{"trip": trip, "used": used.get(trip.id, 0), "load": _percent(used.get(trip.id, 0), trip.seats),
             "captain": crew_contact(workers.get(trip.captain_worker_id))} for trip in trips]


def _percent(part, whole):
    return round(100 * part / whole) if whole else 0


def sheets(trips):
    """One printable manifest per vehicle: the trip, its crew contacts and its seats (masked) with counts."""
    listed = manifests.manifests_of(trips)
    workers = workers_by_id([worker_id for trip in trips
                             for worker_id in (trip.captain_worker_id, trip.vice_captain_worker_id)])
    return [{"trip": trip, "manifest": listed[trip.id], "captain": crew_contact(workers.get(trip.captain_worker_id)),
             "vice": crew_contact(workers.get(trip.vice_captain_worker_id))} for trip in trips]


def checkpoint_name(checkpoint_id):
    """The name of the trip's arrival checkpoint, or None."""
    checkpoint = db.session.get(Checkpoint, checkpoint_id) if checkpoint_id else None
    return checkpoint.name if checkpoint else None


def form_body(form):
    """The PATCH body a submitted edit form means: the fields the page showed as inputs, blank name → cleared.

    Only fields among FORM_FIELDS are read; a field the role may not write is read too when it was
    sent (a forged form), so the service refuses it exactly as the API would.
    """
    body = {}
    for name, _, _ in FORM_FIELDS:
        if name not in form:
            continue
        value = form[name].strip()
        if value or name not in _KEEP_WHEN_BLANK:
            body[name] = value or None
    return body


def form_values(trip, submitted=None):
    """What the form's inputs hold: the trip's values (phones blank), with the submitted ones after an error."""
    values = {name: getattr(trip, name) or "" for name in ("plate", "driver_name", "responsible_name", "medic_name")}
    values["departure_time"] = trip.departure_time.strftime("%H:%M") if trip.departure_time else ""
    values.update({name: submitted[name] for name, _, _ in FORM_FIELDS if submitted and name in submitted})
    return values
