"""What the 联络员（附件1） pages show: the units with mobiles and WeChat IDs masked as the API masks them, and the
unit form read by the API's own schemas (console/office_schemas.py).

Mobiles and WeChat IDs are never put back into a form (the page would show them in full): on the edit form
they are left empty, an empty one stays as it is, and a ticked 清除 clears it (null, as in the API's PATCH).
"""
from marshmallow import ValidationError

from app.errors import flatten_fields
from app.services.office.liaison import mask_wechat
from console import office_schemas as s

FIELDS = ("unit_name", "leader_name", "leader_office_phone", "leader_mobile", "liaison_name", "liaison_office_phone",
          "liaison_mobile", "liaison_wechat")
REQUIRED = ("unit_name", "leader_name", "liaison_name")
SECRET = ("leader_mobile", "liaison_mobile", "liaison_wechat")  # masked on every page, never echoed into a form
LABELS = {"unit_name": "单位名称", "leader_name": "分管领导", "leader_office_phone": "分管领导办公电话",
          "leader_mobile": "分管领导手机号", "liaison_name": "联络员", "liaison_office_phone": "联络员办公电话",
          "liaison_mobile": "联络员手机号", "liaison_wechat": "联络员微信号"}


def unit_view(unit):
    """One unit as LiaisonUnitOut presents it: mobiles and WeChat ID masked."""
    view = {field: getattr(unit, field) for field in ("id", "position", "unit_name", "leader_name",
                                                      "leader_office_phone", "liaison_name", "liaison_office_phone",
                                                      "updated_at")}
    view.update(leader_mobile=unit.leader_mobile_mask, liaison_mobile=unit.liaison_mobile_mask,
                liaison_wechat=mask_wechat(unit.liaison_wechat))
    return view


def form_values(form, unit=None):
    """What the form shows: what was typed (mobiles and WeChat too, they are the typist's own), else the unit's
    plain fields; masked values are only placeholders."""
    if form is not None:
        return {field: (form.get(field) or "") for field in FIELDS}
    view = unit_view(unit) if unit is not None else {}
    return {field: ("" if field in SECRET else (view.get(field) or "")) for field in FIELDS}


def parse_new(form):
    """A new unit from the form (LiaisonUnitIn): empty optional fields are left out; raises ValidationError."""
    body = {field: form.get(field, "").strip() for field in FIELDS if form.get(field, "").strip()}
    for field in REQUIRED:
        body.setdefault(field, "")
    return s.LiaisonUnitIn().load(body)


def parse_changes(form):
    """The changes of the edit form (LiaisonUnitPatchIn): names always, an emptied office phone cleared, a
    mobile or WeChat ID only when typed (or cleared when 清除 is ticked); raises ValidationError."""
    body = {}
    for field in FIELDS:
        value = form.get(field, "").strip()
        if field in SECRET:
            if form.get(f"clear_{field}"):
                body[field] = None
            elif value:
                body[field] = value
        elif field in REQUIRED:
            body[field] = value
        else:
            body[field] = value or None
    return s.LiaisonUnitPatchIn().load(body)


def errors_of(error):
    """Field errors in Chinese and one sentence for the top of the form: (fields, message)."""
    if isinstance(error, ValidationError):
        fields = flatten_fields(error.messages)
    else:
        fields = dict(error.fields or {})
    fields = {name: text for name, text in fields.items() if name in LABELS}
    if not fields:
        return {}, error.message if hasattr(error, "message") else "填写有误"
    return fields, "未保存：" + "；".join(f"{LABELS[name]} {text}" for name, text in fields.items())
