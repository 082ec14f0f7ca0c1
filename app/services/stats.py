"""The office's dashboard (数据看板): applications, trips, passengers, check-in, health and vacancies.

Every figure comes from a GROUP BY query (seven at most, whatever the volume), the same on
SQLite and MariaDB. Days are Beijing days: timestamps are stored in UTC and shifted by
+8 hours in SQL (China has kept UTC+8 without daylight saving since 1991).

Who sees what: admin everything; county_operator its county; park_operator its park;
health_officer its county, or everything when it has none. Enterprise HR, transport and
checkpoint staff have their own views and get 403.
"""
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Date, and_, case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from app.errors import Forbidden, Invalid
from app.extensions import db
from app.models import (Application, Checkpoint, Enterprise, EnterpriseJob, IsolationOrder, Park, Revocation,
                        ScanEvent, Seat, Trip, Worker)
from app.models.application import DIRECTIONS
from app.models.application import STATUSES as APPLICATION_STATUSES
from app.models.transport import TRIP_STATUSES
from app.services import scope
from app.services.manifests import SEAT_STATUSES
from app.services.timeutil import LOCAL_ZONE

VIEWERS = ("admin", "county_operator", "park_operator", "health_officer")
ORDER_STATUSES = ("pending", "active", "released")


class local_day(FunctionElement):  # noqa: N801  (reads as a SQL function)
    """The Beijing calendar day (a date) of a naive-UTC timestamp column."""

    type = Date()
    inherit_cache = True


@compiles(local_day, "sqlite")
def _local_day_sqlite(element, compiler, **kw):
    return "date(%s, '+8 hours')" % compiler.process(element.clauses, **kw)


@compiles(local_day, "mysql")
@compiles(local_day, "mariadb")
def _local_day_mysql(element, compiler, **kw):
    return "DATE(DATE_ADD(%s, INTERVAL 8 HOUR))" % compiler.process(element.clauses, **kw)


@dataclass(frozen=True)
class Area:
    """What a dashboard or feed covers: a county and/or a park (None: no restriction), and a UTC window."""

    county: str | None = None
    park: int | None = None
    date_from: object = None
    date_to: object = None

    @property
    def since(self):
        """Start of date_from in Beijing time, as naive UTC (or None)."""
        return utc_midnight(self.date_from) if self.date_from else None

    @property
    def until(self):
        """Start of the day after date_to in Beijing time, as naive UTC (or None): an exclusive bound."""
        return utc_midnight(self.date_to + timedelta(days=1)) if self.date_to else None


def utc_midnight(day):
    """Midnight starting a Beijing day, as naive UTC."""
    return datetime.combine(day, time.min, LOCAL_ZONE).astimezone(UTC).replace(tzinfo=None)


def area_for(staff, county=None, date_from=None, date_to=None, roles=VIEWERS):
    """The Area a staff member may see, narrowed by the filters.

    Raises Forbidden for other roles or a county outside the caller's own, Invalid when date_from > date_to.
    """
    scope.require_role(staff, roles)
    if date_from and date_to and date_from > date_to:
        raise Invalid("validation_error", "日期范围有误", fields={"date_to": "不能早于开始日期"})
    if staff.role == "park_operator":
        # A park's trips may carry no county: the park alone is the scope; a county filter may only name its own.
        park_county = db.session.scalar(select(Park.county_code).where(Park.id == staff.park_id))
        if county and county != park_county:
            raise Forbidden("county_out_of_scope", "只能查看本园区的数据")
        return Area(county=None, park=staff.park_id, date_from=date_from, date_to=date_to)
    own = staff.county_code if staff.role in ("county_operator", "health_officer") else None
    if own and county and county != own:
        raise Forbidden("county_out_of_scope", "只能查看本县区的数据")
    return Area(county=county or own, park=None, date_from=date_from, date_to=date_to)


