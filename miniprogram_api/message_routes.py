"""The worker's messages (站内消息), subscribe-message consent (订阅消息授权) and a staff member's link."""
from flask import current_app

from app.extensions import limiter, per_token
from app.services.messaging import staff_link
from app.services.messaging import consent, inbox, subscriptions
from miniprogram_api import bp
from miniprogram_api import message_schemas as s
from miniprogram_api.auth import auth, current_worker
from miniprogram_api.vacancy_routes import _errors  # one helper for the mini-program's documented errors


def _profile_limit():
    return current_app.config["PROFILE_RATE_LIMIT"]


@bp.get("/subscriptions")
@bp.auth_required(auth)
@bp.output(s.SubscriptionsOut)
@bp.doc(summary="订阅消息：需请求授权的模板与剩余授权数", responses=_errors(401))
def get_subscriptions():
    """The templates to pass to wx.requestSubscribeMessage, and the worker's unused grants."""
    worker = current_worker()
    return {"templates": consent.offered(worker), "unused": subscriptions.unused_counts(worker)}


@bp.post("/subscriptions")
@limiter.limit(_profile_limit, key_func=per_token)
@bp.auth_required(auth)
@bp.input(s.SubscriptionResultsIn, arg_name="body")
@bp.output(s.SubscriptionsSavedOut)
@bp.doc(summary="提交 wx.requestSubscribeMessage 的授权结果（每个 accept 可收一条）",
        responses=_errors(401, 422, 429))
def post_subscriptions(body):
    """Record each accepted one-time grant."""
    return {"unused": consent.record(current_worker(), body["results"])}


@bp.get("/messages")
@bp.auth_required(auth)
@bp.input(s.MessagesQueryIn, location="query", arg_name="query")
@bp.output(s.MessagesOut)
@bp.doc(summary="我的消息（新的在前，before 翻页）", responses=_errors(401, 422))
def list_messages(query):
    """The worker's own messages, newest first, with the unread count and the next cursor."""
    worker = current_worker()
    rows, next_before = inbox.feed(worker, query["unread"], query.get("before"), query["limit"])
    return {"items": [inbox.view(m) for m in rows], "unread": inbox.unread_count(worker), "next_before": next_before}


@bp.post("/messages/read")
@bp.auth_required(auth)
@bp.input(s.MarkReadIn, arg_name="body")
@bp.output(s.MarkedOut)
@bp.doc(summary="标为已读（ids 或 all: true）", responses=_errors(401, 422))
def mark_messages_read(body):
    """Mark the worker's own messages read; ids of others' messages are ignored."""
    worker = current_worker()
    marked = inbox.mark_read(worker, body.get("ids"), everything=bool(body.get("all")))
    return {"marked": marked, "unread": inbox.unread_count(worker)}


@bp.get("/me/staff-link")
@bp.auth_required(auth)
@bp.output(s.StaffLinkOut)
@bp.doc(summary="工作人员绑定状态", responses=_errors(401))
def get_staff_link():
    """Whether this login is linked to a console account."""
    return staff_link.status_for_worker(current_worker())


@bp.post("/me/staff-link")
@limiter.limit(_profile_limit, key_func=per_token)
@bp.auth_required(auth)
@bp.input(s.StaffLinkIn, arg_name="body")
@bp.output(s.StaffLinkOut, status_code=201)
@bp.doc(summary="工作人员绑定控制台账号（输入控制台生成的6位绑定码）", responses=_errors(401, 409, 422, 429))
def post_staff_link(body):
    """Link this login to the console account that showed the code."""
    return staff_link.link(current_worker(), body["code"])


@bp.delete("/me/staff-link")
@bp.auth_required(auth)
@bp.output({}, status_code=204)
@bp.doc(summary="解除与控制台账号的绑定", responses=_errors(401, 404))
def delete_staff_link():
    """Unlink this login from its console account."""
    staff_link.unlink_worker(current_worker())
    return ""
