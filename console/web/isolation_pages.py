"""隔离管理 (health officers' isolation orders): orders by state with filters and paging, the order and the person's
health record in a drawer, open / activate / release / dismiss, the 隔离组 feed and the isolation list export.

The same services and scope as console/isolation_routes.py and GET /feeds/isolation: `isolation.list_orders`,
`isolation.order_in_scope` (outside the officer's county → 404 page, another role → 403 page), the four steps of
`isolation`, `feeds.isolation_feed`, `roster_exports.isolation_workbook`.
"""
from flask import redirect, render_template, request, url_for
from marshmallow import ValidationError

from app.errors import Conflict, Invalid
from app.extensions import db
from app.models.base import utcnow
from app.services.employment import isolation as orders
from app.services.employment import roster_exports
from app.services.people.health_rules import SYMPTOMS
from app.services.platform import scope
from console.downloads import xlsx_download
from console.web import bp
from console.web import isolation_view as view
from console.web.applications_view import paging
from console.web.layout import flash, render_page
from console.web.session import current_staff

_ORDER = "/isolation/<int(max=2147483647):order_id>"


@bp.get("/isolation")
def isolation():
    """Orders in the officer's scope by state (tabs with counts), kind filter, paging, the feed and the export links."""
    staff = current_staff()
    scope.require_role(staff, orders.OFFICERS)
    page = {"filters": view.given(request.args), "list_url": lambda **changes: view.list_url(request.args, **changes),
            "export_url": view.export_url(request.args), "export_full_url": view.export_url(request.args, True),
            **_feed(staff)}
    try:
        query = view.parse_filters(request.args)
    except ValidationError as error:
        return render_page("console/isolation/list.html", status=422, rows=[], total=0, paging=None, counts={},
                           error=view.error_text(error, "筛选条件有误"), **page)
    number, per_page = query.pop("page"), query.pop("per_page")
    found, workers, total = orders.list_orders(staff, query, number, per_page)
    return render_page("console/isolation/list.html", rows=view.rows(found, workers), total=total,
                       counts=view.counts(staff, query), paging=paging(number, per_page, total), **page)


@bp.get("/isolation/feed")
def isolation_feed():
    """The 隔离组 feed as a fragment: the page refreshes it by itself, without reloading."""
    return render_template("console/isolation/_feed.html", **_feed(current_staff()))


def _feed(staff):
    return {"feed": view.feed(staff), "feed_updated_at": utcnow()}


@bp.get(_ORDER)
def isolation_detail(order_id):
    """One order with the person's health record and the steps open to it: the drawer for htmx, else a page."""
    order = orders.order_in_scope(current_staff(), order_id)
    if request.headers.get("HX-Request"):
        back = view.back_target(request.headers.get("HX-Current-URL"), url_for("console_web.isolation"))
        return render_page("console/isolation/_drawer.html", **_detail(order, back))
    return render_page("console/isolation/detail.html", **_detail(order, url_for("console_web.isolation")))


def _detail(order, back, form=None, error=None):
    item, record = view.detail(order)
    return {"item": item, "record": record, "symptoms": SYMPTOMS, "back": back, "error": error,
            "form": view.decision_defaults(form), "observation_days": view.observation_days()}


@bp.post(_ORDER + "/activate")
def isolation_activate(order_id):
    """Start a pending order (开始隔离) with kind, place and dates."""
    try:
        order = orders.activate(current_staff(), order_id, view.parse_decision(request.form))
    except (ValidationError, Invalid, Conflict) as error:
        return _refused(order_id, error, "未开始隔离")
    flash(f"已开始{_kind_word(order)}：{order.starts_on} 至 {order.ends_on}，{order.place}")
    return _back()


@bp.post(_ORDER + "/release")
def isolation_release(order_id):
    """Release an active order (解除隔离), with an optional note."""
    try:
        order = orders.release(current_staff(), order_id, view.parse_release(request.form).get("note"))
    except (ValidationError, Conflict) as error:
        return _refused(order_id, error, "未解除")
    flash(f"已解除隔离（隔离单 #{order.id}）")
    return _back()