def order_area_filter(query, area):
    """Restrict an IsolationOrder query to an area: the order's trip, else its checkpoint, else the
    worker's employer (the enterprise in the profile, or the one whose HR registered them)."""
    if area.county is None and area.park is None:
        return query
    employer = func.coalesce(Worker.employer_id, Worker.registered_by)
    query = (query.outerjoin(Trip, Trip.id == IsolationOrder.trip_id)
             .outerjoin(Checkpoint, Checkpoint.id == IsolationOrder.checkpoint_id)
             .join(Worker, Worker.id == IsolationOrder.worker_id)
             .outerjoin(Enterprise, Enterprise.id == employer))
    if area.county is not None:
        query = query.where(func.coalesce(Trip.county_code, Checkpoint.county_code, Enterprise.county_code)
                            == area.county)
    if area.park is not None:
        query = query.where(func.coalesce(Trip.park_id, Enterprise.park_id) == area.park)
    return query


def trip_area_filter(query, area):
    """Restrict a query over Trip to an area."""
    if area.county is not None:
        query = query.where(Trip.county_code == area.county)
    if area.park is not None:
        query = query.where(Trip.park_id == area.park)
    return query


def dashboard(staff, county=None, date_from=None, date_to=None):
    """The dashboard figures for the caller's area, filtered by county and Beijing dates (inclusive).

    Applications count by the day they were submitted, trips and passengers by departure
    date, scans by the day they were made, isolation orders by the day they were opened;
    vacancies are the current figures, whatever the dates.
    """
    area = area_for(staff, county, date_from, date_to)
    checkin, passengers = _passengers(area)
    return {
        "filters": {"county": area.county, "park_id": area.park, "date_from": date_from, "date_to": date_to},
        "applications": _applications(area),
        "trips": _trips(area),
        "passengers": passengers,
        "check_in": checkin,
        "health": {**_anomalies(area), **_isolations(area)},
        "vacancies": _vacancies(area),
    }


def _applications(area):
    query = select(Application.status, Application.direction, Application.county_code,
                   local_day(Application.created_at).label("day"), func.count())
    if area.county is not None:
        query = query.where(Application.county_code == area.county)
    if area.park is not None:  # the park's enterprises, as scope.filter_applications has it
        query = query.where(Application.employer_id.in_(select(Enterprise.id).where(Enterprise.park_id == area.park)))
    if area.since:
        query = query.where(Application.created_at >= area.since)
    if area.until:
        query = query.where(Application.created_at < area.until)
    rows = db.session.execute(query.group_by(Application.status, Application.direction, Application.county_code,
                                             "day")).all()
    by_status, by_direction, by_county, by_day = Counter(), Counter(), Counter(), Counter()
    for status, direction, county, day, count in rows:
        by_status[status] += count
        by_direction[direction] += count
        by_county[county] += count
        by_day[day.isoformat()] += count
    return {"total": sum(by_status.values()),
            "by_status": {name: by_status.get(name, 0) for name in APPLICATION_STATUSES},
            "by_direction": {name: by_direction.get(name, 0) for name in DIRECTIONS},
            "by_county": dict(sorted(by_county.items())),
            "by_day": [{"day": day, "count": count} for day, count in sorted(by_day.items())]}


def _dated_trips(query, area):
    query = trip_area_filter(query, area)
    if area.date_from:
        query = query.where(Trip.departure_date >= area.date_from)
    if area.date_to:
        query = query.where(Trip.departure_date <= area.date_to)
    return query


def _trips(area):
    rows = db.session.execute(_dated_trips(select(Trip.status, func.count()), area).group_by(Trip.status)).all()
    counts = dict(rows)
    return {"total": sum(counts.values()), "by_status": {name: counts.get(name, 0) for name in TRIP_STATUSES}}


