"""Trips after planning: editing the vehicle plan (一车一方案), moving passengers, seats and revocation."""
from datetime import UTC

from sqlalchemy import func, select, update

from app import crypto
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.models import Application, Checkpoint, Convoy, Plan, Seat, Trip, Worker
from app.models.base import utcnow
from app.services.credentials import signing
from app.services.notices import events
from app.services.people.identity import InvalidIdentity, mask_phone, parse_phone
from app.services.platform import audit, field_rights, scope
from app.services.transport import crew, planning

EDITABLE = ("draft", "published")
_PLAIN = ("plate", "driver_name", "responsible_name", "medic_name", "departure_time", "departure_place",
          "route", "notice", "arrival_checkpoint_id", "expected_arrival_at")
_PHONES = ("driver_phone", "responsible_phone", "medic_phone")
_TOLD = ("departure_time", "departure_place", "plate")  # a change passengers of a published trip are told of


def live_seats(trip_id, lock=False):
    """The proposed or assigned seats of a trip, in seat order.

    lock=True reads them as committed now, locked (FOR UPDATE), not as the transaction's snapshot saw
    them: on MariaDB a change that waited for a lock must count the seats another change just added.
    """
    statement = select(Seat).where(Seat.trip_id == trip_id, Seat.live_application_id.is_not(None)).order_by(Seat.seat_no)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return db.session.scalars(statement).all()


def list_for_staff(staff, departure_date=None, status=None, limit=1000):
    """Trips in the staff member's scope, optionally of one day and status."""
    scope.require_role(staff, scope.TRIP_EDITORS)
    statement = scope.filter_trips(select(Trip), Trip, staff)
    if departure_date:
        statement = statement.where(Trip.departure_date == departure_date)
    if status:
        statement = statement.where(Trip.status == status)
    return db.session.scalars(statement.order_by(Trip.departure_date, Trip.id).limit(limit)).all()


def convoy_trips_for_staff(staff, trip_id):
    """The live (not cancelled) trips of a trip's convoy (班组) that the staff member may see, in id order."""
    trip = scope.trip_in_scope(staff, trip_id)
    statement = scope.filter_trips(select(Trip), Trip, staff).where(Trip.convoy_id == trip.convoy_id,
                                                                     Trip.status != "cancelled")
    return db.session.scalars(statement.order_by(Trip.id)).all()


def update_trip(staff, trip_id, changes):
    """Fill or change a trip's plan (plate, crew, times, captain…) and commit.

    Raises NotFound outside the scope, Conflict once the trip has left,
    Invalid for a bad phone or a captain who is not a passenger of this trip, Forbidden for a
    field the role may not write (`field_rights`).
    """
    field_rights.check_fields(staff, "trip", changes)
    trip = scope.trip_in_scope(staff, trip_id)
    if trip.status not in EDITABLE:
        raise Conflict("trip_not_editable", "车次已出发或已取消，不能修改")
    if "captain_worker_id" in changes or "vice_captain_worker_id" in changes:
        count_plan_change(trip.plan_id)
    errors, crew_before = {}, events.crew_of(trip)
    for name in _PHONES:
        if name in changes:
            _set_phone(trip, name, changes.pop(name), errors)
    if "captain_worker_id" in changes or "vice_captain_worker_id" in changes:
        captain = changes.pop("captain_worker_id", trip.captain_worker_id)
        vice = changes.pop("vice_captain_worker_id", trip.vice_captain_worker_id)
        passengers = {seat.worker_id for seat in live_seats(trip.id)}
        if captain is not None and captain not in passengers:
            errors["captain_worker_id"] = "车长须为本车乘客"
        if vice is not None and vice not in passengers:
            errors["vice_captain_worker_id"] = "副车长须为本车乘客"
        if captain is not None and captain == vice:
            errors["vice_captain_worker_id"] = "车长和副车长不能是同一人"
        trip.captain_worker_id, trip.vice_captain_worker_id = captain, vice
    checkpoint_id = changes.get("arrival_checkpoint_id")
    if checkpoint_id is not None and db.session.get(Checkpoint, checkpoint_id) is None:
        errors["arrival_checkpoint_id"] = "没有该卡口"
    if changes.get("expected_arrival_at") is not None:
        changes["expected_arrival_at"] = changes["expected_arrival_at"].astimezone(UTC).replace(tzinfo=None)
    if errors:
        raise Invalid("validation_error", "车次信息有误", fields=errors)
    before = {name: getattr(trip, name) for name in _TOLD}
    for name in _PLAIN:
        if name in changes:
            setattr(trip, name, changes[name])
    audit.record("staff", staff.id, "trip.update", "trip", trip.id, fields=sorted(changes))
    events.trip_updated(trip, before)
    events.crew_changed(trip, crew_before)
    db.session.commit()
    return trip


