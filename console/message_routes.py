"""Handlers of the console's notifications (通知), subscribe-message deliveries (消息发送) and mini-program link."""
from app.services.messaging import staff_link
from app.services.messaging import deliveries, inbox
from console import bp
from console import message_schemas as s
from console.auth import auth, current_staff
from console.routes import _errors  # one helper for the console's documented error responses


@bp.get("/notifications")
@bp.auth_required(auth)
@bp.input(s.NotificationsQueryIn, location="query", arg_name="query")
@bp.output(s.NotificationsOut)
@bp.doc(summary="我的通知（待办提醒，新的在前）", responses=_errors(401, 422))
def list_notifications(query):
    """The caller's own staff alerts, newest first, one page."""
    staff = current_staff()
    rows, total = inbox.page_of(staff, query["page"], query["per_page"], query["unread"])
    return {"items": [inbox.view(m) for m in rows], "total": total, "unread": inbox.unread_count(staff),
            "page": query["page"], "per_page": query["per_page"]}


@bp.post("/notifications/read")
@bp.auth_required(auth)
@bp.input(s.MarkReadIn, arg_name="body")
@bp.output(s.MarkedOut)
@bp.doc(summary="通知标为已读（ids 或 all: true）", responses=_errors(401, 422))
def mark_notifications_read(body):
    """Mark the caller's own alerts read; others' ids are ignored."""
    staff = current_staff()
    marked = inbox.mark_read(staff, body.get("ids"), everything=bool(body.get("all")))
    return {"marked": marked, "unread": inbox.unread_count(staff)}


@bp.get("/messages")
@bp.auth_required(auth)
@bp.input(s.DeliveriesQueryIn, location="query", arg_name="query")
@bp.output(s.DeliveriesOut)
@bp.doc(summary="订阅消息发送情况与失败列表（仅协调办）", responses=_errors(401, 403, 422))
def list_deliveries(query):
    """Counts by delivery state and one page of messages in a state (failed by default)."""
    staff = current_staff()
    rows, total = deliveries.list_messages(staff, query["delivery"], query.get("template"), query["page"],
                                           query["per_page"])
    return {**deliveries.summary(staff), "items": rows, "total": total, "page": query["page"],
            "per_page": query["per_page"]}


@bp.post("/messages/retry")
@bp.auth_required(auth)
@bp.input(s.RetryIn, arg_name="body")
@bp.output(s.RetryOut)
@bp.doc(summary="重新发送失败的消息（仅协调办；未授权的需用户重新授权）", responses=_errors(401, 403, 422))
def retry_deliveries(body):
    """Put failed messages back in the send queue."""
    return deliveries.retry(current_staff(), body["ids"])


@bp.get("/me/miniprogram-link")
@bp.auth_required(auth)
@bp.output(s.LinkStatusOut)
@bp.doc(summary="本账号的小程序绑定状态", responses=_errors(401))
def get_miniprogram_link():
    """Whether this account is linked to a mini-program login."""
    return staff_link.status_for_staff(current_staff())


@bp.post("/me/miniprogram-link/code")
@bp.auth_required(auth)
@bp.output(s.LinkCodeOut, status_code=201)
@bp.doc(summary="生成小程序绑定码（6位，10分钟内有效，一次有效）", responses=_errors(401))
def new_miniprogram_link_code():
    """A one-time code to type into the mini-program."""
    return staff_link.issue_code(current_staff())


@bp.delete("/me/miniprogram-link")
@bp.auth_required(auth)
@bp.output({}, status_code=204)
@bp.doc(summary="解除小程序绑定", responses=_errors(401, 404))
def delete_miniprogram_link():
    """Unlink this account's mini-program login."""
    staff_link.unlink_staff(current_staff())
    return ""