@bp.post(_ORDER + "/dismiss")
def isolation_dismiss(order_id):
    """Dismiss a pending order as a false alarm (撤销), with the reason the service requires."""
    try:
        order = orders.dismiss(current_staff(), order_id, view.parse_dismiss(request.form)["note"])
    except (ValidationError, Conflict) as error:
        return _refused(order_id, error, "未撤销")
    flash(f"已撤销隔离单 #{order.id}：{order.note}")
    return _back()


def _kind_word(order):
    """An order's kind in words (集中隔离 / 居家隔离)."""
    return orders.KIND_NAMES.get(order.kind, "隔离")


def _refused(order_id, error, lead):
    """A step the schema or the service refused: the order's page again with the reason and what was typed."""
    db.session.rollback()
    order = orders.order_in_scope(current_staff(), order_id)  # outside the scope → 404 page, as the API
    status = getattr(error, "status", 422)
    back = view.back_target(request.form.get("back"), url_for("console_web.isolation"))
    return render_page("console/isolation/detail.html", status=status,
                       **_detail(order, back, view.given(request.form, view.DECISION_FIELDS), view.error_text(error, lead)))


def _back():
    return redirect(view.back_target(request.form.get("back"), url_for("console_web.isolation")))


@bp.get("/isolation/new")
def isolation_new():
    """The form to open an order directly (立即隔离) for a person chosen from the feed (or by their number)."""
    return _new_page(request.args.get("worker_id"))


def _new_page(worker_id, status=200, form=None, error=None):
    staff = current_staff()
    scope.require_role(staff, orders.OFFICERS)
    worker = record = open_orders = None
    if worker_id:
        try:
            worker_id = view.parse_filters({"worker_id": worker_id})["worker_id"]
        except ValidationError as invalid:
            return render_page("console/isolation/new.html", status=422, worker=None, form=view.decision_defaults(),
                               error=view.error_text(invalid, "人员编号有误"), observation_days=view.observation_days())
        found = orders.worker_in_scope(staff, worker_id)  # outside the county → 404 page, as the API
        worker, record = view.person_record(found)
        listed, workers, _ = orders.list_orders(staff, {"worker_id": found.id}, 1, 20)
        open_orders = view.rows([order for order in listed if orders.is_open(order)], workers)
    return render_page("console/isolation/new.html", status=status, worker=worker, record=record,
                       open_orders=open_orders, symptoms=SYMPTOMS, form=view.decision_defaults(form), error=error,
                       observation_days=view.observation_days())


@bp.post("/isolation/new")
def isolation_open():
    """Open an active order for the person (开具隔离单), then to the list of their orders."""
    try:
        order = orders.open_order(current_staff(), view.parse_open(request.form))
    except (ValidationError, Invalid, Conflict) as error:
        db.session.rollback()
        return _new_page(request.form.get("worker_id"), getattr(error, "status", 422),
                         view.given(request.form, view.DECISION_FIELDS), view.error_text(error, "未开单"))
    flash(f"已开具{_kind_word(order)}单 #{order.id}：{order.starts_on} 至 {order.ends_on}，{order.place}")
    return redirect(url_for("console_web.isolation", worker_id=order.worker_id))


@bp.get("/isolation/export.xlsx")
def isolation_export():
    """The isolation list (隔离人员名单) as .xlsx with the page's filters; full ID numbers only when asked, audited."""
    try:
        query = view.parse_export(request.args)
    except ValidationError as error:
        raise Invalid("validation_error", view.error_text(error, "导出条件有误")) from None
    full_ids = query.pop("full_ids")
    data = roster_exports.isolation_workbook(current_staff(), query, full_ids)
    return xlsx_download(data, f"隔离人员名单-{roster_exports.today_stamp()}.xlsx")
