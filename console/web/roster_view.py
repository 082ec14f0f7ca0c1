"""What the 花名册 · 每日随访 pages show: roster rows serialized (and masked) by the API's RosterRowOut, filters and
forms read by the API's own schemas, and the day's follow-up table read into one entry per person.

No rule lives here: who may record comes from `followups.may_record`, what is abnormal and whether an isolation
order opens from `followups`, clearance from `clearance` (through the roster service).
"""

from flask import url_for
from marshmallow import EXCLUDE, ValidationError

from app.errors import flatten_fields
from app.models.employment import TRANSPORTS
from app.services.people.health_rules import SYMPTOMS
from console import enterprise_schemas
from console import roster_schemas as s
from console.web import forms, words

FILTERS = ("clearance", "arrival_status", "source")
REGISTER_FIELDS = ("name", "id_number", "phone", "origin", "arrival_date", "transport", "transport_number")
FIELD_LABELS = {"clearance": "上岗状态", "arrival_status": "到达状态", "source": "来源", "page": "页码",
                "per_page": "每页条数", "name": "姓名", "id_number": "身份证号", "phone": "手机号",
                "origin": "从何处返回", "arrival_date": "返回日期", "transport": "交通方式",
                "transport_number": "车次/航班/车牌", "temperature": "体温", "symptoms": "症状", "note": "备注",
                "date": "日期", "date_from": "返回日期从", "date_to": "返回日期到", "enterprise_id": "企业", "_body": "内容"}
PER_PAGE = 100
CHOOSER_PER_PAGE = 50
_ROW = s.RosterRowOut()


def given(args, keys=FILTERS + ("page",)):
    """The query's values that are filled in (an empty form field means no filter)."""
    return forms.given(args, keys)


def parse_filters(args):
    """The roster's filters and page, loaded by the API's RosterFilterIn; raises ValidationError."""
    return s.RosterFilterIn().load({**given(args), "per_page": PER_PAGE}, unknown=EXCLUDE)


def parse_choice(args):
    """The enterprise chooser's name filter and page, loaded by the API's EnterpriseFilterIn; raises ValidationError."""
    return enterprise_schemas.EnterpriseFilterIn().load({**given(args, ("name", "page")), "per_page": CHOOSER_PER_PAGE},
                                                        unknown=EXCLUDE)


def export_args(args):
    """The roster export's query for the list's current filter."""
    return given(args, FILTERS)


def parse_export(args):
    """The roster export's filter, loaded by the API's RosterExportIn; raises ValidationError."""
    return s.RosterExportIn().load(export_args(args), unknown=EXCLUDE)


def parse_attachment3(args):
    """附件3's filter (enterprise, arrival dates), loaded by the API's Attachment3In; raises ValidationError."""
    return s.Attachment3In().load(given(args, ("enterprise_id", "date_from", "date_to")), unknown=EXCLUDE)


def error_text(error, lead="填写有误"):
    """A schema's ValidationError (or a {field: message} dict) as one Chinese sentence naming each field."""
    fields = flatten_fields(error.messages) if isinstance(error, ValidationError) else error
    return lead + "：" + "；".join(f"{FIELD_LABELS.get(name.split('.')[0], name)} {text}"
                                  for name, text in fields.items())


def field_errors(error):
    """A schema's ValidationError as {field: Chinese message}."""
    return {name.split(".")[0]: text for name, text in flatten_fields(error.messages).items()}


def rows(found):
    """Roster rows as the API serializes them: name, ID number and phone masked, health and clearance."""
    return [_ROW.dump(row) for row in found]


def paging(page, per_page, total):
    """The page number and count of pages, for the pager."""
    return forms.paging(page, per_page, total)


def page_url(endpoint, enterprise_id, args, **changes):
    """A roster URL with the current filters and some values changed."""
    return url_for(endpoint, enterprise_id=enterprise_id,
                   **{**given(args), **{key: str(value) for key, value in changes.items()}})


def register_body(form):
    """The registration form as the API's RegisterIn body; raises ValidationError."""
    body = {name: form.get(name, "").strip() for name in REGISTER_FIELDS if form.get(name, "").strip()}
    for name in ("name", "id_number", "phone", "origin", "arrival_date", "transport"):
        body.setdefault(name, "")
    return s.RegisterIn().load(body)


def transports():
    """The transport choices, in the API's order, with their words."""
    return [(code, words.TRANSPORT.get(code, code)) for code in TRANSPORTS]


def follow_up_entries(form):
    """The day's table as [(worker_id, FollowUpIn body)] and {worker_id: Chinese message} for rows that do not load.

    A row left blank (no temperature, no symptom, no remark) is nobody's check and is skipped.
    """
    entries, errors = [], {}
    for raw in form.getlist("worker"):
        worker_id = forms.parse_id(raw)
        if worker_id is None:
            continue
        temperature = form.get(f"temperature-{raw}", "").strip()
        symptoms = form.getlist(f"symptoms-{raw}")
        note = form.get(f"note-{raw}", "").strip()
        if not (temperature or symptoms or note):
            continue
        body = {"temperature": temperature, "symptoms": symptoms, **({"note": note} if note else {})}
        if not temperature:
            errors[raw] = "请填写体温"
            continue
        try:
            entries.append((worker_id, s.FollowUpIn().load(body)))
        except ValidationError as error:
            errors[raw] = "；".join(f"{FIELD_LABELS.get(name.split('.')[0], name)}{text}"
                                   for name, text in flatten_fields(error.messages).items())
    return entries, errors


def submitted_values(form):
    """What the clerk typed in the table, to show again when it was refused: {worker_id: {...}}."""
    return {raw: {"temperature": form.get(f"temperature-{raw}", ""), "symptoms": form.getlist(f"symptoms-{raw}"),
                  "note": form.get(f"note-{raw}", "")} for raw in form.getlist("worker")}


def symptom_words():
    """{code: word} of the symptoms a check can record."""
    return dict(SYMPTOMS)