def count_plan_change(plan_id):
    """Add one to the plan's version (see plans.claim) for a change made from the trips side; caller commits.

    A planning page showing the plan before this change is then refused (plan_changed) instead of
    overwriting it. Called before any other row is locked: plan first, as every plan edit does.
    """
    db.session.execute(update(Plan).where(Plan.id == plan_id).values(version=Plan.version + 1))


def _set_phone(trip, name, value, errors):
    try:
        phone = None if value is None else parse_phone(value)
    except InvalidIdentity as error:
        errors[name] = str(error)
        return
    crypto.seal(trip, name, phone, f"trip.{name}", mask_phone)


def move_passenger(staff, plan_id, application_id, to_trip_id):
    """Move a passenger to another vehicle of the same plan and commit.

    A proposed seat just moves; an issued one is revoked and a new seat (new serial) is
    issued, so the old QR stops working. Raises NotFound, Conflict (full, wrong group,
    outside the passenger's dates, trip not editable).
    """
    plan = scope.plan_in_scope(staff, plan_id)
    seat = db.session.scalar(
        select(Seat).join(Trip, Trip.id == Seat.trip_id)
        .where(Trip.plan_id == plan.id, Seat.live_application_id == application_id).with_for_update()
    )
    target = db.session.get(Trip, to_trip_id, with_for_update=True)
    if seat is None or target is None or target.plan_id != plan.id:
        raise NotFound("seat_not_found", "该方案中没有这位乘客或这个车次")
    source = db.session.get(Trip, seat.trip_id)
    application = db.session.get(Application, application_id)
    _check_move(source, target, application)
    if seat.status == "proposed":
        seat.trip_id, seat.seat_no = target.id, _free_seat_no(target)
    else:
        _revoke(seat, "moved")
        db.session.flush()
        moved = Seat(trip_id=target.id, worker_id=seat.worker_id, application_id=application_id,
                     seat_no=_free_seat_no(target), status="assigned", live_application_id=application_id,
                     issued_at=utcnow())
        db.session.add(moved)
        events.seat_moved(moved, target)
    db.session.flush()
    _repick_crew(source, seat.worker_id)
    audit.record("staff", staff.id, "seat.move", "application", application_id, from_trip=source.id,
                 to_trip=target.id)
    db.session.commit()
    return target


def _check_move(source, target, application):
    if source.id == target.id:
        raise Conflict("same_trip", "乘客已在该车次")
    if target.status not in EDITABLE or source.status not in EDITABLE:
        raise Conflict("trip_not_editable", "车次已出发或已取消，不能调整")
    if (target.direction, target.origin, target.destination) != (source.direction, source.origin, source.destination):
        raise Conflict("different_route", "只能调到同一出发地、目的地的车次")
    if not application.earliest_departure <= target.departure_date <= application.latest_departure:
        raise Conflict("outside_window", "该车次的出发日期不在乘客报名的日期范围内")
    if len(live_seats(target.id, lock=True)) >= target.capacity:
        raise Conflict("trip_full", "该车次已满（按核定载客率）")


def _free_seat_no(trip):
    taken = {seat.seat_no for seat in live_seats(trip.id, lock=True)}
    return next(number for number in range(1, len(taken) + 2) if number not in taken)


def _repick_crew(trip, departed_worker_id):
    """If the captain or vice-captain left the trip, promote the vice and pick again by the planning rule (told)."""
    if departed_worker_id not in (trip.captain_worker_id, trip.vice_captain_worker_id):
        return
    before = events.crew_of(trip)
    if departed_worker_id == trip.captain_worker_id:
        trip.captain_worker_id = trip.vice_captain_worker_id
    trip.vice_captain_worker_id = None
    rows = db.session.execute(
        select(Application, Worker).join(Seat, Seat.application_id == Application.id)
        .join(Worker, Worker.id == Seat.worker_id)
        .where(Seat.trip_id == trip.id, Seat.live_application_id.is_not(None))
    ).all()
    workers_by_application = {application.id: worker.id for application, worker in rows}
    people = [planning.Candidate(application.id, worker.id, trip.direction, trip.origin, trip.destination,
                                 trip.departure_date, trip.departure_date, None, application.volunteer_captain,
                                 worker.birth_date)
              for application, worker in rows if worker.id != trip.captain_worker_id]
    first, second = crew.choose_crew(people, trip.departure_date)
    picked = [workers_by_application[a] for a in (first, second) if a is not None]
    if trip.captain_worker_id is None and picked:
        trip.captain_worker_id = picked.pop(0)
    trip.vice_captain_worker_id = picked[0] if picked else None
    events.crew_changed(trip, before)  # a published trip's new captain or vice learns their task