def _passengers(area):
    """Seat statuses derived as manifests derives them, summed in SQL; seats revoked on closing as
    no-shows still count as no-shows."""
    in_area = _dated_trips(select(Trip.id), area)
    passage = (select(ScanEvent.seat_id.label("seat_id"),
                      func.max(case((ScanEvent.verdict == "isolate", 1), else_=0)).label("isolate"),
                      func.max(case((ScanEvent.kind == "arrive", 1), else_=0)).label("arrive"),
                      func.max(case((and_(ScanEvent.kind == "board", ScanEvent.verdict == "allow"), 1),
                                    else_=0)).label("board"))
               .where(ScanEvent.verdict != "deny", ScanEvent.seat_id.is_not(None), ScanEvent.trip_id.in_(in_area))
               .group_by(ScanEvent.seat_id).subquery())
    isolate, arrive, board = (func.coalesce(column, 0) for column in (passage.c.isolate, passage.c.arrive,
                                                                       passage.c.board))
    status = case((isolate == 1, "isolated"), (arrive == 1, "arrived"), (board == 1, "boarded"),
                  (Trip.status.in_(("arrived", "closed")), "no_show"), else_="assigned")
    seats = _dated_trips(
        select(status.label("status"), board.label("board"), arrive.label("arrive"))
        .select_from(Seat).join(Trip, Trip.id == Seat.trip_id)
        .outerjoin(passage, passage.c.seat_id == Seat.id)
        .outerjoin(Revocation, Revocation.serial == Seat.id)
        .where(or_(Seat.status == "assigned", and_(Seat.status == "revoked", Revocation.reason == "no_show"))),
        area).subquery()
    rows = db.session.execute(select(seats.c.status, seats.c.board, seats.c.arrive, func.count())
                              .group_by(seats.c.status, seats.c.board, seats.c.arrive)).all()
    by_status, boarded, arrived = Counter(), 0, 0
    for name, was_boarded, was_arrived, count in rows:
        by_status[name] += count
        boarded += count if was_boarded else 0
        arrived += count if was_arrived else 0
    passengers = {"total": sum(by_status.values()),
                  "by_status": {name: by_status.get(name, 0) for name in SEAT_STATUSES}}
    return {"boarded": boarded, "arrived": arrived, "no_show": by_status.get("no_show", 0)}, passengers


def _anomalies(area):
    query = (select(ScanEvent.reason, func.count()).join(Trip, Trip.id == ScanEvent.trip_id)
             .where(ScanEvent.verdict == "isolate"))
    query = trip_area_filter(query, area)
    if area.since:
        query = query.where(ScanEvent.scanned_at >= area.since)
    if area.until:
        query = query.where(ScanEvent.scanned_at < area.until)
    counts = dict(db.session.execute(query.group_by(ScanEvent.reason)).all())
    return {"anomalies": sum(counts.values()), "anomalies_by_reason": dict(sorted(counts.items()))}


def _isolations(area):
    query = order_area_filter(select(IsolationOrder.status, IsolationOrder.kind, func.count()), area)
    if area.since:
        query = query.where(IsolationOrder.opened_at >= area.since)
    if area.until:
        query = query.where(IsolationOrder.opened_at < area.until)
    rows = db.session.execute(query.group_by(IsolationOrder.status, IsolationOrder.kind)).all()
    by_status, by_kind = Counter(), Counter()
    for status, kind, count in rows:
        by_status[status] += count
        by_kind[kind or "undecided"] += count
    return {"isolations": sum(by_status.values()),
            "isolations_by_status": {name: by_status.get(name, 0) for name in ORDER_STATUSES},
            "isolations_by_kind": {name: by_kind.get(name, 0) for name in ("centralized", "home", "undecided")}}


def _vacancies(area):
    query = (select(Enterprise.county_code, func.coalesce(func.sum(EnterpriseJob.filled), 0),
                    func.coalesce(func.sum(EnterpriseJob.short), 0))
             .join(Enterprise, Enterprise.id == EnterpriseJob.enterprise_id))
    if area.county is not None:
        query = query.where(Enterprise.county_code == area.county)
    if area.park is not None:
        query = query.where(Enterprise.park_id == area.park)
    rows = db.session.execute(query.group_by(Enterprise.county_code).order_by(Enterprise.county_code)).all()
    by_county = [{"county_code": county, "filled": int(filled), "short": int(short)} for county, filled, short in rows]
    return {"filled": sum(row["filled"] for row in by_county), "short": sum(row["short"] for row in by_county),
            "by_county": by_county}
