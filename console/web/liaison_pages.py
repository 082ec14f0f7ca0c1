"""联络员（附件1）: the coordination office keeps the liaison list: list, create, edit, delete, move up and down, export.

The same service as the API's /liaison-units routes (`app/services/office/liaison.py`): only the office (admin)
changes or exports the list, so only it has this page (another role → 403 page). The 上移/下移 buttons are plain
forms (`liaison.move_unit`); deleting asks 确定/取消 in the browser, and without script on a page of its own.
"""
from flask import redirect, request, url_for
from marshmallow import ValidationError

from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.services.office import liaison
from app.services.platform import scope
from console.downloads import xlsx_download
from console.web import bp
from console.web import liaison_view as view
from console.web.layout import flash, go, render_page
from console.web.session import current_staff

_UNIT = "/liaison/<int(max=2147483647):unit_id>"
MOVES = {"up": -1, "down": 1}


def _office():
    staff = current_staff()
    scope.require_role(staff, liaison.WRITERS)
    return staff


@bp.get("/liaison", endpoint="liaison")
def liaison_list():
    """The list in its order (序号), masked, with edit, delete, 上移/下移 and the export."""
    units = [view.unit_view(unit) for unit in liaison.list_units(_office())]
    return render_page("console/liaison/list.html", units=units)


@bp.get("/liaison/new")
def liaison_new():
    """The form for a new unit (added at the end of the list)."""
    _office()
    return _form(None)


@bp.post("/liaison/new")
def liaison_create():
    """Add a unit; bad input shows the form again with the reasons (the role is checked before the form)."""
    staff = _office()
    try:
        unit = liaison.create_unit(staff, view.parse_new(request.form))
    except (ValidationError, Invalid, Conflict) as error:
        db.session.rollback()
        return _form(None, error)
    flash(f"已添加：{unit.unit_name}（序号 {unit.position}）")
    return go("console_web.liaison")


@bp.get(_UNIT + "/edit")
def liaison_edit(unit_id):
    """The form for a unit's changes: names and office phones filled in, mobiles and WeChat ID only masked."""
    _office()
    return _form(_unit(unit_id))


@bp.post(_UNIT + "/edit")
def liaison_update(unit_id):
    """Save a unit's changes; bad input shows the form again and nothing changes (the role is checked first)."""
    staff = _office()
    try:
        unit = liaison.update_unit(staff, unit_id, view.parse_changes(request.form))
    except (ValidationError, Invalid, Conflict) as error:
        db.session.rollback()
        return _form(_unit(unit_id), error)
    flash(f"已保存：{unit.unit_name}")
    return go("console_web.liaison")


def _form(unit, error=None):
    fields, message = view.errors_of(error) if error is not None else ({}, None)
    values = view.form_values(request.form if error is not None else None, unit)
    status = getattr(error, "status", 422) if error is not None else 200
    return render_page("console/liaison/form.html", status=status, unit=view.unit_view(unit) if unit else None,
                       values=values, errors=fields, error=message, labels=view.LABELS)


def _unit(unit_id):
    """The unit to edit, or the 404 page."""
    units = {unit.id: unit for unit in liaison.list_units(current_staff())}
    if unit_id not in units:
        raise NotFound("liaison_unit_not_found", "没有找到该单位")
    return units[unit_id]


@bp.get(_UNIT + "/delete")
def liaison_delete_confirm(unit_id):
    """确定/取消 on a page of its own, for a browser without script (with script the list asks in a dialog)."""
    _office()
    return render_page("console/liaison/delete.html", unit=view.unit_view(_unit(unit_id)))


@bp.post(_UNIT + "/delete")
def liaison_delete(unit_id):
    """Delete a unit once confirmed (the dialog's 确定, or the confirmation page's); the others keep their order."""
    staff = _office()
    if request.form.get("confirmed") != "yes":
        return redirect(url_for("console_web.liaison_delete_confirm", unit_id=unit_id))
    name = _unit(unit_id).unit_name
    liaison.delete_unit(staff, unit_id)
    flash(f"已删除：{name}")
    return go("console_web.liaison")


@bp.post(_UNIT + "/move")
def liaison_move(unit_id):
    """Move a unit one place up or down (上移 / 下移)."""
    offset = MOVES.get(request.form.get("direction", ""))
    if offset is None:
        raise Invalid("validation_error", "请选择上移或下移")
    liaison.move_unit(current_staff(), unit_id, offset)
    flash("已调整顺序")
    return redirect(url_for("console_web.liaison") + f"#unit-{unit_id}")


@bp.get("/liaison/export.xlsx")
def liaison_export():
    """附件1 as .xlsx with full mobiles, for the office only; the read is audited."""
    return xlsx_download(liaison.export(current_staff()), "附件1_务工人员返岗复工联络员名单.xlsx")
