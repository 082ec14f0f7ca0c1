"""What the 审计日志 page shows and reads: filters from the URL, an entry's object linked to its page, details in words.

The query and the action words are the office's (`app/services/office/audit_log.py`); links go only to
pages that exist in this console (a menu entry another issue adds gets its links once it is there).
"""
import json
from datetime import date

from flask import current_app, url_for
from werkzeug.routing import BuildError

from sqlalchemy import select

from app.errors import Invalid
from app.extensions import db
from app.models import County
from app.services.office import audit_log
from console.web import forms
from console.web.layout import ROLE_LABELS

FILTERS = ("user", "actor", "action", "day_from", "day_to", "object_type", "object_id", "page", "per_page")
PER_PAGE_CHOICES = (50, 100, 200)
FIELD_LABELS = {"user": "操作人", "actor": "操作人", "action": "操作", "group": "操作分组", "day_from": "开始日期",
                "day_to": "结束日期", "object_type": "对象类型", "object_id": "对象编号", "page": "页码",
                "per_page": "每页条数"}
# Where an object of each type is shown: (endpoint, its id argument); tried in order, the first that exists wins.
OBJECT_PAGES = {
    "application": [("console_web.applications_detail", "application_id")],
    "plan": [("console_web.planning_plan", "plan_id")],
    "trip": [("console_web.trips_detail", "trip_id")],
    "staff_user": [("console_web.accounts_detail", "staff_id")],
    "enterprise": [("console_web.enterprises_detail", "enterprise_id")],
    "isolation_order": [("console_web.isolation_detail", "order_id")],
    "health_certificate": [("console_web.certificate_detail", "serial")],
}
DETAIL_NAMES = {
    "reason": "原因", "rows": "行数", "filter": "筛选条件", "fields": "改动字段", "username": "用户名", "role": "角色",
    "before": "改前", "after": "改后", "display_name": "姓名", "via": "途径", "worker_id": "务工人员编号",
    "enterprise_id": "企业编号", "trip_id": "车次编号", "job_id": "岗位编号", "interest_id": "岗位报名编号",
    "full_phones": "含完整手机号", "full_mobiles": "含完整手机号", "full_id_numbers": "含完整身份证号",
    "no_shows": "缺乘人数", "seats": "座位数", "candidates": "候选人数", "captain": "车长", "vice_captain": "副车长",
    "county_code": "县区", "park_id": "园区编号", "checkpoint_id": "卡口编号", "unit_name": "单位名称",
}


def given(args):
    """The filter and paging values that are filled in (an action group arrives as action=group:<key>)."""
    return forms.given(args, FILTERS)


def parse_filters(args):
    """The URL's filters as `audit_log.list_entries` takes them; raises Invalid (the page says which field)."""
    values = given(args)
    query = {"user": values.get("user", "")[:64] or None, "actor": values.get("actor"),
             "object_type": values.get("object_type", "")[:32] or None}
    action = values.get("action", "")
    if action.startswith("group:"):
        query["group"] = action.removeprefix("group:")
    elif action:
        query["action"] = action[:48]
    for name in ("day_from", "day_to"):
        if name in values:
            try:
                query[name] = date.fromisoformat(values[name])
            except ValueError:
                raise Invalid("validation_error", "筛选条件有误", fields={name: "应为日期，如 2020-02-25"}) from None
    if "object_id" in values:
        query["object_id"] = forms.number(values["object_id"], "object_id", 0, 2**31 - 1)
    query["page"] = forms.number(values.get("page", "1"), "page", 1, 100000)
    query["per_page"] = forms.number(values.get("per_page", "50"), "per_page", 1, 200)
    if query["per_page"] not in PER_PAGE_CHOICES:
        raise Invalid("validation_error", "筛选条件有误", fields={"per_page": "可选 50、100、200"})
    return query


def error_text(error):
    """A domain error as one Chinese sentence with its fields named."""
    fields = "；".join(f"{FIELD_LABELS.get(name, name)}：{text}" for name, text in (error.fields or {}).items())
    return f"{error.message}（{fields}）" if fields else error.message


def list_url(args, **changes):
    """This list's URL with the current filters and some values changed (`forms.filtered_url`)."""
    return forms.filtered_url("console_web.audit", given(args), **changes)


def action_choices(admin):
    """The action filter's choices: the groups first, then every action (known words, or as stored)."""
    groups = [(f"group:{key}", label) for key, (label, _) in audit_log.ACTION_GROUPS.items()]
    actions = [(action, audit_log.action_name(action)) for action in audit_log.actions_in_use(admin)]
    return groups, sorted(actions, key=lambda pair: pair[0])


def rows(entries):
    """Entries with a link to the object's page where there is one, and details as (label, text) pairs."""
    counties = dict(db.session.execute(select(County.code, County.name)).all())
    for entry in entries:
        entry["object_url"] = object_url(entry["object_type"], entry["object_id"])
        entry["actor_url"] = object_url("staff_user", entry["actor_id"]) if entry["actor_kind"] == "staff" else None
        entry["detail_pairs"] = [(DETAIL_NAMES.get(key, key), _text(key, value, counties))
                                 for key, value in entry["details"].items()]
    return entries


def object_url(object_type, object_id):
    """The console page of an object, or None when it has none (yet)."""
    if object_id is None:
        return None
    for endpoint, argument in OBJECT_PAGES.get(object_type, ()):
        if endpoint in current_app.view_functions:
            try:
                return url_for(endpoint, **{argument: object_id})
            except BuildError:
                continue
    return None


def _text(key, value, counties):
    """A detail's value as words: roles and counties by name, yes/no, a before/after scope as its own pairs."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if key == "role":
        return ROLE_LABELS.get(value, value)
    if key == "county_code":
        return counties.get(value, value)
    if key == "via":
        return {"cli": "命令行"}.get(value, value)
    if isinstance(value, dict) and key in ("before", "after"):
        return "，".join(f"{DETAIL_NAMES.get(k, k)} {_text(k, v, counties)}" for k, v in value.items())
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=("，", "："))
    return "—" if value is None else str(value)
