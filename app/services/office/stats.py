"""The office's dashboard (数据看板): applications, trips, passengers, check-in, health and vacancies.

Every figure comes from a GROUP BY query (eight at most, whatever the volume, and a look-up of the
counties of the few workers with abnormal follow-ups), the same on
SQLite and MariaDB. Days are Beijing days: timestamps are stored in UTC and shifted by
+8 hours in SQL (China has kept UTC+8 without daylight saving since 1991).

Isolation orders and follow-ups belong to a county as the isolation list has them
(`isolation.workers_of_county`), so a county's dashboard and list agree; scans and trips
belong to the trip's county.

Who sees what: admin everything; county_operator its county; park_operator its park;
health_officer its county, or everything when it has none. Enterprise HR, transport and
checkpoint staff have their own views and get 403.
"""
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Date, String, and_, case, func, or_, select, type_coerce, union
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from app.errors import Forbidden, Invalid
from app.extensions import db
from app.models import (
    Application,
    Enterprise,
    EnterpriseJob,
    HealthEvent,
    IsolationOrder,
    Park,
    Revocation,
    RosterEntry,
    ScanEvent,
    Seat,
    Trip,
)
from app.models.application import DIRECTIONS
from app.models.application import STATUSES as APPLICATION_STATUSES
from app.models.transport import TRIP_STATUSES, counted_seats
from app.read_path import heavy_read
from app.services.employment.isolation import STATUSES as ORDER_STATUSES
from app.services.employment.isolation import workers_of_county, workers_of_park
from app.services.people import health
from app.services.platform import scope
from app.services.platform.timeutil import utc_at
from app.services.scanning.manifests import SEAT_STATUSES

VIEWERS = ("admin", "county_operator", "park_operator", "health_officer")
NO_COUNTY = "none"  # by_county key of a park's trips, which may carry no county
ANOMALY_SOURCES = ("scan", "follow_up")
ANOMALY_COLUMNS = ("scan_isolate", "follow_up_fever", "follow_up_symptoms")


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
        return utc_at(self.date_from) if self.date_from else None

    @property
    def until(self):
        """Start of the day after date_to in Beijing time, as naive UTC (or None): an exclusive bound."""
        return utc_at(self.date_to + timedelta(days=1)) if self.date_to else None


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


def worker_area_filter(query, worker_id, area):
    """Restrict a query about a worker (column `worker_id`) to the workers of the area's county and park."""
    if area.county is not None:
        query = query.where(worker_id.in_(workers_of_county(area.county)))
    if area.park is not None:
        query = query.where(worker_id.in_(workers_of_park(area.park)))
    return query


def order_area_filter(query, area):
    """Restrict an IsolationOrder query to an area: in a county, the orders of its workers, as the
    isolation list has them; in a park, the orders of its trips or of workers it employs."""
    if area.county is not None:
        query = query.where(IsolationOrder.worker_id.in_(workers_of_county(area.county)))
    if area.park is not None:
        query = query.where(or_(IsolationOrder.trip_id.in_(select(Trip.id).where(Trip.park_id == area.park)),
                                IsolationOrder.worker_id.in_(workers_of_park(area.park))))
    return query


def trip_area_filter(query, area):
    """Restrict a query over Trip to an area."""
    if area.county is not None:
        query = query.where(Trip.county_code == area.county)
    if area.park is not None:
        query = query.where(Trip.park_id == area.park)
    return query


@heavy_read
def dashboard(staff, county=None, date_from=None, date_to=None):
    """The dashboard figures for the caller's area, filtered by county and Beijing dates (inclusive).

    Applications count by the day they were submitted, trips and passengers by departure
    date, scans and follow-ups by the day they were made, isolation orders by the day they
    were opened; vacancies are the current figures, whatever the dates.
    """
    area = area_for(staff, county, date_from, date_to)
    checkin, passengers = _passengers(area)
    vacancies, by_enterprise = _vacancies(area)
    return {
        "filters": {"county": area.county, "park_id": area.park, "date_from": date_from, "date_to": date_to},
        "applications": _applications(area),
        "trips": _trips(area),
        "passengers": passengers,
        "check_in": checkin,
        "health": {**_anomalies(area), **_isolations(area)},
        "vacancies": vacancies,
        "vacancies_by_enterprise": by_enterprise,
    }


