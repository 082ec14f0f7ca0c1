"""Excel exports of returnees: 附件3 复工信息登记, an enterprise's roster (花名册) and the isolation list.

Each export covers only the caller's scope and is written to the audit log with the filter
used. These sheets exist to reach people (an HR clerk calling a returnee, an isolation site
calling its guests), so names and phones are shown in full, while ID numbers stay masked.
The one exception: a health officer (or the admin) may ask for full ID numbers on the
isolation list, since an isolation site must identify the person (and report them to the
CDC); that read is audited as such.
"""
from datetime import UTC

from sqlalchemy import select

from app import crypto
from app.errors import NotFound
from app.extensions import db
from app.models import Enterprise
from app.read_path import heavy_read
from app.services.employment import isolation, roster
from app.services.platform import audit, exports, scope
from app.services.platform.timeutil import LOCAL_ZONE, local_today
from app.services.scanning.manifest_sheets import HEALTH_NAMES, SEAT_NAMES

ATTACHMENT3_TITLE = "银川市务工人员复工信息登记"
ATTACHMENT3_HEADERS = ("姓名", "身份证号", "联系电话", "从何处返回", "返回日期", "交通方式及车次/航班/车牌", "用工单位",
                       "健康状况")
ROSTER_HEADERS = ("姓名", "身份证号", "联系电话", "从何处返回", "返回日期", "交通方式及车次/航班/车牌", "来源", "到达状态",
                  "健康状况", "上岗状态", "观察期至", "随访次数")
ISOLATION_HEADERS = ("姓名", "身份证号", "联系电话", "隔离方式", "隔离地点", "开始日期", "结束日期", "状态", "原因",
                     "开单时间", "解除时间", "备注")

TRANSPORT_NAMES = {"bus": "客车", "train": "火车", "flight": "飞机", "car": "自驾", "other": "其他"}
CLEARANCE_NAMES = {"cleared": "可上岗", "in_observation": "观察中", "isolated": "隔离中", "not_arrived": "未到达"}
ARRIVAL_NAMES = {status: word for status, word in SEAT_NAMES.items() if status != "isolated"}
SOURCE_NAMES = {"trip": "点对点车次", "self": "零散返岗"}
ORDER_STATUS_NAMES = {"pending": "待处理", "active": "隔离中", "released": "已解除", "dismissed": "已撤销"}
REASON_NAMES = {"fever": "发热", "symptoms": "有症状", "isolation_required": "健康状态异常", "contact": "接触史",
                "health_officer": "卫健部门决定"}


def phone(worker):
    """A worker's full mobile for a contact sheet (the export itself is audited)."""
    if worker.mobile_cipher is None:
        return worker.mobile_mask
    return crypto.cipher().decrypt(worker.mobile_cipher, "worker.mobile")


def transport_text(row):
    """交通方式及车次: 客车 宁A·12345, 火车 K1234."""
    return " ".join(part for part in (TRANSPORT_NAMES.get(row.transport, row.transport), row.transport_number)
                    if part)


def health_text(row):
    """健康状况 as one cell: the status, and what it means for starting work."""
    return f"{HEALTH_NAMES[row.health.status]}（{row.clearance.message}）"


@heavy_read
def attachment3(staff, filters):
    """附件3 over the caller's scope: filters enterprise_id, date_from, date_to (arrival date). Returns bytes."""
    statement = select(Enterprise).where(roster.enterprises_condition(staff))
    if filters.get("enterprise_id"):
        statement = statement.where(Enterprise.id == filters["enterprise_id"])
    enterprises = {e.id: e for e in db.session.scalars(statement)}
    if filters.get("enterprise_id") and not enterprises:
        raise NotFound("enterprise_not_found", "没有找到该企业")
    rows = [row for row in roster.load_rows(enterprises) if _in_dates(row, filters)]
    data = exports.workbook(ATTACHMENT3_TITLE, ATTACHMENT3_HEADERS, [
        (row.worker.name, row.worker.id_number_mask, phone(row.worker), row.origin,
         row.arrival_date, transport_text(row), enterprises[row.enterprise_id].name, health_text(row))
        for row in rows])
    _audit(staff, "export.attachment3", None, filters, len(rows))
    return data


def _in_dates(row, filters):
    day = row.arrival_date
    return ((not filters.get("date_from") or (day is not None and day >= filters["date_from"]))
            and (not filters.get("date_to") or (day is not None and day <= filters["date_to"])))


@heavy_read
def roster_workbook(staff, enterprise_id, filters):
    """One enterprise's roster as .xlsx, with the list's filters: (enterprise, bytes)."""
    enterprise, rows, _ = roster.roster_of(staff, enterprise_id, filters, page=1, per_page=10**9)
    data = exports.workbook_of([exports.Sheet(f"{enterprise.name} 返岗人员花名册", ROSTER_HEADERS, [
        (row.worker.name, row.worker.id_number_mask, phone(row.worker), row.origin,
         row.arrival_date, transport_text(row), SOURCE_NAMES[row.source], ARRIVAL_NAMES[row.arrival_status],
         HEALTH_NAMES[row.health.status], CLEARANCE_NAMES[row.clearance.state], row.clearance.observation_ends_on,
         row.clearance.follow_ups)
        for row in rows], name=enterprise.name)])
    _audit(staff, "export.roster", enterprise.id, filters, len(rows))
    return enterprise, data


@heavy_read
def isolation_workbook(staff, filters, full_ids=False):
    """The isolation list in the officer's scope, filtered by status and kind, as .xlsx bytes.

    full_ids: full ID numbers instead of masks (health officers and the admin only; audited).
    """
    scope.require_role(staff, isolation.OFFICERS)
    orders, workers, _ = isolation.list_orders(staff, filters, page=1, per_page=10**9)
    field_cipher = crypto.cipher()

    def id_number(worker):
        if full_ids and worker.id_number_cipher:
            return field_cipher.decrypt(worker.id_number_cipher, "worker.id_number")
        return worker.id_number_mask

    data = exports.workbook("隔离人员名单", ISOLATION_HEADERS, [
        (workers[o.worker_id].name, id_number(workers[o.worker_id]), phone(workers[o.worker_id]),
         isolation.KIND_NAMES.get(o.kind), o.place, o.starts_on, o.ends_on, ORDER_STATUS_NAMES[o.status],
         REASON_NAMES.get(o.reason, o.reason), _local(o.opened_at), _local(o.closed_at), o.note)
        for o in orders])
    _audit(staff, "export.isolation", None, filters, len(orders), full_id_numbers=full_ids)
    return data


def _local(moment):
    """A stored naive-UTC moment as the Beijing time people read (Excel has no time zones)."""
    return moment and moment.replace(tzinfo=UTC).astimezone(LOCAL_ZONE).replace(tzinfo=None)


def _audit(staff, action, object_id, filters, rows, **extra):
    audit.record("staff", staff.id, action, "export", object_id, rows=rows, full_phones=True,
                 filter={key: value.isoformat() if hasattr(value, "isoformat") else value
                         for key, value in filters.items() if value is not None}, **extra)
    db.session.commit()


def today_stamp():
    """Today's date for file names: 20200223."""
    return local_today().strftime("%Y%m%d")
