"""Manifests (乘客名单), reconciliation (核对), offline bundles and checkpoint lists for scanners."""
import base64
from collections import Counter
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app.errors import NotFound
from app.extensions import db
from app.models import Checkpoint, IsolationOrder, ScanEvent, Seat, Trip, Worker
from app.models.base import utcnow
from app.models.transport import counted_seats
from app.services.credentials import signing, trust
from app.services.people import health
from app.services.people.identity import mask_name
from app.services.platform import scope
from app.services.platform.timeutil import iso_local
from app.services.scanning import bundles
from app.services.scanning.checkin import captain_trips

SEAT_STATUSES = ("assigned", "boarded", "arrived", "no_show", "isolated")


def trip_for_scanner(scanner, trip_id):
    """A trip the scanner may read: their own vehicle (captain), their scope (staff), or heading
    to their checkpoint (checkpoint staff). Anything else is NotFound."""
    trip = db.session.get(Trip, trip_id)
    if trip is not None and _may_read(scanner, trip):
        return trip
    raise NotFound("trip_not_found", "没有找到该车次")


def _may_read(scanner, trip):
    if scanner.kind == "worker":  # a captain sees their own vehicle while it is open for scanning
        return trip.id in {t.id for t in captain_trips(scanner.id, utcnow())}
    if scanner.role == "checkpoint_staff":
        return trip.arrival_checkpoint_id == scanner.checkpoint_id
    return scanner.staff is not None and scope.covers_trip(scanner.staff, trip)


def manifest(trip):
    """Every seat with masked identity, status and health; and the counts per status.

    A seat counts while assigned, or once revoked as a no-show when its trip closed (as the
    roster and the dashboard count it): closing changes no one's status, and a boarding
    uploaded after the close shows that passenger boarded.
    """
    return manifests_of([trip])[trip.id]


def manifests_of(trips):
    """{trip_id: manifest} for many trips in three queries: seats, scans and health records."""
    trip_ids = [trip.id for trip in trips]
    rows = db.session.execute(
        counted_seats(select(Seat, Worker).join(Worker, Worker.id == Seat.worker_id))
        .where(Seat.trip_id.in_(trip_ids)).order_by(Seat.trip_id, Seat.seat_no)
    ).all() if trip_ids else []
    passages = _passages([seat.id for seat, _ in rows])
    records = health.observations_by_worker({worker.id for _, worker in rows})
    by_id = {trip.id: trip for trip in trips}
    seats_of = {trip_id: [] for trip_id in trip_ids}
    for seat, worker in rows:
        status = health.derive(records[worker.id])
        passage = passages.get(seat.id, {})
        seats_of[seat.trip_id].append({
            "serial": seat.id, "seat_no": seat.seat_no, "worker_id": worker.id, "name": mask_name(worker.name),
            "id_last4": worker.id_last4, "status": _seat_status(by_id[seat.trip_id], passage),
            "boarded": passage.get("board") == "allow", "arrived": "arrive" in passage,
            "health": {"status": status.status, "reason": status.reason},
        })
    return {trip.id: _with_counts(trip, seats_of[trip.id]) for trip in trips}


def _with_counts(trip, seats):
    counts = Counter(seat["status"] for seat in seats)
    return {"trip_id": trip.id, "trip_status": trip.status, "seats": seats,
            "counts": {name: counts.get(name, 0) for name in SEAT_STATUSES} | {"total": len(seats)}}


def _passages(seat_ids):
    """{seat_id: {"board": verdict, "arrive": verdict, "isolate": bool}} from accepted scans."""
    if not seat_ids:
        return {}
    found = {}
    for seat_id, kind, verdict in db.session.execute(
        select(ScanEvent.seat_id, ScanEvent.kind, ScanEvent.verdict)
        .where(ScanEvent.seat_id.in_(seat_ids), ScanEvent.verdict != "deny")
    ):
        entry = found.setdefault(seat_id, {})
        entry.setdefault(kind, verdict)
        entry["isolate"] = entry.get("isolate", False) or verdict == "isolate"
    return found


def _seat_status(trip, passage):
    if passage.get("isolate"):
        return "isolated"
    if "arrive" in passage:
        return "arrived"
    if passage.get("board") == "allow":
        return "boarded"
    return "no_show" if trip.status in ("arrived", "closed") else "assigned"


