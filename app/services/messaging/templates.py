"""The subscribe-message templates (订阅消息模板) this system sends, and the inbox text of each.

Each template is chosen once in the WeChat mini-program console (订阅消息 → 公共模板库) with the
keywords listed here, in this order; WeChat then names its fields `thing1`, `time2`, … as below and
gives it a template id, which goes into WECHAT_TEMPLATES (README lists them). Keys whose template id
is not configured are still written to the in-app inbox; they are just never sent through WeChat.

`render(key, values)` gives the WeChat data (each value fitted to its type, `fields.fit`) and the
inbox title and body, from one set of named values, so the two never say different things. A phone
number (the captain's mobile) is personal data: the body shows it masked and the stored data keeps
it sealed (`SEALED` + AES-GCM, as other phones are kept); `payload(data)` unseals it only when the
sender builds WeChat's request.
"""
from dataclasses import dataclass
from datetime import datetime

import base64

from flask import current_app

from app import crypto
from app.services.messaging import fields
from app.services.platform.timeutil import LOCAL_ZONE


@dataclass(frozen=True)
class Template:
    """A message kind: its WeChat template's title and fields, the page it opens, and who receives it."""

    key: str
    title: str
    page: str
    fields: tuple  # ((WeChat key, keyword as named in WeChat's library, value name), …)
    audience: str = "worker"


TEMPLATES = {t.key: t for t in (
    Template("application_decided", "报名审核结果通知", "pages/applications/detail?id={application_id}", (
        ("thing1", "申请事项", "subject"),
        ("phrase2", "审核结果", "result"),
        ("thing3", "备注", "note"),
        ("time4", "审核时间", "decided_at"),
    )),
    Template("trip_assigned", "出行安排通知", "pages/trips/detail?id={trip_id}", (
        ("date1", "出发时间", "departure"),
        ("thing2", "上车地点", "place"),
        ("thing3", "车辆座位", "vehicle"),
        ("phone_number4", "车长电话", "captain_phone"),
        ("thing5", "温馨提示", "note"),
    )),
    Template("trip_changed", "行程变更通知", "pages/trips/index", (
        ("thing1", "变更内容", "change"),
        ("date2", "出发时间", "departure"),
        ("thing3", "备注", "note"),
    )),
    Template("departure_reminder", "出发提醒", "pages/trips/detail?id={trip_id}", (
        ("date1", "出发时间", "departure"),
        ("thing2", "上车地点", "place"),
        ("thing3", "车辆座位", "vehicle"),
        ("thing4", "温馨提示", "note"),
    )),
    Template("arrival_recorded", "到达登记通知", "pages/health/index", (
        ("time1", "到达时间", "arrived_at"),
        ("thing2", "登记地点", "place"),
        ("phrase3", "登记结果", "result"),
        ("thing4", "备注", "note"),
    )),
    Template("isolation_changed", "隔离通知", "pages/health/index", (
        ("phrase1", "隔离状态", "state"),
        ("thing2", "隔离方式", "mode"),
        ("date3", "时间", "at"),
        ("thing4", "备注", "note"),
    )),
    Template("cleared_to_work", "复工上岗通知", "pages/health/index", (
        ("thing1", "用工单位", "employer"),
        ("date2", "观察期满", "observation_end"),
        ("thing3", "备注", "note"),
    )),
    Template("crew_published", "车长任务通知", "pages/trips/detail?id={trip_id}", (
        ("thing1", "任务", "role"),
        ("date2", "出发时间", "departure"),
        ("thing3", "车辆", "vehicle"),
        ("thing4", "备注", "note"),
    )),
    Template("staff_alert", "待办提醒", "pages/staff/index", (
        ("thing1", "事项", "subject"),
        ("time2", "时间", "at"),
        ("thing3", "备注", "note"),
    ), audience="staff"),
)}


class Rendered:
    """What one message says: WeChat's data, and the inbox title and body."""

    __slots__ = ("data", "title", "body", "page")

    def __init__(self, data, title, body, page):
        self.data, self.title, self.body, self.page = data, title, body, page


def render(key, values, title=None):
    """The message of template `key` from named values (datetimes are stored UTC, shown Beijing time).

    `title` replaces the template's title in the inbox (staff alerts name their kind). Raises KeyError
    for an unknown template or a missing value: a caller's mistake, not the user's.
    """
    template = TEMPLATES[key]
    data = {wechat_key: _stored(wechat_key, values[name]) for wechat_key, _, name in template.fields}
    lines = [f"{label}：{_inbox_text(wechat_key, values[name])}" for wechat_key, label, name in template.fields
             if values[name] not in (None, "")]
    page = template.page.format(**values) if "{" in template.page else template.page
    return Rendered(data, (title or template.title)[:40], "\n".join(lines)[:500], page)


def _inbox_text(wechat_key, value):
    """The inbox shows values whole (only WeChat's fields are cut), a phone number masked."""
    if fields.type_of(wechat_key) == "phone_number":
        return fields.masked_phone(fields.fit(wechat_key, value))
    if isinstance(value, datetime) or hasattr(value, "isoformat"):
        return fields.fit("date1", value)
    return str(value)


SEALED = "sealed:"
_SEAL_CONTEXT = "message.data"


def _stored(wechat_key, value):
    """A field's value as messages.data keeps it: fitted, and a phone number sealed."""
    fitted = fields.fit(wechat_key, value)
    if fields.type_of(wechat_key) != "phone_number" or fitted == "-":
        return fitted
    return SEALED + base64.urlsafe_b64encode(crypto.cipher().encrypt(fitted, _SEAL_CONTEXT)).decode("ascii")


def payload(data):
    """Stored data → WeChat's {key: {"value": v}} for subscribeMessage.send, sealed values unsealed."""
    return fields.fit_all({key: _unsealed(value) for key, value in data.items()})


def _unsealed(value):
    if isinstance(value, str) and value.startswith(SEALED):
        blob = base64.urlsafe_b64decode(value[len(SEALED):].encode("ascii"))
        return crypto.cipher().decrypt(blob, _SEAL_CONTEXT)
    return value


def template_id(key):
    """The WeChat template id configured for a key, or None (then the message stays in the inbox)."""
    return (current_app.config.get("WECHAT_TEMPLATES") or {}).get(key) or None


def key_of_template_id(template_id_):
    """Our key for a configured WeChat template id, or None."""
    for key, configured in (current_app.config.get("WECHAT_TEMPLATES") or {}).items():
        if configured == template_id_ and key in TEMPLATES:
            return key
    return None


def departure(day, clock):
    """A trip's departure (a Beijing date and time) as an aware moment, for a date or time field."""
    return datetime.combine(day, clock, LOCAL_ZONE) if clock is not None else day
