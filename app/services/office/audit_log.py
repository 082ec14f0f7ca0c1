"""Reading the audit log (审计日志): who did or read what, when, to which object — for the coordination office's admin.

It lives with the office, on top of the domains, because the log spans all of them: actions come
from transport, scanning, employment, the office and accounts, and an entry's actor is a staff
member or a worker (a captain scanning), whose names come from accounts and people. Writing an
entry stays in `platform.audit`, under every domain.

Every action string the code writes has its Chinese words here (`ACTION_NAMES`; a test greps the
code for `audit.record(` so a new one cannot be missed); an unknown one is shown as written.
"""
from datetime import date, timedelta

from sqlalchemy import func, or_, select

from app.errors import Invalid
from app.extensions import db
from app.models import AuditLog, StaffUser, Worker
from app.services.people.identity import mask_name
from app.services.platform import scope
from app.services.platform.ids import parse_id
from app.services.platform.timeutil import utc_at

READERS = ("admin",)
ACTION_NAMES = {
    "application.approve": "通过报名", "application.reject": "驳回报名",
    "application.travelled_after_all": "缺乘后补记已出行",
    "plan.create": "生成编班方案", "plan.publish": "发布编班方案", "plan.discard": "放弃编班方案",
    "trip.crew": "任命车长", "trip.update": "修改车次", "trip.close": "结束车次", "trip.reopen": "重开车次",
    "trip.cancel": "取消车次",
    "seat.move": "调车", "seat.cancel": "取消座位",
    "enterprise.create": "新增企业", "enterprise.update": "修改企业",
    "enterprise_job.create": "新增岗位", "enterprise_job.update": "修改岗位", "enterprise_job.delete": "删除岗位",
    "vacancy.interest": "报名岗位", "vacancy.hire": "录用",
    "roster.register": "零散返岗登记", "roster.identity_mismatch": "登记时身份证与姓名不符",
    "worker.claim_registered": "认领企业或卡口登记的档案",
    "worker.register_at_checkpoint": "卡口凭外地健康证明登记",
    "worker.mobile_verified": "微信验证手机号",
    "content_check.handle": "处理内容审核",
    "trust.add": "导入互认城市信任列表", "trust.sync": "更新互认城市信任列表", "trust.remove": "删除互认城市",
    "isolation.open": "开立隔离单", "isolation.activate": "开始隔离", "isolation.release": "解除隔离",
    "isolation.dismiss": "撤销隔离单",
    "certificate.issue": "出具健康证明", "certificate.revoke": "撤销健康证明",
    "liaison.create": "新增联络单位", "liaison.update": "修改联络单位", "liaison.delete": "删除联络单位",
    "liaison.reorder": "调整联络员顺序",
    "read.full_phone": "查看完整手机号", "read.full_contact": "查看完整联系方式",
    "export.attachment3": "导出附件3", "export.manifest": "导出乘车名单", "export.roster": "导出花名册",
    "export.isolation": "导出隔离名单",
    "export.enterprise_sheet": "导出附件2（企业用工）", "export.liaison_units": "导出附件1（联络员）",
    "staff.create": "新建账号", "staff.update": "修改角色与范围", "staff.reset_password": "重置密码",
    "staff.deactivate": "停用账号", "staff.activate": "启用账号",
    "staff.link_miniprogram": "绑定小程序", "staff.unlink_miniprogram": "解除小程序绑定",
    "message.retry": "重新发送消息",
}
# Groups of actions to filter on at once, by the start of their names: the office asks "who exported
# or saw full personal data" far more often than for one kind of export.
ACTION_GROUPS = {
    "personal_data": ("导出与查看完整信息", ("export.", "read.")),
    "accounts": ("账号变更", ("staff.",)),
    "applications": ("报名审核", ("application.",)),
    "transport": ("编班与车次", ("plan.", "trip.", "seat.")),
    "isolation": ("隔离", ("isolation.",)),
    "certificates": ("健康证明", ("certificate.",)),
    "employment": ("企业、岗位与花名册", ("enterprise.", "enterprise_job.", "vacancy.", "roster.", "worker.")),
    "liaison": ("联络员", ("liaison.",)),
    "trust": ("互认城市", ("trust.",)),
    "content": ("内容审核", ("content_check.",)),
    "messages": ("消息发送", ("message.",)),
}
OBJECT_NAMES = {
    "application": "报名", "plan": "编班方案", "trip": "车次", "seat": "座位", "enterprise": "企业",
    "enterprise_job": "岗位", "vacancy_interest": "岗位报名", "roster_entry": "花名册记录", "worker": "务工人员",
    "isolation_order": "隔离单", "liaison_unit": "联络单位", "staff_user": "账号", "export": "导出",
    "health_certificate": "健康证明", "message": "消息",
    "trust_partner": "互认城市", "content_check": "内容审核",
}
ACTOR_NAMES = {"staff": "工作人员", "worker": "务工人员", "system": "系统"}
MAX_DAYS = 366  # the longest day range one query reads
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)  # the dates a filter may name, as the /stats API's