def reconciliation(trip):
    """Boarded against arrived against missing, for the trip and for its whole convoy."""
    convoy_trips = db.session.scalars(
        select(Trip).where(Trip.convoy_id == trip.convoy_id, Trip.status != "cancelled").order_by(Trip.id)
    ).all()
    listed = manifests_of(convoy_trips)  # the whole convoy in one go, not a manifest per bus
    per_trip = [_tally(t, listed[t.id]) for t in convoy_trips]
    totals = Counter()
    for tally in per_trip:
        totals.update({k: v for k, v in tally.items() if isinstance(v, int) and k != "trip_id"})
    return {"trip": next(t for t in per_trip if t["trip_id"] == trip.id),
            "convoy": {"convoy_id": trip.convoy_id, "trips": per_trip, **totals}}


def _tally(trip, listed):
    seats, counts = listed["seats"], listed["counts"]
    boarded = sum(seat["boarded"] for seat in seats)
    arrived = sum(seat["arrived"] for seat in seats)
    return {"trip_id": trip.id, "plate": trip.plate, "status": trip.status, "seats": counts["total"],
            "boarded": boarded, "arrived": arrived, "missing": sum(s["boarded"] and not s["arrived"] for s in seats),
            "no_show": counts["no_show"], "isolated": counts["isolated"]}


def offline_bundle(trip):
    """What a captain's phone needs to scan with no network, signed with the active key.

    The signature covers the canonical JSON (sorted keys, no spaces, UTF-8) of every field
    but `signature`, the certificate issuers included. `keys` and `revocations` are the trip
    credential's, as phones already in use read them; `certificates` (健康证明互认) adds every
    deployment whose certificates are recognised here (`bundles.certificate_section`).
    """
    body = {
        "version": 1,
        "issued_at": iso_local(utcnow()),
        "trip": {"id": trip.id, "plate": trip.plate, "origin": trip.origin, "destination": trip.destination,
                 "departure_date": trip.departure_date.isoformat(),
                 "departure_time": trip.departure_time.strftime("%H:%M")},
        "manifest": manifest(trip)["seats"],
        "keys": [{"kid": key.kid, "algorithm": key.algorithm, "public_key": base64.b64encode(key.public_key).decode(),
                  "retired_at": iso_local(key.retired_at)} for key in signing.trust_list()],
        "revocations": sorted(signing.revoked_serials()),
        "rules": {"fever_threshold": str(health.rules().fever_threshold)},
        "certificates": bundles.certificate_section(trust.issuers().values(),
                                                    current_app.config["TRUST_STALE_HOURS"]),
    }
    key = signing.active_key()
    private_key = signing.private_key_of(key)
    signature = private_key.sign(bundles.canonical(body))
    return {**body, "signature": {"kid": key.kid, "algorithm": "Ed25519",
                                  "value": base64.b64encode(signature).decode()}}


def expected_at(checkpoint_id):
    """Trips heading to a checkpoint with their passengers, flagged people (red, yellow, isolation) first."""
    if db.session.get(Checkpoint, checkpoint_id) is None:
        raise NotFound("checkpoint_not_found", "没有该卡口")
    trips = db.session.scalars(
        select(Trip).where(Trip.arrival_checkpoint_id == checkpoint_id,
                           Trip.status.in_(("published", "departed", "arrived")))
        .order_by(Trip.expected_arrival_at, Trip.departure_date, Trip.id)
    ).all()
    manifests = manifests_of(trips)
    riders = {seat["worker_id"] for found in manifests.values() for seat in found["seats"]}
    isolated = set(db.session.scalars(select(IsolationOrder.worker_id).where(
        IsolationOrder.worker_id.in_(riders), IsolationOrder.status.in_(("pending", "active"))))) if riders else set()
    result = []
    for trip in trips:
        passengers = manifests[trip.id]["seats"]
        for passenger in passengers:
            passenger["flagged"] = (passenger["health"]["status"] in ("red", "yellow")
                                    or passenger["worker_id"] in isolated or passenger["status"] == "isolated")
        passengers.sort(key=lambda p: (not p["flagged"], p["seat_no"]))
        result.append({"trip_id": trip.id, "plate": trip.plate, "origin": trip.origin, "status": trip.status,
                       "expected_arrival_at": trip.expected_arrival_at, "passengers": passengers,
                       "flagged": sum(p["flagged"] for p in passengers)})
    result.sort(key=lambda t: (-t["flagged"], t["expected_arrival_at"] or datetime.max))
    return result

