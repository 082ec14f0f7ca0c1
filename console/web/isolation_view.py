"""What the 隔离管理 pages show, assembled from the services: orders with masked identity, the person's health record,
the 隔离组 feed, and forms parsed by the API's own schemas (console/roster_schemas.py).

No rule lives here: which orders the officer sees is `isolation.list_orders`, what each step requires is
`isolation.activate / release / dismiss / open_order`, who is flagged in the feed is `feeds.isolation_feed`.
"""
from flask import url_for
from marshmallow import EXCLUDE

from app.services.employment import isolation
from app.services.office import feeds
from app.services.people import health
from app.services.people.identity import mask_name
from app.services.people.workers import of_rows
from app.services.platform.timeutil import local_today
from console import roster_schemas as s
from console.web import forms

FILTERS = ("status", "kind", "worker_id")
FEED_SIZE = 50  # the feed's first page: flagged people come first, the rest is in the API
FIELD_LABELS = {"status": "状态", "kind": "隔离方式", "worker_id": "人员编号", "page": "页码", "per_page": "每页条数",
                "place": "隔离地点", "starts_on": "开始日期", "ends_on": "结束日期", "note": "说明", "full_ids": "完整身份证号",
                "_body": "内容"}
DECISION_FIELDS = ("kind", "place", "starts_on", "ends_on", "note")

_ORDER = s.IsolationOrderOut()


def given(args, keys=FILTERS + ("page", "per_page")):
    """The values of a query or form that are filled in (an empty field means none)."""
    return forms.given(args, keys)


def parse_filters(args):
    """The list's filters and paging, loaded by the API's IsolationFilterIn; raises ValidationError."""
    return s.IsolationFilterIn().load(given(args), unknown=EXCLUDE)


def error_text(error, lead):
    """`forms.error_sentence` with this page's field names."""
    return forms.error_sentence(error, lead, FIELD_LABELS)


def list_url(args, **changes):
    """This list's URL with the current filters and some values changed (`forms.filtered_url`)."""
    return forms.filtered_url("console_web.isolation", given(args), **changes)


def export_url(args, full_ids=False):
    """The isolation list export (隔离人员名单 .xlsx) with the page's status and kind filters."""
    values = given(args, ("status", "kind"))
    if full_ids:
        values["full_ids"] = "true"
    return url_for("console_web.isolation_export", **values)


def counts(staff, filters):
    """How many orders each state tab holds under the other filters: {None: all, "pending": n, …} (one query)."""
    by_status = isolation.count_by_status(staff, filters)
    return {None: sum(by_status.values()), **by_status}


def person(worker):
    """A worker as every isolation page shows them: name, ID number and phone masked."""
    return {"id": worker.id, "name": mask_name(worker.name) if worker.name else None,
            "id_number": worker.id_number_mask, "mobile": worker.mobile_mask}


def person_record(worker):
    """A worker masked, and their health record (status, clearance, events newest first)."""
    return person(worker), health.record_of(worker)


def order_view(order, worker):
    """One order as the API serializes it (IsolationOrderOut: the worker masked), and the steps open on it."""
    fields = {name: getattr(order, name) for name in _ORDER.fields if name != "worker"}
    return {**_ORDER.dump({**fields, "worker": worker}), "steps": isolation.steps_open(order)}


def rows(orders, workers):
    """The listed orders as the table shows them."""
    return [order_view(order, workers[order.worker_id]) for order in orders]


def detail(order):
    """The drawer's content: the order and the person's health record (status, clearance, events newest first)."""
    worker = of_rows([order])[order.worker_id]
    return order_view(order, worker), health.record_of(worker)


def decision_defaults(values=None):
    """The activate / open form's values: what was typed, else today as the first day and 集中隔离."""
    defaults = {"kind": "centralized", "place": "", "starts_on": local_today().isoformat(), "ends_on": "", "note": ""}
    return {**defaults, **(values or {})}


def observation_days():
    """The configured observation period, which an order lasts when no end date is given."""
    return health.rules().observation_days


def parse_decision(form):
    """Kind, place, dates and note of an activation, loaded by the API's IsolationDecisionIn; raises ValidationError."""
    return s.IsolationDecisionIn().load(given(form, DECISION_FIELDS))


def parse_open(form):
    """A new order for a worker, loaded by the API's IsolationOpenIn; raises ValidationError."""
    return s.IsolationOpenIn().load(given(form, DECISION_FIELDS + ("worker_id",)))


def parse_release(form):
    """The release's optional note (IsolationReleaseIn)."""
    return s.IsolationReleaseIn().load(given(form, ("note",)))


def parse_dismiss(form):
    """The dismissal's required reason (IsolationDismissIn); raises ValidationError when it is missing."""
    return s.IsolationDismissIn().load(given(form, ("note",)))


def parse_export(args):
    """The export's filters (IsolationExportIn); raises ValidationError."""
    values = given(args, ("status", "kind", "full_ids"))
    return s.IsolationExportIn().load(values, unknown=EXCLUDE)


def feed(staff):
    """The 隔离组 feed's first page (returnees expected or arrived around now, flagged first)."""
    return feeds.isolation_feed(staff, page=1, per_page=FEED_SIZE)


def back_target(value, default):
    """Where to return after an action: a 隔离管理 URL of this console (path and query), else `default`."""
    return forms.back_target(value, "/console/isolation", default)
