"""Passenger manifests (乘车名单) as .xlsx: one sheet per vehicle, each printed on one A4 page with its signatures.

The sheet holds what the printable manifest page shows, masked the same way (名字 张*丰, the ID's
last four, crew phones as their masks): the captain compares it with the ID card at the door and
writes the temperatures in by hand. Trips are chosen with the staff member's scope, as the page
and the trip API choose them (a trip, its convoy, or a day's list); every export is audited.
"""
from app.extensions import db
from app.models import Worker
from app.read_path import heavy_read
from app.services.people.identity import mask_name
from app.services.platform import audit, exports, scope
from app.services.scanning import manifests
from app.services.transport import trips as trip_service

SHEET_TITLE = "“点对点”返岗专车乘车名单"
HEADERS = ("座位号", "姓名", "身份证后四位", "乘车状态", "健康状况", "上车体温", "到达体温", "备注")
HAND_FILLED = ("上车体温", "到达体温", "备注")
SEAT_NAMES = {"assigned": "已编班", "boarded": "已上车", "arrived": "已到达", "no_show": "未乘车", "isolated": "已隔离"}
HEALTH_NAMES = {"green": "正常", "yellow": "健康观察", "red": "异常", "unknown": "未申报"}
TRIP_NAMES = {"draft": "草稿", "published": "已发布", "departed": "已发车", "arrived": "已到达", "closed": "已结束",
              "cancelled": "已取消"}
WRITING_ROW = 16  # points: room to write a temperature by hand, and a full coach (40) still on one A4 page
SIGN_OFF = "车长签字：____________　　随车医护签字：____________　　发车时间：________　　到达时间：________"


@heavy_read
def trip_workbook(staff, trip_id, convoy=False):
    """The manifest of one trip, or (convoy) of every live trip of its convoy in scope, as .xlsx bytes.

    Raises NotFound outside the scope and Forbidden for a role without trips, as GET /trips/<id> does.
    """
    if convoy:
        found = trip_service.convoy_trips_for_staff(staff, trip_id)
    else:
        found = [scope.trip_in_scope(staff, trip_id)]
    return _export(staff, found, {"trip_id": trip_id, "convoy": bool(convoy)})


@heavy_read
def day_workbook(staff, day, status=None):
    """The manifests of a day's trips in scope (optionally of one status), one sheet per vehicle, as .xlsx bytes."""
    found = trip_service.list_for_staff(staff, day, status)
    return _export(staff, found, {"date": day.isoformat(), "status": status})


def _export(staff, trips, filters):
    listed = manifests.manifests_of(trips)
    crew_ids = {worker_id for trip in trips for worker_id in (trip.captain_worker_id, trip.vice_captain_worker_id)
                if worker_id is not None}
    crew = {worker.id: worker for worker in (db.session.get(Worker, worker_id) for worker_id in crew_ids)}
    sheets = [_sheet(trip, listed[trip.id], crew) for trip in trips] or [
        exports.Sheet("没有符合条件的车次", HEADERS, [], name="乘车名单")]
    data = exports.workbook_of(sheets)
    audit.record("staff", staff.id, "export.manifest", "trip", filters.get("trip_id"),
                 trips=[trip.id for trip in trips], rows=sum(len(listed[t.id]["seats"]) for t in trips),
                 filter={key: value for key, value in filters.items() if value not in (None, False)})
    db.session.commit()
    return data


def _sheet(trip, listed, crew):
    rows = [(seat["seat_no"], seat["name"], seat["id_last4"], SEAT_NAMES.get(seat["status"], seat["status"]),
             HEALTH_NAMES.get(seat["health"]["status"], seat["health"]["status"]), None, None, None)
            for seat in listed["seats"]]
    return exports.Sheet(f"{SHEET_TITLE} · 车次 #{trip.id}", HEADERS, rows, name=f"车次{trip.id} {trip.plate or ''}",
                         notes=_notes(trip, listed, crew), closing=(SIGN_OFF,), blank_columns=HAND_FILLED,
                         row_height=WRITING_ROW, one_page=True)


def _notes(trip, listed, crew):
    """The vehicle, its route and crew as the printed manifest heads them, phones masked."""
    route = trip.route or f"{trip.origin} → {trip.destination}"
    return (
        f"出发：{trip.departure_date:%Y-%m-%d} {trip.departure_time:%H:%M}　　线路：{route}　　"
        f"车牌：{trip.plate or '—'}　　上车地点：{trip.departure_place or '—'}",
        f"状态：{TRIP_NAMES.get(trip.status, trip.status)}　　司机：{_person(trip.driver_name, trip.driver_phone_mask)}　　"
        f"跟车负责人：{_person(trip.responsible_name, trip.responsible_phone_mask)}　　"
        f"随车医护：{_person(trip.medic_name, trip.medic_phone_mask)}",
        f"车长：{_crew(crew.get(trip.captain_worker_id))}　　副车长：{_crew(crew.get(trip.vice_captain_worker_id))}　　"
        f"人数：{listed['counts']['total']} 人（核定 {trip.capacity}）",
    )


def _person(name, phone_mask):
    return " ".join(part for part in (name, phone_mask) if part) or "—"


def _crew(worker):
    return _person(mask_name(worker.name), worker.mobile_mask) if worker else "—"
