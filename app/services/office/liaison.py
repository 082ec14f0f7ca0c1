"""The liaison list (附件1 务工人员返岗复工联络员名单): units, leaders in charge and liaisons, kept by the office.

Every staff member of a member unit may read the list with mobiles masked; only the
coordination office (admin) changes it and exports it with full mobiles, audited.
"""
import re
import unicodedata

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app import crypto
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.models import LiaisonUnit
from app.services.people.identity import InvalidIdentity, mask_mobile, parse_mobile
from app.services.platform import audit, field_rights, scope
from app.services.platform.exports import workbook

# Enterprises are not member units of the coordination mechanism (the notice asks 县区 and 成员单位).
READERS = ("admin", "county_operator", "park_operator", "transport_operator", "checkpoint_staff", "health_officer")
WRITERS = ("admin",)
MOBILES = ("leader_mobile", "liaison_mobile")
OFFICE_PHONES = ("leader_office_phone", "liaison_office_phone")
_PLAIN = ("unit_name", "leader_name", "liaison_name", "liaison_wechat") + OFFICE_PHONES
# Office numbers as the notice writes them: 6017170, 0951-6017170, 0951-6017170转8001.
_OFFICE_SHAPE = re.compile(r"[0-9][0-9\-]{4,19}(转[0-9]{1,6})?")
_WECHAT_SHAPE = re.compile(r"[A-Za-z0-9_\-]{5,64}")
EXPORT_TITLE = "务工人员返岗复工联络员名单"
EXPORT_HEADERS = ("序号", "单位名称", "分管领导", "办公电话", "手机号", "联络员", "办公电话", "手机号", "微信号")
EXPORT_GROUPS = (("联系方式", 3, 4), ("联系方式", 6, 8))


def list_units(staff):
    """Every unit in list order (序号); Forbidden for roles outside the member units."""
    scope.require_role(staff, READERS)
    return db.session.scalars(select(LiaisonUnit).order_by(LiaisonUnit.position, LiaisonUnit.id)).all()


def create_unit(staff, data):
    """Add a unit at the end of the list and commit.

    Raises Forbidden unless admin, Invalid for a bad phone or WeChat ID, Conflict for a unit already listed.
    """
    scope.require_role(staff, WRITERS)
    unit = LiaisonUnit(position=(db.session.scalar(select(func.max(LiaisonUnit.position))) or 0) + 1)
    _apply(unit, data)
    unit.updated_by = staff.id
    db.session.add(unit)
    _commit_unique(staff, "liaison.create", unit)
    return unit


def update_unit(staff, unit_id, changes):
    """Change some fields of a unit (null clears an optional one) and commit; errors as create_unit."""
    field_rights.check_fields(staff, "liaison_unit", changes)
    unit = _get(unit_id)
    _apply(unit, changes)
    unit.updated_by = staff.id
    _commit_unique(staff, "liaison.update", unit, fields=sorted(changes))
    return unit


def delete_unit(staff, unit_id):
    """Remove a unit from the list and commit; the others keep their order."""
    scope.require_role(staff, WRITERS)
    unit = _get(unit_id)
    audit.record("staff", staff.id, "liaison.delete", "liaison_unit", unit.id, unit_name=unit.unit_name)
    db.session.delete(unit)
    db.session.commit()


def reorder(staff, unit_ids):
    """Put the units in the given order (every unit exactly once) and commit; returns the list."""
    scope.require_role(staff, WRITERS)
    units = {unit.id: unit for unit in db.session.scalars(select(LiaisonUnit)).all()}
    if len(set(unit_ids)) != len(unit_ids) or set(unit_ids) != set(units):
        raise Invalid("validation_error", "排序须包含名单中的每个单位各一次", fields={"ids": "应为全部单位的编号，不重不漏"})
    for position, unit_id in enumerate(unit_ids, start=1):
        units[unit_id].position = position
    audit.record("staff", staff.id, "liaison.reorder", "liaison_unit", None, ids=list(unit_ids))
    db.session.commit()
    return [units[unit_id] for unit_id in unit_ids]