def _applications(area):
    query = select(Application.status, Application.direction, Application.county_code,
                   local_day(Application.created_at).label("day"), func.count())
    if area.county is not None:
        query = query.where(Application.county_code == area.county)
    if area.park is not None:  # the park's enterprises, as scope.filter_applications has it
        query = query.where(Application.employer_id.in_(select(Enterprise.id).where(Enterprise.park_id == area.park)))
    query = _window(query, Application.created_at, area)
    rows = db.session.execute(query.group_by(Application.status, Application.direction, Application.county_code,
                                             "day")).all()
    return _breakdown(rows, APPLICATION_STATUSES)


def _breakdown(rows, statuses):
    """Fold (status, direction, county, day, count) rows into a total and counts by each, and by day
    with each day's counts by status and direction (`daily`)."""
    by_status, by_direction, by_county, by_day = Counter(), Counter(), Counter(), Counter()
    daily = {}
    for status, direction, county, day, count in rows:
        by_status[status] += count
        by_direction[direction] += count
        by_county[county or NO_COUNTY] += count
        by_day[day.isoformat()] += count
        one_day = daily.setdefault(day.isoformat(), (Counter(), Counter()))
        one_day[0][status] += count
        one_day[1][direction] += count
    return {"total": sum(by_status.values()),
            "by_status": {name: by_status.get(name, 0) for name in statuses},
            "by_direction": {name: by_direction.get(name, 0) for name in DIRECTIONS},
            "by_county": dict(sorted(by_county.items())),
            "by_day": [{"day": day, "count": count} for day, count in sorted(by_day.items())],
            "daily": [{"day": day, "count": by_day[day],
                       "by_status": {name: statuses_of_day.get(name, 0) for name in statuses},
                       "by_direction": {name: directions_of_day.get(name, 0) for name in DIRECTIONS}}
                      for day, (statuses_of_day, directions_of_day) in sorted(daily.items())]}


def _dated_trips(query, area):
    query = trip_area_filter(query, area)
    if area.date_from:
        query = query.where(Trip.departure_date >= area.date_from)
    if area.date_to:
        query = query.where(Trip.departure_date <= area.date_to)
    return query


_TRIP_KEYS = (Trip.direction, Trip.county_code, Trip.departure_date)


def _trips(area):
    query = _dated_trips(select(Trip.status, *_TRIP_KEYS, func.count()), area)
    return _breakdown(db.session.execute(query.group_by(Trip.status, *_TRIP_KEYS)).all(), TRIP_STATUSES)