def action_name(action):
    """An action in Chinese words, or as written when it has none."""
    return ACTION_NAMES.get(action, action)


def list_entries(by, user=None, actor=None, action=None, group=None, day_from=None, day_to=None,
                 object_type=None, object_id=None, page=1, per_page=50):
    """Audit entries for the admin, newest first: (entries as dicts, total).

    Args:
        user: part of a staff member's username or display name (their entries);
        actor: one actor exactly, `staff:12`, `worker:5` or `system`;
        action: one action string; group: a key of ACTION_GROUPS;
        day_from, day_to: Beijing dates, both included; object_type, object_id: one object's entries.
    Raises Forbidden for roles other than admin; Invalid for an unknown group, a bad actor or a day range
    that ends before it starts.
    """
    scope.require_role(by, READERS)
    query = select(AuditLog)
    if user:
        query = query.where(AuditLog.actor_kind == "staff", AuditLog.actor_id.in_(_staff_matching(user)))
    if actor:
        query = query.where(*_actor_filter(actor))
    if action:
        query = query.where(AuditLog.action == action)
    if group:
        if group not in ACTION_GROUPS:
            raise Invalid("validation_error", "未知的操作分组", fields={"group": "未知分组"})
        query = query.where(or_(*(AuditLog.action.startswith(prefix, autoescape=True)
                                  for prefix in ACTION_GROUPS[group][1])))
    _check_days(day_from, day_to)
    if day_from:
        query = query.where(AuditLog.at >= utc_at(day_from))
    if day_to:
        query = query.where(AuditLog.at < utc_at(day_to + timedelta(days=1)))
    if object_type:
        query = query.where(AuditLog.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditLog.object_id == object_id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(AuditLog.id.desc()).limit(per_page).offset((page - 1) * per_page)).all()
    return _present(rows), total


def actions_in_use(by):
    """Every action string the log holds, beside the known ones: the choices of the admin's action filter."""
    scope.require_role(by, READERS)
    stored = set(db.session.scalars(select(AuditLog.action).distinct()))
    return sorted(set(ACTION_NAMES) | stored)


def _check_days(day_from, day_to):
    """Dates within 2000–2099 (as StatsIn's), the end not before the start, at most MAX_DAYS days; raises Invalid."""
    for name, day in (("day_from", day_from), ("day_to", day_to)):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise Invalid("validation_error", "日期超出范围", fields={name: "应在 2000-01-01 至 2099-12-31 之间"})
    if day_from and day_to and day_to < day_from:
        raise Invalid("validation_error", "结束日期早于开始日期", fields={"day_to": "早于开始日期"})
    if day_from and day_to and (day_to - day_from).days + 1 > MAX_DAYS:
        raise Invalid("validation_error", f"日期范围最多{MAX_DAYS}天", fields={"day_to": f"距开始日期超过{MAX_DAYS}天"})


def _staff_matching(text):
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return select(StaffUser.id).where(or_(StaffUser.username.like(pattern, escape="\\"),
                                          StaffUser.display_name.like(pattern, escape="\\")))


def _actor_filter(actor):
    kind, _, key = actor.partition(":")
    if kind == "system" and not key:
        return (AuditLog.actor_kind == "system",)
    actor_id = parse_id(key)
    if kind not in ("staff", "worker") or actor_id is None:
        raise Invalid("validation_error", "操作人筛选有误", fields={"actor": "格式不对"})
    return AuditLog.actor_kind == kind, AuditLog.actor_id == actor_id


def _present(rows):
    """Entries with the actor in words: a staff member by name and username, a worker by masked name."""
    staff_ids = {r.actor_id for r in rows if r.actor_kind == "staff" and r.actor_id is not None}
    worker_ids = {r.actor_id for r in rows if r.actor_kind == "worker" and r.actor_id is not None}
    staff = {s.id: s for s in db.session.scalars(select(StaffUser).where(StaffUser.id.in_(staff_ids)))} if staff_ids else {}
    workers = dict(db.session.execute(select(Worker.id, Worker.name).where(Worker.id.in_(worker_ids))).all()) \
        if worker_ids else {}
    return [{
        "id": row.id, "at": row.at, "actor_kind": row.actor_kind, "actor_id": row.actor_id,
        "actor": _actor_words(row, staff, workers), "action": row.action, "action_name": action_name(row.action),
        "object_type": row.object_type, "object_name": OBJECT_NAMES.get(row.object_type, row.object_type),
        "object_id": row.object_id, "details": row.details or {},
    } for row in rows]


def _actor_words(row, staff, workers):
    if row.actor_kind == "staff":
        person = staff.get(row.actor_id)
        return f"{person.display_name}（{person.username}）" if person else f"工作人员 #{row.actor_id}"
    if row.actor_kind == "worker":
        name = workers.get(row.actor_id)
        return f"务工人员 {mask_name(name) if name else '—'}（#{row.actor_id}）"
    if row.actor_kind == "system":
        return "系统（命令行）" if (row.details or {}).get("via") == "cli" else "系统"
    return f"{row.actor_kind} #{row.actor_id}" if row.actor_id is not None else row.actor_kind
