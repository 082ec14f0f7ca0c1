"""Closing a trip (结束车次) when its course is over, and reopening one closed by mistake.

When a trip may close, by its plan: the bus leaves at its departure time (Beijing) and waits
BOARDING_GRACE_MINUTES for latecomers; the captain's phone can board passengers from
CAPTAIN_EARLY_HOURS before departure until the close. So nobody may close before the
departure time, and until the grace is over only a trip on which every passenger has boarded
(nobody is left who could still board). Whoever would be marked a no-show (their seat revoked,
their application back to approved) is counted, and the close goes through only when the
caller confirms that count: a count that changed meanwhile (a late boarding) is asked again.

Reopening (staff, within the credential window) gives each no-show whose application is still
approved a new seat with a new serial on the same trip, rather than taking the old serial off
the revocation list: scanners sync revocations by an increasing cursor and never learn that one
was withdrawn, so an un-revoked serial would stay refused on every phone that synced it. The old
serials stay revoked (reason `reopened`), the passengers fetch their QR code again, and the
captain downloads the offline bundle again.
"""
from datetime import UTC, timedelta

from flask import current_app
from sqlalchemy import select

from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import Application, Revocation, ScanEvent, Seat, Trip
from app.models.base import utcnow
from app.services.credentials import signing
from app.services.notices import events
from app.services.platform import audit, scope
from app.services.platform.timeutil import LOCAL_ZONE, iso_local
from app.services.scanning.checkin import departure_utc
from app.services.scanning.manifests import trip_for_scanner

OPEN = ("published", "departed", "arrived")


def close_trip(scanner, trip_id, confirmed_no_shows=None, now=None):
    """Close a trip and commit: boarded passengers have travelled, the others are no-shows.

    Args:
        scanner: the captain or vice-captain (once a passenger has boarded), or a planner in scope.
        confirmed_no_shows: the no-show count the caller confirms; required when there are any.
        now: naive UTC, the server's clock by default.
    Raises NotFound (not the caller's trip), Conflict: trip_not_open, trip_not_departed (the captain
    before any boarding), before_departure, boarding_open, no_shows_unconfirmed (details.no_shows).
    """
    now = now or utcnow()
    trip = trip_for_scanner(scanner, trip_id)
    planner = scanner.staff is not None and scanner.role in scope.PLANNERS
    if not planner and scanner.kind != "worker":
        raise NotFound("trip_not_found", "没有找到该车次")
    trip = db.session.get(Trip, trip.id, with_for_update=True, populate_existing=True)
    if trip.status not in OPEN:
        raise Conflict("trip_not_open", "车次未发布或已结束")
    if not planner and trip.status == "published":
        raise Conflict("trip_not_departed", "车次尚未有乘客上车，不能结束")
    seats = db.session.scalars(select(Seat).where(Seat.trip_id == trip.id, Seat.status == "assigned")
                               .with_for_update()).all()
    boarded = boarded_workers(trip.id)
    absent = [seat for seat in seats if seat.worker_id not in boarded]
    _check_course(trip, now, len(absent))
    if absent and confirmed_no_shows != len(absent):
        raise Conflict("no_shows_unconfirmed",
                       f"将有{len(absent)}名乘客记为未乘车（座位作废、报名退回待编班），请确认人数后再结束"
                       if confirmed_no_shows is None else f"未乘车人数已变为{len(absent)}人，请重新确认",
                       details={"no_shows": len(absent)})
    trip.status, trip.closed_at = "closed", now
    for seat in seats:
        application = db.session.get(Application, seat.application_id)
        if application.status != "assigned":
            continue
        if seat.worker_id in boarded:
            application.move_to("travelled", "已乘车")
        else:
            application.move_to("approved", "未乘车，待重新编班")
            seat.status, seat.live_application_id, seat.revoked_at = "revoked", None, now
            signing.revoke_serial(seat.id, "no_show")
    audit.record(scanner.kind, scanner.id, "trip.close", "trip", trip.id, no_shows=len(absent))
    db.session.commit()
    return trip


