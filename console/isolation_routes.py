"""Handlers of isolation orders (集中/居家隔离) for health officers, and the isolation list export."""
from app.services.employment import isolation, roster_exports
from app.services.people.workers import of_rows
from console import bp
from console import roster_schemas as s
from console.auth import auth, current_staff
from console.downloads import XLSX_RESPONSE, xlsx_download
from console.routes import _errors

_ORDER = "/isolation-orders/<int(max=2147483647):order_id>"


@bp.get("/isolation-orders")
@bp.auth_required(auth)
@bp.input(s.IsolationFilterIn, location="query", arg_name="query")
@bp.output(s.IsolationPageOut)
@bp.doc(summary="隔离单列表（卫健：本县区或全部）", responses=_errors(401, 403, 422))
def list_orders(query):
    """Isolation orders in the officer's scope, newest first."""
    page, per_page = query.pop("page"), query.pop("per_page")
    orders, workers, total = isolation.list_orders(current_staff(), query, page, per_page)
    return {"items": [_view(order, workers[order.worker_id]) for order in orders], "total": total,
            "page": page, "per_page": per_page}


@bp.post("/isolation-orders")
@bp.auth_required(auth)
@bp.input(s.IsolationOpenIn, arg_name="body")
@bp.output(s.DecidedOrderOut, status_code=201)
@bp.doc(summary="直接开具隔离单（立即隔离）", responses=_errors(401, 403, 404, 409, 422))
def open_order(body):
    """Open an active order for a worker: kind, place, dates."""
    return _view(isolation.open_order(current_staff(), dict(body)))


@bp.get(_ORDER)
@bp.auth_required(auth)
@bp.output(s.DecidedOrderOut)
@bp.doc(summary="隔离单详情", responses=_errors(401, 403, 404))
def get_order(order_id):
    """One isolation order."""
    return _view(isolation.order_in_scope(current_staff(), order_id))


@bp.post(f"{_ORDER}/activate")
@bp.auth_required(auth)
@bp.input(s.IsolationDecisionIn, arg_name="body")
@bp.output(s.DecidedOrderOut)
@bp.doc(summary="开始隔离：待处理 → 隔离中", responses=_errors(401, 403, 404, 409, 422))
def activate_order(order_id, body):
    """Decide a pending order: kind, place and dates."""
    return _view(isolation.activate(current_staff(), order_id, dict(body)))


@bp.post(f"{_ORDER}/release")
@bp.auth_required(auth)
@bp.input(s.IsolationReleaseIn, arg_name="body")
@bp.output(s.DecidedOrderOut)
@bp.doc(summary="解除隔离：隔离中 → 已解除", responses=_errors(401, 403, 404, 409, 422))
def release_order(order_id, body):
    """Release an active order."""
    return _view(isolation.release(current_staff(), order_id, body.get("note")))


@bp.post(f"{_ORDER}/dismiss")
@bp.auth_required(auth)
@bp.input(s.IsolationDismissIn, arg_name="body")
@bp.output(s.DecidedOrderOut)
@bp.doc(summary="撤销误报的隔离单：待处理 → 已撤销（须写明原因）", responses=_errors(401, 403, 404, 409, 422))
def dismiss_order(order_id, body):
    """Dismiss a pending order that was a false alarm."""
    return _view(isolation.dismiss(current_staff(), order_id, body["note"]))


@bp.get("/isolation-orders.xlsx")
@bp.auth_required(auth)
@bp.input(s.IsolationExportIn, location="query", arg_name="query")
@bp.doc(summary="导出隔离人员名单（.xlsx）", responses={200: XLSX_RESPONSE, **_errors(401, 403, 422)})
def export_orders(query):
    """The isolation list as an Excel file; full ID numbers only on request, audited."""
    full_ids = query.pop("full_ids")
    data = roster_exports.isolation_workbook(current_staff(), query, full_ids)
    return xlsx_download(data, f"隔离人员名单-{roster_exports.today_stamp()}.xlsx",
                         f"isolation-list-{roster_exports.today_stamp()}.xlsx")


def _view(order, worker=None):
    view = {column.key: getattr(order, column.key) for column in order.__table__.columns}
    view["worker"] = worker or of_rows([order])[order.worker_id]
    return view
