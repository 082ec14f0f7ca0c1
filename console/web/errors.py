"""Error pages of the console: an HTML page (or, for htmx, a message in the page's alert area), never JSON.

Outside the caller's scope the services answer 404, and the page says 未找到 like any missing
object; a role without the right gets the 403 page. The API keeps its JSON errors: these apply
only under /console.
"""
import logging

from flask import current_app, render_template, request
from werkzeug.exceptions import HTTPException

from app.errors import DomainError
from app.extensions import db
from console.web import bp

log = logging.getLogger(__name__)
TITLES = {400: "请求有误", 403: "无权访问", 404: "未找到", 405: "不支持该操作", 409: "与当前状态冲突",
          413: "内容过大", 422: "填写有误", 429: "操作过于频繁", 500: "系统出错", 503: "服务暂时不可用"}
DEFAULT_MESSAGES = {403: "当前账号的角色无权打开此页面或进行此操作。", 404: "该页面或对象不存在，或不在您的管辖范围内。",
                    405: "不支持该操作。", 500: "系统出错，请稍后再试；如多次出现请联系管理员。",
                    503: "服务暂时不可用，请稍后再试。"}


def error_page(status, code, message):
    """The console's answer for an error: a whole page, or an alert fragment for an htmx request."""
    message = message or DEFAULT_MESSAGES.get(status, "请求无法处理。")
    if request.headers.get("HX-Request"):
        # htmx swaps no 4xx/5xx answer; send the alert to the page's alert area instead.
        body = render_template("console/_alert.html", kind="danger", message=message)
        response = current_app.response_class(body, 200)
        response.headers["HX-Retarget"] = "#alerts"
        response.headers["HX-Reswap"] = "afterbegin"
        return response
    body = render_template("console/error.html", status=status, code=code, message=message,
                           title=TITLES.get(status, "出错了"))
    return body, status


@bp.errorhandler(DomainError)
def _domain_error(error):
    db.session.rollback()
    return error_page(error.status, error.code, error.message)


@bp.errorhandler(HTTPException)
def _http_error(error):
    db.session.rollback()
    return error_page(error.code or 500, "http_error", None)


@bp.errorhandler(Exception)
def _unexpected(error):
    db.session.rollback()
    log.exception("unhandled error in the console")
    return error_page(500, "internal_error", None)


@bp.record_once
def _pages_for_unmatched_console_urls(state):
    """A /console URL that matches no route (so no blueprint handler runs) still gets the 404 page."""
    state.app.extensions.setdefault("html_error_pages", []).append(("/console", error_page))