def _revoke(seat, reason):
    """Take a seat out of service; an issued credential goes on the revocation list."""
    was_issued = seat.status == "assigned"
    seat.status, seat.live_application_id, seat.revoked_at = "revoked", None, utcnow()
    if was_issued:
        signing.revoke_serial(seat.serial, reason)


def under_way(application):
    """Whether the application's seat is on a trip that has left (departed, arrived or closed)."""
    trip_status = db.session.scalar(
        select(Trip.status).join(Seat, Seat.trip_id == Trip.id).where(Seat.live_application_id == application.id))
    return trip_status is not None and trip_status not in EDITABLE


def release_application_seat(application, reason):
    """Free the live seat of an application leaving the process (cancelled, rejected); caller commits."""
    seat = db.session.scalar(select(Seat).where(Seat.live_application_id == application.id).with_for_update())
    if seat is not None:
        _revoke(seat, reason)
        db.session.flush()
        trip = db.session.get(Trip, seat.trip_id)
        _repick_crew(trip, seat.worker_id)


def cancel_seat(staff, trip_id, seat_id):
    """Take a passenger off a trip and commit: the QR is revoked, the application goes back to approved."""
    trip = scope.trip_in_scope(staff, trip_id, roles=scope.PLANNERS)
    count_plan_change(trip.plan_id)
    seat = db.session.get(Seat, seat_id, with_for_update=True)
    if seat is None or seat.trip_id != trip.id or seat.live_application_id is None:
        raise NotFound("seat_not_found", "没有找到该座位")
    if trip.status not in EDITABLE:
        raise Conflict("trip_not_editable", "车次已出发或已取消，不能调整")
    application = db.session.get(Application, seat.application_id)
    if seat.status == "assigned":  # an issued seat: the passenger was told of it, and is told it is gone
        events.seat_cancelled(seat, trip)
    _revoke(seat, "cancelled")
    if application.status == "assigned":
        application.move_to("approved", "已从车次移出，待重新编班")
    db.session.flush()
    _repick_crew(trip, seat.worker_id)
    audit.record("staff", staff.id, "seat.cancel", "seat", seat.id)
    db.session.commit()
    return seat


def cancel_trip(staff, trip_id, reason):
    """Cancel a published trip and commit: every seat is revoked (its QR too), its applications go back to approved.

    Each passenger is told (trip_changed). Raises NotFound outside the planner's scope, Invalid without a
    reason, Conflict (trip_not_cancellable) for a draft (changed through its plan), or a trip already
    cancelled or under way.
    """
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("reason_required", "取消车次时请填写原因", fields={"reason": "必填"})
    trip = scope.trip_in_scope(staff, trip_id, roles=scope.PLANNERS)
    count_plan_change(trip.plan_id)
    db.session.refresh(trip, with_for_update=True)
    if trip.status != "published":
        raise Conflict("trip_not_cancellable", _NOT_CANCELLABLE.get(trip.status, "车次已出发，不能取消"))
    seats = live_seats(trip.id, lock=True)
    issued = [seat for seat in seats if seat.status == "assigned"]
    applications = _locked_applications([seat.application_id for seat in seats])
    for seat in seats:
        _revoke(seat, "trip_cancelled")
        application = applications.get(seat.application_id)
        if application is not None and application.status == "assigned":
            application.move_to("approved", "车次已取消，待重新编班")
    trip.status = "cancelled"
    audit.record("staff", staff.id, "trip.cancel", "trip", trip.id, reason=reason, seats=len(seats))
    events.trip_cancelled(trip, issued, reason)
    db.session.commit()
    return trip


_NOT_CANCELLABLE = {"draft": "草稿车次请在编班方案中调整或作废", "cancelled": "车次已取消"}


def _locked_applications(application_ids):
    if not application_ids:
        return {}
    return {application.id: application for application in db.session.scalars(
        select(Application).where(Application.id.in_(application_ids)).with_for_update())}


def seat_counts(trip_ids):
    """{trip_id: live passengers} for a set of trips."""
    if not trip_ids:
        return {}
    rows = db.session.execute(
        select(Seat.trip_id, func.count()).where(Seat.trip_id.in_(trip_ids), Seat.live_application_id.is_not(None))
        .group_by(Seat.trip_id)
    )
    return dict(rows.all())


def convoy_of(trip):
    """The trip's convoy."""
    return db.session.get(Convoy, trip.convoy_id)