def move_unit(staff, unit_id, offset):
    """Move one unit `offset` places up (negative) or down the list and commit; at either end it stays.

    The console's 上移/下移 buttons: the new order goes through `reorder`, audited like any reorder.
    Raises Forbidden unless admin, NotFound for an unknown unit.
    """
    scope.require_role(staff, WRITERS)
    _get(unit_id)
    ids = [unit.id for unit in list_units(staff)]
    at = ids.index(unit_id)
    to = min(max(at + offset, 0), len(ids) - 1)
    if to == at:
        return list_units(staff)
    ids.insert(to, ids.pop(at))
    return reorder(staff, ids)


def export(staff):
    """附件1 as .xlsx bytes with full mobiles, for the office only; the read is audited and committed."""
    scope.require_role(staff, WRITERS)
    units = list_units(staff)
    field_cipher = crypto.cipher()

    def full(unit, field):
        blob = getattr(unit, f"{field}_cipher")
        return field_cipher.decrypt(blob, f"liaison.{field}") if blob else None

    rows = [(n, u.unit_name, u.leader_name, u.leader_office_phone, full(u, "leader_mobile"), u.liaison_name,
             u.liaison_office_phone, full(u, "liaison_mobile"), u.liaison_wechat) for n, u in enumerate(units, 1)]
    data = workbook(EXPORT_TITLE, EXPORT_HEADERS, rows, groups=EXPORT_GROUPS)
    audit.record("staff", staff.id, "export.liaison_units", "liaison_unit", None, rows=len(rows), full_mobiles=True)
    db.session.commit()
    return data


def mask_wechat(value):
    """Show a WeChat ID's first two and last two characters: wx****01."""
    if not value:
        return value
    return value[:2] + "****" + value[-2:] if len(value) > 4 else "****"


def _get(unit_id):
    unit = db.session.get(LiaisonUnit, unit_id)
    if unit is None:
        raise NotFound("liaison_unit_not_found", "没有找到该单位")
    return unit


def _apply(unit, data):
    errors = {}
    for field in MOBILES:
        if field in data:
            try:
                value = None if data[field] is None else parse_mobile(data[field])
            except InvalidIdentity as error:
                errors[field] = str(error)
                continue
            crypto.seal(unit, field, value, f"liaison.{field}", mask_mobile)
    for field in OFFICE_PHONES:
        if data.get(field) is not None:
            data[field] = unicodedata.normalize("NFKC", data[field]).replace(" ", "")
            if not _OFFICE_SHAPE.fullmatch(data[field]):
                errors[field] = "办公电话应为数字，可带区号，如 6017170 或 0951-6017170"
    if data.get("liaison_wechat") is not None and not _WECHAT_SHAPE.fullmatch(data["liaison_wechat"].strip()):
        errors["liaison_wechat"] = "微信号应为5-64位字母、数字、下划线或减号"
    for field in ("unit_name", "leader_name", "liaison_name"):
        if field in data and not (data[field] or "").strip():
            errors[field] = "不能为空"
    if errors:
        raise Invalid("validation_error", "联络员信息有误", fields=errors)
    for field in _PLAIN:
        if field in data:
            setattr(unit, field, data[field].strip() if isinstance(data[field], str) else data[field])


def _commit_unique(staff, action, unit, **details):
    """Commit a created or changed unit; a unit name listed twice is a Conflict, even under a race."""
    with db.session.no_autoflush:
        taken = db.session.scalar(select(LiaisonUnit.id).where(LiaisonUnit.unit_name == unit.unit_name,
                                                               LiaisonUnit.id != (unit.id or 0)))
    if taken is not None:
        raise Conflict("liaison_unit_exists", "该单位已在名单中")
    try:
        db.session.flush()
        audit.record("staff", staff.id, action, "liaison_unit", unit.id, **details)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("liaison_unit_exists", "该单位已在名单中") from None