def _passengers(area):
    """Seat statuses derived as manifests derives them; seats revoked on closing as no-shows still
    count as no-shows.

    Three GROUP BYs and no join per seat (a subquery joined to each seat, which MariaDB evaluated
    once per seat, was the slowest part at 65,000 seats: bench/stats_bench.py): the seats that
    count, by trip; what the scans of each scanned seat showed, by trip (a pass over the scans'
    covering index); the few scanned seats that do not count (revoked, not as no-shows), taken off. A seat no scan shows is a no-show once its trip arrived."""
    in_area = _dated_trips(select(Trip.id), area)
    counted = db.session.execute(_dated_trips(counted_seats(
        select(Trip.id, Trip.status, *_TRIP_KEYS, func.count()).select_from(Seat).join(Trip, Trip.id == Seat.trip_id)),
        area).group_by(Trip.id, Trip.status, *_TRIP_KEYS)).all()
    trips = {trip_id: (status, keys, count) for trip_id, status, *keys, count in counted}
    scanned = (select(ScanEvent.seat_id, func.max(ScanEvent.trip_id).label("trip_id"),
                      func.max(case((ScanEvent.verdict == "isolate", 1), else_=0)).label("isolate"),
                      func.max(case((ScanEvent.kind == "arrive", 1), else_=0)).label("arrive"),
                      func.max(case((and_(ScanEvent.kind == "board", ScanEvent.verdict == "allow"), 1),
                                    else_=0)).label("board"))
               .where(ScanEvent.verdict != "deny", ScanEvent.seat_id.is_not(None), ScanEvent.trip_id.in_(in_area))
               .group_by(ScanEvent.seat_id))
    no_show = Revocation.__table__.alias("no_show_revocation")
    uncounted = (select(Seat.id).where(Seat.status != "assigned", Seat.trip_id.in_(in_area))
                 .where(~select(no_show.c.id).where(no_show.c.serial == Seat.id, no_show.c.reason == "no_show")
                        .exists()))
    tally, seen = Counter(), Counter()
    for query, sign in ((scanned, 1), (scanned.where(ScanEvent.seat_id.in_(uncounted)), -1)):
        flags = query.subquery()
        keys = (flags.c.trip_id, flags.c.isolate, flags.c.arrive, flags.c.board)
        for trip_id, isolate, arrive, board, count in db.session.execute(select(*keys, func.count()).group_by(*keys)):
            if trip_id in trips:
                trip_status, trip_keys, _ = trips[trip_id]
                tally[(_seat_status(isolate, arrive, board, trip_status), board, arrive, *trip_keys)] += sign * count
                seen[trip_id] += sign * count
    for trip_id, (trip_status, trip_keys, count) in trips.items():
        tally[(_seat_status(0, 0, 0, trip_status), 0, 0, *trip_keys)] += count - seen[trip_id]
    rows = [(*key, count) for key, count in tally.items() if count]
    passengers = _breakdown([(name, direction, county, day, count)
                             for name, _, _, direction, county, day, count in rows], SEAT_STATUSES)
    boarded = sum(count for _, was_boarded, *_, count in rows if was_boarded)
    arrived = sum(count for _, _, was_arrived, *_, count in rows if was_arrived)
    by_day = {}
    for name, was_boarded, was_arrived, _, _, day, count in rows:
        figures = by_day.setdefault(day.isoformat(), Counter())
        figures["boarded"] += count if was_boarded else 0
        figures["arrived"] += count if was_arrived else 0
        figures["no_show"] += count if name == "no_show" else 0
    for entry in passengers["daily"]:
        entry["check_in"] = {name: by_day[entry["day"]][name] for name in ("boarded", "arrived", "no_show")}
    return {"boarded": boarded, "arrived": arrived, "no_show": passengers["by_status"]["no_show"]}, passengers


def _seat_status(isolate, arrive, board, trip_status):
    """A seat's status from what its scans showed, as manifests derives it."""
    if isolate:
        return "isolated"
    if arrive:
        return "arrived"
    if board:
        return "boarded"
    return "no_show" if trip_status in ("arrived", "closed") else "assigned"


def _anomalies(area):
    """Isolate verdicts at scans (by the scan's trip, and its county) and abnormal follow-ups (随访: a
    fever at or over the threshold, or any symptom, as health_rules.assess judges one; by the worker,
    in every county whose isolation list shows them: `isolation.workers_of_county`).

    Abnormal follow-ups are few: they are read grouped by worker and placed in counties with an
    indexed look-up of those workers only, so the health record is scanned once, not once per county.
    The follow-up clause restates assess in SQL; a test over a grid of readings keeps the two in step."""
    scans = (select(Trip.county_code, ScanEvent.reason, func.count())
             .join(Trip, Trip.id == ScanEvent.trip_id).where(ScanEvent.verdict == "isolate"))
    scans = _window(trip_area_filter(scans, area), ScanEvent.scanned_at, area)
    fever = HealthEvent.temperature >= health.rules().fever_threshold
    # Follow-ups store their symptoms as a JSON list, "[]" when none: a listed one starts the text with '["'
    # (compared as text with no CAST, which would convert every row's JSON on MariaDB).
    symptoms = type_coerce(HealthEvent.symptoms, String).like('["%')
    reason = case((fever, "fever"), else_="symptoms")
    follow_ups = (select(HealthEvent.worker_id, reason, func.count())
                  .where(HealthEvent.kind == "follow_up", or_(fever, symptoms)))
    if area.park is not None:
        follow_ups = worker_area_filter(follow_ups, HealthEvent.worker_id, area)
    follow_ups = _window(follow_ups, HealthEvent.occurred_at, area)
    scan_rows = db.session.execute(scans.group_by(Trip.county_code, ScanEvent.reason)).all()
    follow_rows = db.session.execute(follow_ups.group_by(HealthEvent.worker_id, reason)).all()
    counties = _counties_of({worker_id for worker_id, _, _ in follow_rows})
    if area.county is not None:  # the county's own workers, and only its own column
        follow_rows = [row for row in follow_rows if area.county in counties.get(row[0], ())]
        counties = {worker_id: {area.county} for worker_id in counties}
    by_source, by_reason, by_county = Counter(), Counter(), {}
    for county, scan_reason, count in scan_rows:
        by_source["scan"] += count
        by_reason[scan_reason] += count
        by_county.setdefault(county or NO_COUNTY, Counter())["scan_isolate"] += count
    for worker_id, follow_up_reason, count in follow_rows:
        by_source["follow_up"] += count
        by_reason[follow_up_reason] += count
        for county in counties.get(worker_id) or (NO_COUNTY,):
            by_county.setdefault(county, Counter())[f"follow_up_{follow_up_reason}"] += count
    return {"anomalies": sum(by_source.values()), "anomalies_by_reason": dict(sorted(by_reason.items())),
            "anomalies_by_source": {name: by_source.get(name, 0) for name in ANOMALY_SOURCES},
            "anomalies_by_county": [{"county_code": county, "total": sum(figures.values()),
                                     **{name: figures[name] for name in ANOMALY_COLUMNS}}
                                    for county, figures in sorted(by_county.items())]}