def boarding_closes_at(trip):
    """The naive-UTC moment after which nobody can board by the plan: departure plus the boarding grace."""
    return departure_utc(trip) + timedelta(minutes=current_app.config["BOARDING_GRACE_MINUTES"])


def boarded_workers(trip_id):
    """Workers with an accepted boarding on this trip, under any of their serials (a reopened trip re-issues)."""
    return set(db.session.scalars(select(ScanEvent.worker_id).where(
        ScanEvent.trip_id == trip_id, ScanEvent.boarded_seat_id.is_not(None))))


def _check_course(trip, now, not_boarded):
    departure = departure_utc(trip)
    if now < departure:
        raise Conflict("before_departure", f"发车时间（北京时间 {_local(departure)}）未到，不能结束车次",
                       details={"departure_at": iso_local(departure)})
    closes = boarding_closes_at(trip)
    if not_boarded and now < closes:
        raise Conflict("boarding_open", f"尚有{not_boarded}名乘客未上车，北京时间 {_local(closes)} 前仍可上车，届时才能结束",
                       details={"boarding_closes_at": iso_local(closes), "not_boarded": not_boarded})


def _local(moment):
    return moment.replace(tzinfo=UTC).astimezone(LOCAL_ZONE).strftime("%m-%d %H:%M")


def reopen_trip(staff, trip_id, now=None):
    """Reopen a trip closed by mistake and commit; returns (trip, restored seats, applications left out).

    Only a planner in the trip's scope, while the trip's credentials are still valid. Each no-show
    whose application is still approved gets a new seat (new serial) and is assigned again; one
    planned elsewhere, cancelled or rejected since stays out. Boarded passengers stay travelled.
    Raises NotFound, Conflict (trip_not_closed, credential_window_over).
    """
    now = now or utcnow()
    trip = scope.trip_in_scope(staff, trip_id, roles=scope.PLANNERS)
    trip = db.session.get(Trip, trip.id, with_for_update=True, populate_existing=True)
    if trip.status != "closed":
        raise Conflict("trip_not_closed", "车次未结束，无需重新开启")
    _, valid_until = signing.validity_window(trip.departure_date)
    if now.replace(tzinfo=UTC).timestamp() > valid_until:
        raise Conflict("credential_window_over", "车次二维码有效期已过，不能重新开启")
    restored, left_out = [], []
    rows = db.session.execute(
        select(Seat, Revocation, Application)
        .join(Revocation, Revocation.serial == Seat.id).join(Application, Application.id == Seat.application_id)
        .where(Seat.trip_id == trip.id, Revocation.reason == "no_show").with_for_update()
    ).all()
    live = set(db.session.scalars(select(Seat.live_application_id).where(
        Seat.live_application_id.in_([application.id for _, _, application in rows])))) if rows else set()
    for seat, revocation, application in rows:
        if application.status != "approved" or application.id in live:
            left_out.append(application.id)
            continue
        revocation.reason = "reopened"  # still revoked; no longer counted as this trip's no-show
        new = Seat(trip_id=trip.id, worker_id=seat.worker_id, application_id=application.id, seat_no=seat.seat_no,
                   status="assigned", live_application_id=application.id, issued_at=now)
        db.session.add(new)
        application.move_to("assigned", "车次重新开启，座位已恢复")
        restored.append(new)
    trip.status, trip.closed_at = _course_so_far(trip.id), None
    db.session.flush()
    audit.record("staff", staff.id, "trip.reopen", "trip", trip.id, restored=[seat.id for seat in restored],
                 left_out=left_out)
    events.seats_restored(trip, restored)
    db.session.commit()
    return trip, restored, left_out


def _course_so_far(trip_id):
    """The status a reopened trip resumes, from its accepted scans: arrived, departed, or published."""
    kinds = set(db.session.scalars(select(ScanEvent.kind).where(
        ScanEvent.trip_id == trip_id, (ScanEvent.boarded_seat_id.is_not(None))
        | (ScanEvent.arrived_seat_id.is_not(None)))))
    if "arrive" in kinds:
        return "arrived"
    return "departed" if "board" in kinds else "published"
