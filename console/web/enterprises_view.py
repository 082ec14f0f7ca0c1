"""What the 企业与岗位（附件2） pages show: filters and forms read by the API's own schemas, choices of counties and
parks, the enterprise and job views of the API, and its interested workers masked as the API masks them.

No rule lives here: which fields a role may write comes from `field_rights`, who registers from `enterprises`,
who sees a full phone from `vacancies`.
"""

from marshmallow import EXCLUDE
from sqlalchemy import select

from app.errors import flatten_fields
from app.extensions import db
from app.models import County, Park
from console import enterprise_schemas as s
from console.web import forms

FILTERS = ("name", "county_code", "park_id")
DETAILS = ("work_location", "products", "resume_date", "remarks")
JOB_FIELDS = ("job_type", "filled", "short", "remarks")
FIELD_LABELS = {"name": "企业名称", "county_code": "所在县区", "park_id": "所在园区", "work_location": "工作地点",
                "products": "生产物资种类", "resume_date": "开工复工时间", "remarks": "备注", "job_type": "工种",
                "filled": "解决用工人数", "short": "缺工人数", "page": "页码", "per_page": "每页条数",
                "status": "状态", "job_id": "工种", "_body": "内容"}
PER_PAGE = 50
INTERESTS_PER_PAGE = 50


def given(args, keys=FILTERS + ("page",)):
    """The query's values that are filled in (an empty form field means no filter)."""
    return forms.given(args, keys)


def parse_filters(args):
    """The list's filters and page, loaded by the API's EnterpriseFilterIn; raises ValidationError."""
    return s.EnterpriseFilterIn().load({**given(args), "per_page": PER_PAGE}, unknown=EXCLUDE)


def export_args(args):
    """The export's query for the list's current filter (the sheet has no paging)."""
    return {key: value for key, value in given(args, FILTERS).items()}


def parse_export(args):
    """The export's filter, loaded by the API's EnterpriseExportIn; raises ValidationError."""
    return s.EnterpriseExportIn().load(export_args(args), unknown=EXCLUDE)


def error_text(error, lead="填写有误"):
    """A schema's ValidationError as one Chinese sentence naming each field."""
    return error_text_of(field_errors(error), lead)


def error_text_of(fields, lead):
    """{field: message} as one Chinese sentence naming each field; None when there is nothing to say."""
    if not fields:
        return None
    return lead + "：" + "；".join(f"{FIELD_LABELS.get(name, name)} {text}" for name, text in fields.items())


def field_errors(error):
    """A schema's ValidationError as {field: Chinese message}."""
    return field_errors_of(error.messages)


def list_url(args, **changes):
    """This list's URL with the current filters and some values changed (`forms.filtered_url`)."""
    return forms.filtered_url("console_web.enterprises", given(args), **changes)


def paging(page, per_page, total):
    """Page count and the neighbouring pages, for the pager."""
    return forms.paging(page, per_page, total)


def interest_filters(args):
    """The interests' filter (工种, 状态) and page, loaded by the API's InterestedWorkerFilterIn.

    A filter the schema refuses (an edited URL) is dropped rather than failing the enterprise's page:
    returns (filters, page, {field: message}).
    """
    values = given(args, ("job_id", "status", "page"))
    errors = s.InterestedWorkerFilterIn().validate(values)
    loaded = s.InterestedWorkerFilterIn().load({k: v for k, v in values.items() if k not in errors})
    page = loaded.pop("page")
    loaded.pop("per_page")
    return loaded, page, field_errors_of(errors)


def field_errors_of(messages):
    """marshmallow's error messages as {field: Chinese message}."""
    return {name.split(".")[0]: text for name, text in flatten_fields(messages).items()}


def places():
    """Counties {code: name} and parks {id: (name, county code)} for selects and the list's words."""
    counties = dict(db.session.execute(select(County.code, County.name).order_by(County.code)).all())
    parks = {park.id: (park.name, park.county_code) for park in db.session.scalars(select(Park).order_by(Park.id))}
    return {"counties": counties, "parks": parks}


def enterprise_body(form, writable, creating):
    """The create (EnterpriseIn) or edit (EnterprisePatchIn) body from the form, with the role's fields only.

    On creation a blank field is left out (the service places the enterprise by who registers it); on edit a
    blank detail clears it, and a blank county keeps the one it has.
    """
    body = {}
    for name in ("name", "county_code", "park_id", *DETAILS):
        if name not in writable or name not in form:
            continue
        value = form.get(name, "").strip()
        if value:
            body[name] = value
        elif not creating and name in (*DETAILS, "park_id"):
            body[name] = None
    schema = s.EnterpriseIn() if creating else s.EnterprisePatchIn()
    return schema.load(body)


def job_body(form, creating):
    """A job row (EnterpriseJobIn / EnterpriseJobPatchIn) from the form; a blank 备注 clears it on edit."""
    body = {}
    for name in JOB_FIELDS:
        value = form.get(name, "").strip()
        if value:
            body[name] = value
        elif name == "remarks" and not creating and name in form:
            body[name] = None
    schema = s.EnterpriseJobIn() if creating else s.EnterpriseJobPatchIn()
    return schema.load(body)


def enterprise_values(enterprise, submitted=None):
    """The edit form's values: what was just submitted, else the enterprise's own."""
    if submitted is not None:
        return {name: submitted.get(name, "") for name in ("name", "county_code", "park_id", *DETAILS)}
    values = {name: getattr(enterprise, name) for name in ("name", "county_code", "park_id", *DETAILS)}
    values["resume_date"] = enterprise.resume_date.isoformat() if enterprise.resume_date else ""
    return {name: "" if value is None else str(value) for name, value in values.items()}


def interests(rows):
    """Interested workers as the API presents them (masked unless the worker allowed contact)."""
    return [s.interest_view(*row) for row in rows]