def _counties_of(worker_ids):
    """{worker id: the counties whose isolation list shows them}, as `isolation.workers_of_county` has
    them: the application's county, its employer's, a roster's enterprise's (looked up by worker)."""
    found = {}
    ids = sorted(worker_ids)
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        pairs = union(
            select(Application.worker_id, Application.county_code).where(Application.worker_id.in_(chunk)),
            select(Application.worker_id, Enterprise.county_code)
            .join(Enterprise, Enterprise.id == Application.employer_id).where(Application.worker_id.in_(chunk)),
            select(RosterEntry.worker_id, Enterprise.county_code)
            .join(Enterprise, Enterprise.id == RosterEntry.enterprise_id).where(RosterEntry.worker_id.in_(chunk)))
        for worker_id, county in db.session.execute(pairs):
            found.setdefault(worker_id, set()).add(county)
    return found


def _window(query, column, area):
    """Restrict a query to the area's Beijing dates by a naive-UTC timestamp column."""
    if area.since:
        query = query.where(column >= area.since)
    if area.until:
        query = query.where(column < area.until)
    return query


def _isolations(area):
    query = _window(order_area_filter(select(IsolationOrder.status, IsolationOrder.kind, func.count()), area),
                    IsolationOrder.opened_at, area)
    rows = db.session.execute(query.group_by(IsolationOrder.status, IsolationOrder.kind)).all()
    by_status, by_kind = Counter(), Counter()
    for status, kind, count in rows:
        by_status[status] += count
        if status != "dismissed":  # a false alarm isolated nobody
            by_kind[kind or "undecided"] += count
    return {"isolations": sum(by_kind.values()),
            "isolations_by_status": {name: by_status.get(name, 0) for name in ORDER_STATUSES},
            "isolations_by_kind": {name: by_kind.get(name, 0) for name in ("centralized", "home", "undecided")}}


def _vacancies(area):
    """Positions filled and short (附件2) by county and by enterprise, the most short first."""
    query = (select(Enterprise.id, Enterprise.name, Enterprise.county_code,
                    func.coalesce(func.sum(EnterpriseJob.filled), 0), func.coalesce(func.sum(EnterpriseJob.short), 0))
             .join(Enterprise, Enterprise.id == EnterpriseJob.enterprise_id))
    if area.county is not None:
        query = query.where(Enterprise.county_code == area.county)
    if area.park is not None:
        query = query.where(Enterprise.park_id == area.park)
    rows = db.session.execute(query.group_by(Enterprise.id, Enterprise.name, Enterprise.county_code)).all()
    by_enterprise = sorted(({"enterprise_id": enterprise_id, "name": name, "county_code": county,
                             "filled": int(filled), "short": int(short)}
                            for enterprise_id, name, county, filled, short in rows),
                           key=lambda row: (-row["short"], -row["filled"], row["name"]))
    counties = {}
    for row in by_enterprise:
        figures = counties.setdefault(row["county_code"], Counter())
        figures["filled"] += row["filled"]
        figures["short"] += row["short"]
    by_county = [{"county_code": county, "filled": figures["filled"], "short": figures["short"]}
                 for county, figures in sorted(counties.items())]
    return {"filled": sum(row["filled"] for row in by_county), "short": sum(row["short"] for row in by_county),
            "by_county": by_county}, by_enterprise
